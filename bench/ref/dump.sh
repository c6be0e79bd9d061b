#!/usr/bin/env bash
# bench/ref/dump.sh -- reference logical backup: `mariadb-dump --single-transaction --master-data=2
# --all-databases --routines --events --triggers | zstd -3`, on the sysbench dataset of the source.
#
# 1. Makes sure the source holds SB_TABLES sysbench tables of at least DUMP_MIN_MB (data + index,
#    after ANALYZE); re-creates them with DUMP_TABLE_SIZE rows per table otherwise.
# 2. Times the dump (the source is idle), measures the SQL size afterwards (not timed), reads the
#    dump's binlog coordinates from its commented CHANGE MASTER line and their GTID
#    (BINLOG_GTID_POS), and writes them with CHECKSUM TABLE of every sysbench table to
#    $BENCH_ROOT/dump/dump.meta (read by restore.sh).
# 3. CANDIDATE_DUMP_CMD (optional) runs with `bash -c` and SRC_HOST SRC_PORT SRC_USER SRC_PASS
#    REPL_USER REPL_PASS CAND_DUMP_DIR (an empty directory to fill; restore.sh hands the same one to
#    CANDIDATE_LOAD_CMD) exported; timed, its output in $BENCH_ROOT/dump/candidate.log.
#
# Env:    DUMP_TABLE_SIZE (default 550000), DUMP_MIN_MB (default 800), KEEP_SRC=1.
# Output: RESULT lines: dataset_*, tool=mariadb-dump+zstd3, dump_binlog_file=/dump_binlog_pos=,
#         tool=candidate-dump.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DUMP_TABLE_SIZE="${DUMP_TABLE_SIZE:-550000}"
DUMP_MIN_MB="${DUMP_MIN_MB:-800}"
DUMP_DIR="$BENCH_ROOT/dump"
need_tools mariadbd mariadb mariadb-dump zstd sysbench
mkdir -p "$BENCH_ROOT"
trap source_down EXIT
source_up
machine_line >&2

analyze() {
  local t
  for ((t = 1; t <= SB_TABLES; t++)); do inst_sql "$SRC_PORT" "ANALYZE NO_WRITE_TO_BINLOG TABLE $SB_DB.sbtest$t" >/dev/null; done
}
if sb_exists "$SRC_PORT"; then
  analyze
  if (($(sb_size_bytes "$SRC_PORT") < DUMP_MIN_MB * 1048576)); then
    say "$SB_DB is smaller than $DUMP_MIN_MB MiB: re-creating it with $DUMP_TABLE_SIZE rows per table"
    inst_sql "$SRC_PORT" "DROP DATABASE $SB_DB"
    sb_prepare "$SRC_PORT" "$DUMP_TABLE_SIZE"
  fi
else
  t0=$(clock)
  sb_prepare "$SRC_PORT" "$DUMP_TABLE_SIZE"
  echo "RESULT prepare_table_size=$DUMP_TABLE_SIZE prepare_tables=$SB_TABLES prepare_s=$(since "$t0")"
fi
analyze
DATA=$(sb_size_bytes "$SRC_PORT")
ROWS=0
for ((t = 1; t <= SB_TABLES; t++)); do ROWS=$((ROWS + $(inst_sql "$SRC_PORT" "SELECT COUNT(*) FROM $SB_DB.sbtest$t"))); done
echo "RESULT dataset_db=$SB_DB tables=$SB_TABLES rows=$ROWS data_index_bytes=$DATA data_index_mb=$(mib "$DATA")"

rm -rf "$DUMP_DIR"
mkdir -p "$DUMP_DIR"
say "mariadb-dump --single-transaction --master-data=2 --all-databases --routines --events --triggers | zstd -3"
timed dump "mariadb-dump --no-defaults --protocol=TCP -h127.0.0.1 -P$SRC_PORT -u$BENCH_USER -p$BENCH_PASS \
  --single-transaction --master-data=2 --all-databases --routines --events --triggers | zstd -q -3 > $DUMP_DIR/all.sql.zst"
ZST=$(stat -c %s "$DUMP_DIR/all.sql.zst")
SQL=$(zstd -q -d -c "$DUMP_DIR/all.sql.zst" | wc -c)
echo "RESULT tool=mariadb-dump+zstd3 seconds=$WALL user_s=$USER_S sys_s=$SYS_S sql_bytes=$SQL sql_mb=$(mib "$SQL") zst_bytes=$ZST zst_mb=$(mib "$ZST") ratio=$(per_s "$SQL" "$ZST") sql_mb_per_s=$(mib_per_s "$SQL" "$WALL") data_mb_per_s=$(mib_per_s "$DATA" "$WALL") rows_per_s=$(per_s "$ROWS" "$WALL")"

# --master-data=2 writes the coordinates as a comment near the top of the dump
line=$(zstd -q -d -c "$DUMP_DIR/all.sql.zst" | head -c 1000000 | grep -m1 'CHANGE MASTER TO' || true)
[[ -n $line ]] || fail "the dump has no CHANGE MASTER line"
FILE=$(sed -E "s/.*MASTER_LOG_FILE='([^']+)'.*/\1/" <<<"$line")
POS=$(sed -E 's/.*MASTER_LOG_POS=([0-9]+).*/\1/' <<<"$line")
GTID=$(inst_sql "$SRC_PORT" "SELECT BINLOG_GTID_POS('$FILE', $POS)")
cat >"$DUMP_DIR/dump.meta" <<META
dump_file=$DUMP_DIR/all.sql.zst
binlog_file=$FILE
binlog_pos=$POS
gtid=$GTID
rows=$ROWS
sql_bytes=$SQL
data_index_bytes=$DATA
checksums="$(sb_checksums "$SRC_PORT")"
META
echo "RESULT dump_binlog_file=$FILE dump_binlog_pos=$POS dump_gtid=$GTID"

if [[ -n ${CANDIDATE_DUMP_CMD:-} ]]; then
  export CAND_DUMP_DIR="$DUMP_DIR/candidate" SRC_HOST=127.0.0.1 SRC_USER="$BENCH_USER" SRC_PASS="$BENCH_PASS"
  mkdir -p "$CAND_DUMP_DIR"
  say "candidate: $CANDIDATE_DUMP_CMD"
  timed candidate "$CANDIDATE_DUMP_CMD" "$DUMP_DIR"
  out=$(du -sb "$CAND_DUMP_DIR" | cut -f1)
  echo "RESULT tool=candidate-dump seconds=$WALL user_s=$USER_S sys_s=$SYS_S out_bytes=$out out_mb=$(mib "$out") data_mb_per_s=$(mib_per_s "$DATA" "$WALL") rows_per_s=$(per_s "$ROWS" "$WALL")"
fi
