#!/usr/bin/env bash
# bench/table-restore.sh -- `restore pitr --tables` of 1 table of the 8 of the sysbench dataset
# (~1 GiB by default) against a full `restore pitr` to the same point, same run (issue 19: ≤ 0.2x).
#
# 1. bench/ref/dump.sh (the dataset, the reference `mariadb-dump | zstd`) with its CANDIDATE_DUMP_CMD
#    hook set to `mysql-pitr backup create` into a file:// repository, then bench/split-backup.ts
#    (parts per table, `rows` parts of SPLIT_CHUNK_MIB MiB of SQL, when `backup create` wrote one
#    dump; not timed).
# 2. A few sysbench OLTP writes on the source after the backup (WRITE_SECONDS, default 5), then
#    `mysql-pitr archive --until-caught-up` into the repository (not timed): both restores apply them.
# 3. Into a fresh instance: `restore pitr --tables sbtest.sbtest1 --into-schema side --to latest`,
#    timed; side.sbtest1 must equal the source's sbtest.sbtest1 by CHECKSUM TABLE.
# 4. Into another fresh instance: `restore pitr --to latest`, timed (under /usr/bin/time -v);
#    every sbtest table must equal the source's.
# Prints RESULT lines for both and
#   RATIO table_restore_seconds=<--tables seconds / full restore seconds>
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bench/table-restore.sh
# Env:    everything bench/ref/dump.sh takes (BENCH_ROOT, SRC_PORT, DUMP_TABLE_SIZE, DUMP_MIN_MB, ...);
#         RESTORE_PORT (3311), LOAD_THREADS (2), SPLIT_CHUNK_MIB (32), WRITE_SECONDS (5).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_DIR"
source "$REF_BENCH/common.sh"

RESTORE_PORT="${RESTORE_PORT:-3311}"
LOAD_THREADS="${LOAD_THREADS:-2}"
SPLIT_CHUNK_MIB="${SPLIT_CHUNK_MIB:-32}"
WRITE_SECONDS="${WRITE_SECONDS:-5}"
export SPLIT_CHUNK_MIB WITH_MYDUMPER="${WITH_MYDUMPER:-0}"
REPO_DIR="$BENCH_ROOT/dump/candidate/repo"
TARGET_DIR="$BENCH_ROOT/table-restore-target"

# shellcheck disable=SC2016  # expanded later, by dump.sh's bash -c
export CANDIDATE_DUMP_CMD='MYSQL_PITR_SOURCE_PASSWORD="$SRC_PASS" '"$PITR_CMD"' backup create \
  --source "mysql://$SRC_USER@$SRC_HOST:$SRC_PORT" --repo "file://$CAND_DUMP_DIR/repo" --json > /dev/null \
  && node --import tsx '"$PROJECT_DIR"'/bench/split-backup.ts "file://$CAND_DUMP_DIR/repo" "$SPLIT_CHUNK_MIB" >&2'
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
KEEP_SRC=1 bash "$REF_BENCH/dump.sh"

on_exit() {
  inst_stop "$TARGET_DIR"
  source_down
}
trap on_exit EXIT
source_up
SRC_OURS=1 # dump.sh left it running (KEEP_SRC=1): stop it at the end

say "sysbench writes for ${WRITE_SECONDS}s after the backup"
# shellcheck disable=SC2046
sysbench oltp_read_write $(sb_args "$SRC_PORT") --threads=2 --time="$WRITE_SECONDS" run >"$BENCH_ROOT/table-restore-writes.log" 2>&1
say "archive --until-caught-up"
MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS" $PITR_CMD archive --source "mysql://$REPL_USER@127.0.0.1:$SRC_PORT" \
  --repo "file://$REPO_DIR" --until-caught-up >"$BENCH_ROOT/table-restore-archive.log" 2>&1
src_sums=$(sb_checksums "$SRC_PORT")
src_t1=$(inst_sql "$SRC_PORT" "CHECKSUM TABLE $SB_DB.sbtest1" | awk '{print $2}')

fresh() {
  inst_stop "$TARGET_DIR"
  rm -rf "$TARGET_DIR" "$TARGET_DIR.tmp"
  inst_start "$RESTORE_PORT" "$TARGET_DIR" 3
}
RESTORE="MYSQL_PITR_TARGET_PASSWORD=$BENCH_PASS /usr/bin/time -v -o $BENCH_ROOT/NAME-time.txt $PITR_CMD restore pitr \
  --repo file://$REPO_DIR --to latest --yes --no-progress --load-threads $LOAD_THREADS \
  --target mysql://$BENCH_USER@127.0.0.1:$RESTORE_PORT"

fresh
timed table-restore "${RESTORE//NAME/table-restore} --tables $SB_DB.sbtest1 --into-schema side"
t_table=$WALL
got=$(inst_sql "$RESTORE_PORT" "CHECKSUM TABLE side.sbtest1" | awk '{print $2}')
[[ $got == "$src_t1" ]] || fail "side.sbtest1 checksum $got, source sbtest1 $src_t1"
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_ROOT/table-restore-time.txt")
echo "RESULT tool=mysql-pitr-restore-tables tables=1/$SB_TABLES seconds=$t_table user_s=$USER_S sys_s=$SYS_S peak_rss_kb=$rss load_average=$(cut -d' ' -f1 /proc/loadavg)"

fresh
timed full-restore "${RESTORE//NAME/full-restore}"
t_full=$WALL
got=$(sb_checksums "$RESTORE_PORT")
[[ $got == "$src_sums" ]] || fail "restored checksums differ: $got vs $src_sums"
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_ROOT/full-restore-time.txt")
echo "RESULT tool=mysql-pitr-restore-pitr seconds=$t_full user_s=$USER_S sys_s=$SYS_S peak_rss_kb=$rss load_average=$(cut -d' ' -f1 /proc/loadavg)"
ratio table_restore_seconds "$t_table" "$t_full"
