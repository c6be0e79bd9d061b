#!/usr/bin/env bash
# bench/restore-load.sh -- `mysql-pitr restore backup` (parallel load of a split backup) against
# `zstd -dc dump.sql.zst | mariadb`, same data, same run, in two shapes of the sysbench dataset:
#   tables8   8 equal tables (DUMP_TABLE_SIZE rows each, ~1 GiB by default);
#   big1      one table holding all of them (SB_TABLES=1, 8 x DUMP_TABLE_SIZE rows), which loads
#             as many `rows` parts (primary-key order chunks) on every session at once.
# For each shape:
# 1. Runs bench/ref/dump.sh with its CANDIDATE_DUMP_CMD hook set to `mysql-pitr backup create`
#    into a file:// repository under the candidate's dump directory, then bench/split-backup.ts
#    (cuts it into parts, `rows` parts of SPLIT_CHUNK_MIB MiB of SQL, when `backup create` wrote
#    one dump; the split is not timed).
# 2. Runs bench/ref/restore.sh, which times the reference load into a fresh instance (binlog on, as
#    the reference scripts do) and then, with CANDIDATE_LOAD_CMD, times `mysql-pitr restore backup
#    --backup latest --yes` from that repository into another fresh instance (under
#    /usr/bin/time -v for the peak RSS); both are verified by CHECKSUM TABLE against the dump-time
#    values. The replay step is kept small (REPLAY_MAX_MB=1, REPLAY_GEN_SECONDS=5).
# Prints the reference scripts' RESULT lines, then per shape
#   RESULT tool=mysql-pitr-restore-backup shape=... peak_rss_kb=... cpu_user_sys_s=...
#          target_server_cpu_s=... (the target mariadbd's CPU over the load) load_threads=... seconds=...
#   RATIO restore_load_seconds_<shape>=<mysql-pitr seconds / zstd -dc|mariadb seconds>
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bench/restore-load.sh
# Env:    everything bench/ref/dump.sh and restore.sh take (SRC_PORT, RESTORE_PORT, DUMP_TABLE_SIZE,
#         DUMP_MIN_MB, ...); BENCH_ROOT (default /tmp/bench; each shape in BENCH_ROOT/<shape>);
#         SHAPES (default "tables8 big1"); LOAD_THREADS (default 2) for --load-threads;
#         SPLIT_CHUNK_MIB (default 32); BACKUP_CHUNK_SIZE (`backup create --chunk-size`, default its
#         own 64MiB: a smaller one gives a small dataset's tables several chunks, as 1 GiB's have).
#         COMPARE_DEFER_KEYS=1: before the timed load, the candidate hook also loads the backup with
#         `--no-defer-keys` into the same fresh target (then drops the sbtest database), and prints
#           RESULT tool=mysql-pitr-restore-backup-no-defer-keys shape=... target_server_cpu_s=... seconds=...
#         so the secondary keys created with the tables (before) and after the rows (now, the
#         default) are compared in the same run; the ratio is the default load's. COMPARE_DEFER_KEYS=after:
#         the --no-defer-keys load after the default one instead (the first load of a fresh server
#         may differ; the checksums verify the last load).
#         A quick run on a small dataset:
#           BENCH_ROOT=/tmp/bench-small SRC_PORT=3400 RESTORE_PORT=3401 DUMP_TABLE_SIZE=50000 \
#           DUMP_MIN_MB=1 bench/restore-load.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_DIR"   # `node --import tsx` resolves tsx from the working directory

ROOT="${BENCH_ROOT:-/tmp/bench}"
LOAD_THREADS="${LOAD_THREADS:-2}"
SHAPES="${SHAPES:-tables8 big1}"
SPLIT_CHUNK_MIB="${SPLIT_CHUNK_MIB:-32}"
TABLE_SIZE="${DUMP_TABLE_SIZE:-550000}"
export LOAD_THREADS SPLIT_CHUNK_MIB
export WITH_MYDUMPER="${WITH_MYDUMPER:-0}" WITH_MYLOADER="${WITH_MYLOADER:-0}"
export REPLAY_MAX_MB="${REPLAY_MAX_MB:-1}" REPLAY_GEN_SECONDS="${REPLAY_GEN_SECONDS:-5}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

# Both hooks run under `bash -c` in the reference scripts, which export SRC_* / TARGET_* and
# CAND_DUMP_DIR. Passwords reach mysql-pitr through the environment, never argv.
# shellcheck disable=SC2016  # expanded later, by the reference scripts' bash -c
export CANDIDATE_DUMP_CMD='MYSQL_PITR_SOURCE_PASSWORD="$SRC_PASS" '"$PITR_CMD"' backup create \
  --source "mysql://$SRC_USER@$SRC_HOST:$SRC_PORT" --repo "file://$CAND_DUMP_DIR/repo" '"${BACKUP_CHUNK_SIZE:+--chunk-size $BACKUP_CHUNK_SIZE}"' --json > "$CAND_DUMP_DIR/../pitr-manifest.json" \
  && node --import tsx '"$PROJECT_DIR"'/bench/split-backup.ts "file://$CAND_DUMP_DIR/repo" "$SPLIT_CHUNK_MIB" >&2'
