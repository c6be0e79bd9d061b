#!/usr/bin/env bash
# bench/bulk-insert-probe.sh -- does MariaDB's InnoDB bulk insert (MDEV-24621, 10.6+: the first
# INSERT into an EMPTY table in a transaction with unique_checks=0 and foreign_key_checks=0 writes one
# undo record for the table and builds its indexes by sorting, at COMMIT) make a dump's rows load
# faster than the statements one by one (autocommit), as `restore backup` sends a `rows` part?
#
# On the sysbench table of the source instance (SB_TABLES=1, PROBE_ROWS rows), dumped once with
# mariadb-dump, each variant loads the same INSERT statements into a fresh copy of the table in
# schema `bulkprobe` through the `mariadb` client (sql_log_bin=0), and prints
#   RESULT variant=... seconds=... server_cpu_s=... rows=... rows_modified_before_commit=...
# where server_cpu_s is the target mariadbd's user+sys CPU over the load (robust on a busy
# machine, unlike the wall time) and rows_modified_before_commit (transaction variants) is
# information_schema.innodb_trx.trx_rows_modified of the loading session just before its COMMIT:
# 1 when InnoDB took the bulk path (one table-level undo record), the row count when it did not.
# Variants, ROUNDS times, interleaved:
#   autocommit      the part's session settings (UNIQUE_CHECKS=0, FOREIGN_KEY_CHECKS=0), then each
#                   INSERT its own transaction: what load-backup-parts.ts does;
#   bulk-trx        the same inside BEGIN ... COMMIT: the MDEV-24621 bulk path;
#   rowundo-trx     the same transaction with unique_checks=1 (no bulk path: row undo logging);
#   autocommit-2    the INSERTs in two halves on two sessions at once (two `rows` chunks);
#   autocommit-2t   the two halves on two sessions at once, each into its own table (the second a
#                   copy of the first: two tables' chunks at once);
#   bulk-trx-2      each half in its own bulk transaction on its own session (the second waits
#                   for the table lock of the first, or is no longer on an empty table).
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bench/bulk-insert-probe.sh
# Env:    BENCH_ROOT (default /tmp/bench-bulk), SRC_PORT (default 3490), PROBE_ROWS (default
#         400000), ROUNDS (default 2), VARIANTS (default all five), DB_EXTRA_OPTS (e.g.
#         --innodb-buffer-pool-size=64M; the reference instances use 1G), KEEP_SRC=1.
set -euo pipefail
export BENCH_ROOT="${BENCH_ROOT:-/tmp/bench-bulk}" SRC_PORT="${SRC_PORT:-3490}" SB_TABLES=1
source "$(dirname "${BASH_SOURCE[0]}")/ref/common.sh"
ROWS="${PROBE_ROWS:-400000}"
ROUNDS="${ROUNDS:-2}"
VARIANTS="${VARIANTS:-autocommit bulk-trx rowundo-trx autocommit-2 autocommit-2t bulk-trx-2}"
need_tools mariadbd mariadb mariadb-dump sysbench
mkdir -p "$BENCH_ROOT"
W="$(mktemp -d "$BENCH_ROOT/probe.XXXXXX")"
trap 'source_down; rm -rf "$W"' EXIT
source_up
machine_line >&2
if ! sb_exists "$SRC_PORT" || [[ "$(inst_sql "$SRC_PORT" "SELECT COUNT(*) FROM $SB_DB.sbtest1")" != "$ROWS" ]]; then
  inst_sql "$SRC_PORT" "DROP DATABASE IF EXISTS $SB_DB"
  sb_prepare "$SRC_PORT" "$ROWS"
fi

