#!/usr/bin/env bash
# bench/optimize-keys-probe.sh -- does loading an InnoDB table without its plain secondary keys and
# adding them afterwards in one `ALTER TABLE ... ADD KEY ..., ADD KEY ...` (a sorted index build,
# as myloader's --optimize-keys does) cost the target server less CPU than loading the rows into
# the table with all its keys (random inserts into each secondary B-tree), as `restore backup`
# loads a split backup's `rows` parts today (autocommit INSERTs, UNIQUE_CHECKS=0)?
#
# Two shapes, PROBE_ROWS rows each, generated with the sequence engine and dumped once with
# mariadb-dump (extended INSERTs):
#   sysbench  id INT PK, k INT, c CHAR(120), pad CHAR(60); KEY k_1 (k)
#   userlike  id BIGINT PK + 7 columns; 4 secondary keys: int, varchar prefix(20), composite
#             (tinyint, datetime), datetime
# Variants per shape, ROUNDS times, interleaved:
#   with-keys     CREATE TABLE as dumped, then the INSERTs;
#   keys-after    CREATE TABLE without the secondary keys, the INSERTs, then one ALTER TABLE
#                 ADD KEY ... for all of them.
# Prints  RESULT shape=... variant=... seconds=... server_cpu_s=... alter_cpu_s=... load_average=...
# where server_cpu_s is the target mariadbd's user+sys CPU over the whole variant (INSERTs plus the
# ALTER) and alter_cpu_s the ALTER's share.
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bench/optimize-keys-probe.sh
# Env:    BENCH_ROOT (default /tmp/bench-keys), SRC_PORT (default 3492), PROBE_ROWS (default
#         400000), ROUNDS (default 2), SHAPES (default "sysbench userlike"), DB_EXTRA_OPTS, KEEP_SRC=1.
set -euo pipefail
export BENCH_ROOT="${BENCH_ROOT:-/tmp/bench-keys}" SRC_PORT="${SRC_PORT:-3492}"
source "$(dirname "${BASH_SOURCE[0]}")/ref/common.sh"
ROWS="${PROBE_ROWS:-400000}"
ROUNDS="${ROUNDS:-2}"
SHAPES="${SHAPES:-sysbench userlike}"
need_tools mariadbd mariadb mariadb-dump
mkdir -p "$BENCH_ROOT"
W="$(mktemp -d "$BENCH_ROOT/probe.XXXXXX")"
trap 'source_down; rm -rf "$W"' EXIT
source_up
machine_line >&2

client() { mariadb --no-defaults --socket="$SRC_DIR/mysql.sock" -uroot -N -B "--init-command=SET SESSION sql_log_bin=0" "$@"; }
server_cpu() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$(inst_pid "$SRC_DIR")/stat"; }

# Per shape: the table with its keys, the table without its secondary keys, the ALTER.
ddl_keys_sysbench='CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT "", pad CHAR(60) NOT NULL DEFAULT "", PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB'
ddl_bare_sysbench='CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT "", pad CHAR(60) NOT NULL DEFAULT "", PRIMARY KEY (id)) ENGINE=InnoDB'
alter_sysbench='ALTER TABLE t ADD KEY k_1 (k)'
fill_sysbench="INSERT INTO t SELECT seq, FLOOR(RAND(seq) * $ROWS), LEFT(SHA2(seq, 512), 119), MD5(seq) FROM seq_1_to_$ROWS"
ddl_keys_userlike='CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT, account_id INT NOT NULL,
  email VARCHAR(120) NOT NULL, name VARCHAR(80) NOT NULL, status TINYINT NOT NULL, created DATETIME NOT NULL,
  score DOUBLE NOT NULL, note VARCHAR(200) NULL, PRIMARY KEY (id), KEY ix_account (account_id),
  KEY ix_email (email(20)), KEY ix_status_created (status, created), KEY ix_created (created)) ENGINE=InnoDB'
ddl_bare_userlike='CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT, account_id INT NOT NULL,
  email VARCHAR(120) NOT NULL, name VARCHAR(80) NOT NULL, status TINYINT NOT NULL, created DATETIME NOT NULL,
  score DOUBLE NOT NULL, note VARCHAR(200) NULL, PRIMARY KEY (id)) ENGINE=InnoDB'
alter_userlike='ALTER TABLE t ADD KEY ix_account (account_id), ADD KEY ix_email (email(20)),
  ADD KEY ix_status_created (status, created), ADD KEY ix_created (created)'
fill_userlike="INSERT INTO t SELECT seq, FLOOR(RAND(seq) * 50000), CONCAT(MD5(seq), '@example.com'),
  CONCAT('user ', SHA1(seq)), seq % 5, '2020-01-01' + INTERVAL FLOOR(RAND(seq * 7) * 100000000) SECOND,
  RAND(seq * 3) * 1000, IF(seq % 3 = 0, NULL, REPEAT(MD5(seq * 11), 2)) FROM seq_1_to_$ROWS"

for shape in $SHAPES; do
  ddl_keys="ddl_keys_$shape" fill="fill_$shape"
  client -e "DROP DATABASE IF EXISTS keysrc; CREATE DATABASE keysrc; USE keysrc; ${!ddl_keys}; ${!fill}"
  mariadb-dump --no-defaults --socket="$SRC_DIR/mysql.sock" -uroot --no-create-info --skip-disable-keys \
    --skip-add-locks keysrc t >"$W/$shape.sql"
  say "$shape: $(mib "$(stat -c %s "$W/$shape.sql")") MiB of INSERT statements, $ROWS rows"
  client -e "DROP DATABASE keysrc"
done

run_variant() {
  local shape=$1 v=$2 c0 c1 ca t0 secs ddl alter
  ddl="ddl_keys_$shape"
  [[ $v == keys-after ]] && ddl="ddl_bare_$shape"
  alter="alter_$shape"
  client -e "DROP DATABASE IF EXISTS keyprobe; CREATE DATABASE keyprobe; USE keyprobe; ${!ddl}"
  c0=$(server_cpu)
  t0=$(clock)
  { echo "SET UNIQUE_CHECKS=0, FOREIGN_KEY_CHECKS=0; USE keyprobe;"; cat "$W/$shape.sql"; } | client
  ca=$(server_cpu)
  [[ $v == keys-after ]] && client -e "USE keyprobe; ${!alter}"
  secs=$(since "$t0")
  c1=$(server_cpu)
  [[ "$(client -e 'SELECT COUNT(*) FROM keyprobe.t')" == "$ROWS" ]] || fail "$shape $v: row count"
  echo "RESULT shape=$shape variant=$v seconds=$secs server_cpu_s=$(echo "$c1 - $c0" | bc) alter_cpu_s=$(echo "$c1 - $ca" | bc) load_average=$(cut -d' ' -f1 /proc/loadavg)"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for shape in $SHAPES; do
    for v in with-keys keys-after; do run_variant "$shape" "$v"; done
  done
done
client -e "DROP DATABASE IF EXISTS keyprobe"