# server_cpu_s SOCKET: user+sys CPU seconds of the mariadbd whose socket it is (the target's work).
server_cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$(cat "$(dirname "$1")/mariadbd.pid")/stat"; }
export -f server_cpu_s
# shellcheck disable=SC2016
NO_DEFER_LOAD='c0=$(server_cpu_s "$TARGET_SOCKET") && t0=$(date +%s.%N) && MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" \
  '"$PITR_CMD"' restore backup --repo "file://$CAND_DUMP_DIR/repo" --backup latest --yes --json --no-defer-keys \
  --load-threads "$LOAD_THREADS" --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" > /dev/null \
  && echo "$c0 $(server_cpu_s "$TARGET_SOCKET") $t0 $(date +%s.%N)" > "$BENCH_ROOT/pitr-nodefer-cpu.txt"'
# shellcheck disable=SC2016
DROP_SBTEST='mariadb --no-defaults --socket="$TARGET_SOCKET" -u"$TARGET_USER" -p"$TARGET_PASS" -e "DROP DATABASE sbtest"'
# shellcheck disable=SC2016
DEFAULT_LOAD='c0=$(server_cpu_s "$TARGET_SOCKET") && t0=$(date +%s.%N) && MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" /usr/bin/time -v -o "$BENCH_ROOT/pitr-load-time.txt" \
  '"$PITR_CMD"' restore backup --repo "file://$CAND_DUMP_DIR/repo" --backup latest --yes --json \
  --load-threads "$LOAD_THREADS" --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" > "$BENCH_ROOT/pitr-load.json" \
  && echo "$c0 $(server_cpu_s "$TARGET_SOCKET") $t0 $(date +%s.%N)" > "$BENCH_ROOT/pitr-server-cpu.txt"'
COMPARE_DEFER_KEYS="${COMPARE_DEFER_KEYS:-0}"
case $COMPARE_DEFER_KEYS in
  0) CANDIDATE_LOAD_CMD="$DEFAULT_LOAD" ;;
  1) CANDIDATE_LOAD_CMD="$NO_DEFER_LOAD && $DROP_SBTEST && $DEFAULT_LOAD" ;;
  after) CANDIDATE_LOAD_CMD="$DEFAULT_LOAD && $DROP_SBTEST && $NO_DEFER_LOAD" ;;
  *) echo "COMPARE_DEFER_KEYS=$COMPARE_DEFER_KEYS: give 0, 1 or after" >&2; exit 2 ;;
esac
export CANDIDATE_LOAD_CMD

for shape in $SHAPES; do
  case $shape in
    tables8) export SB_TABLES=8 DUMP_TABLE_SIZE="$TABLE_SIZE" ;;
    big1) export SB_TABLES=1 DUMP_TABLE_SIZE=$((TABLE_SIZE * 8)) ;;
    *) echo "unknown shape $shape (tables8, big1)" >&2; exit 2 ;;
  esac
  export BENCH_ROOT="$ROOT/$shape"
  mkdir -p "$BENCH_ROOT"
  : >"$OUT"
  echo "SHAPE $shape: $SB_TABLES table(s) x $DUMP_TABLE_SIZE rows; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  bash "$REF_BENCH/dump.sh" | tee "$OUT"
  bash "$REF_BENCH/restore.sh" | tee -a "$OUT"
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_ROOT/pitr-load-time.txt")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u "+" s}' "$BENCH_ROOT/pitr-load-time.txt")
  srv=$(awk '{ printf "%.2f", $2 - $1 }' "$BENCH_ROOT/pitr-server-cpu.txt")
  ours=$(result_field "$OUT" 'tool=candidate-load' seconds)
  # with COMPARE_DEFER_KEYS the hook ran two loads: the default one's own time
  [[ $COMPARE_DEFER_KEYS != 0 ]] && ours=$(awk '{ printf "%.3f", $4 - $3 }' "$BENCH_ROOT/pitr-server-cpu.txt")
  echo "RESULT tool=mysql-pitr-restore-backup shape=$shape peak_rss_kb=$rss cpu_user_sys_s=$cpu target_server_cpu_s=$srv load_threads=$LOAD_THREADS seconds=$ours load_average_after=$(cut -d' ' -f1 /proc/loadavg)"
  if [[ $COMPARE_DEFER_KEYS != 0 ]]; then
    awk -v shape="$shape" '{ printf "RESULT tool=mysql-pitr-restore-backup-no-defer-keys shape=%s target_server_cpu_s=%.2f seconds=%.3f\n", shape, $2 - $1, $4 - $3 }' "$BENCH_ROOT/pitr-nodefer-cpu.txt"
  fi
  ratio "restore_load_seconds_$shape" "$ours" "$(result_field "$OUT" 'tool=zstd-dc|mariadb' seconds)"
done