# The dump, cut as a split backup cuts it: its preamble's session settings, the table's DDL, the
# data statements (LOCK TABLES and ALTER TABLE ... DISABLE/ENABLE KEYS left out), in two halves.
mariadb-dump --no-defaults --socket="$SRC_DIR/mysql.sock" -uroot "$SB_DB" sbtest1 >"$W/dump.sql"
sed -n '1,/SQL_NOTES=0/p' "$W/dump.sql" >"$W/header.sql"
sed -n '/^DROP TABLE/,/^\/\*!40101 SET character_set_client = @saved/p' "$W/dump.sql" >"$W/ddl.sql"
awk '/^INSERT INTO/ { p = 1 } /ENABLE KEYS/ { p = 0 } p' "$W/dump.sql" >"$W/data.sql"
n_ins=$(grep -c '^INSERT INTO' "$W/data.sql")
awk -v h=$((n_ins / 2)) -v w="$W" '/^INSERT INTO/ { n++ } { print > (w (n <= h ? "/h1.sql" : "/h2.sql")) }' "$W/data.sql"
sed 's/^INSERT INTO `sbtest1`/INSERT INTO `sbtest1b`/' "$W/h2.sql" >"$W/h2b.sql"
say "dump: $(mib "$(stat -c %s "$W/data.sql")") MiB of INSERT statements ($n_ins statements, $ROWS rows)"

client() { mariadb --no-defaults --socket="$SRC_DIR/mysql.sock" -uroot -N -B "--init-command=SET SESSION sql_log_bin=0" "$@"; }
server_cpu() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$(inst_pid "$SRC_DIR")/stat"; }
# script PART BEGIN_STATEMENTS: the statements one session sends.
script() {
  cat "$W/header.sql"
  echo "USE bulkprobe;"
  [[ -n $2 ]] && echo "$2"
  cat "$W/$1"
  if [[ -n $2 ]]; then
    echo "SELECT CONCAT('rows_modified=', trx_rows_modified) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID();"
    echo "COMMIT;"
  fi
}

run_variant() {
  local v=$1 c0 c1 t0 out
  client -e "DROP DATABASE IF EXISTS bulkprobe; CREATE DATABASE bulkprobe"
  (cat "$W/header.sql"; echo "USE bulkprobe;"; cat "$W/ddl.sql"; sed 's/`sbtest1`/`sbtest1b`/' "$W/ddl.sql") | client
  out="$W/out.$v"
  rm -f "$out" "$out.2"
  c0=$(server_cpu)
  t0=$(clock)
  # `wait $!`, not `wait`: the source's mariadbd may be a background job of this shell.
  case $v in
    autocommit) script data.sql '' | client >"$out" ;;
    bulk-trx) script data.sql 'BEGIN;' | client >"$out" ;;
    rowundo-trx) script data.sql 'SET unique_checks=1; BEGIN;' | client >"$out" ;;
    autocommit-2)
      script h1.sql '' | client >"$out" &
      script h2.sql '' | client >"$out.2"
      wait $! ;;
    autocommit-2t)
      script h1.sql '' | client >"$out" &
      script h2b.sql '' | client >"$out.2"
      wait $! ;;
    bulk-trx-2)
      script h1.sql 'BEGIN;' | client >"$out" &
      script h2.sql 'BEGIN;' | client >"$out.2"
      wait $! ;;
    *) fail "unknown variant $v" ;;
  esac
  local secs
  secs=$(since "$t0")
  c1=$(server_cpu)
  local rows modified
  rows=$(client -e "SELECT (SELECT COUNT(*) FROM bulkprobe.sbtest1) + (SELECT COUNT(*) FROM bulkprobe.sbtest1b)")
  modified=$(cat "$out" "$out.2" 2>/dev/null | sed -n 's/^rows_modified=//p' | paste -sd/ -)
  [[ $rows == "$ROWS" ]] || fail "$v loaded $rows rows, not $ROWS"
  echo "RESULT variant=$v seconds=$secs server_cpu_s=$(echo "$c1 - $c0" | bc) rows=$rows rows_modified_before_commit=${modified:-n/a} load_average=$(cut -d' ' -f1 /proc/loadavg)"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for v in $VARIANTS; do run_variant "$v"; done
done
client -e "DROP DATABASE IF EXISTS bulkprobe"
