#!/usr/bin/env bash
# bench/restore-apply.sh -- binlog apply: `mysql-pitr restore apply` (BatchBinlogApplier: whole
# transactions per round trip) against `mariadb-binlog | mariadb`, same range, same run.
#
# Steps (the reference scripts are in bench/ref/):
#   1. bench/ref/dump.sh: sysbench dataset (DUMP_TABLE_SIZE rows per table) and its dump, coordinates in dump.meta;
#   2. gen-load.sh SRC_PORT GEN_SECONDS: OLTP traffic after the dump (the replay range);
#   3. untimed: `mysql-pitr archive --until-caught-up` of the source into a file:// repository;
#   4. bench/ref/restore.sh with CANDIDATE_REPLAY_CMD = this script's --candidate mode, which is timed as a
#      whole: the catch-up of the archive (bench/ref/restore.sh flushes the binary logs first) plus
#      `restore apply --from START_FILE:START_POS --to-gtid <END_GTID> --binlog --yes` into the target.
#      bench/ref/restore.sh checks @@gtid_binlog_pos == END_GTID and CHECKSUM TABLE against the source.
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bash bench/restore-apply.sh
# Env:    BENCH_ROOT (default /tmp/bench-apply), SRC_PORT (3420), RESTORE_PORT (3421),
#         DUMP_TABLE_SIZE (default 100000), GEN_SECONDS (default 240), REPLAY_MAX_MB (default 300),
#         KEEP_DATA=1 keeps $BENCH_ROOT afterwards.
# Output: the reference's RESULT lines, then
#           RATIO restore_apply_seconds=<candidate seconds / mariadb-binlog|mariadb seconds>  (target < 1)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export BENCH_ROOT="${BENCH_ROOT:-/tmp/bench-apply}"
export SRC_PORT="${SRC_PORT:-3420}"
export RESTORE_PORT="${RESTORE_PORT:-3421}"
REPO="$BENCH_ROOT/apply-repo"
REPL_PASS_="${REPL_PASS:-replpw}"
REPL_USER_="${REPL_USER:-repl}"

archive_source() {
  MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS_" $PITR_CMD archive --source "mysql://$REPL_USER_@127.0.0.1:$SRC_PORT" \
    --repo "file://$REPO" --until-caught-up --log-level warn >/dev/null
}

if [[ ${1:-} == --candidate ]]; then
  # called by bench/ref/restore.sh with TARGET_* START_FILE START_POS END_GTID
  archive_source
  # END_GTID is a GTID position; the transaction to stop after is its domain-0 GTID (else the first)
  stop_gtid="$(tr ',' '\n' <<<"$END_GTID" | awk -F- '$1 == 0' | head -1)"
  [[ -n $stop_gtid ]] || stop_gtid="${END_GTID%%,*}"
  MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" $PITR_CMD restore apply --repo "file://$REPO" \
    --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" --from "$START_FILE:$START_POS" \
    --to-gtid "$stop_gtid" --binlog --yes --log-level warn
  exit 0
fi

source "$REF_BENCH/common.sh" # inst_stop, say (after bench/lib.sh: same BENCH_ROOT/SRC_PORT)
mkdir -p "$BENCH_ROOT"
OUT_FILE="$BENCH_ROOT/restore-apply.out"
cleanup() {
  inst_stop "$SRC_DIR" || true
  [[ ${KEEP_DATA:-0} == 1 ]] || rm -rf "$BENCH_ROOT"
}
trap cleanup EXIT

say "1. dataset and dump (DUMP_TABLE_SIZE=${DUMP_TABLE_SIZE:-100000})"
KEEP_SRC=1 WITH_MYDUMPER=0 DUMP_TABLE_SIZE="${DUMP_TABLE_SIZE:-100000}" DUMP_MIN_MB="${DUMP_MIN_MB:-20}" \
  bash "$REF_BENCH/dump.sh" >"$BENCH_ROOT/dump.out"
say "2. OLTP load for ${GEN_SECONDS:-240} s"
bash "$REF_BENCH/gen-load.sh" "$SRC_PORT" "${GEN_SECONDS:-240}" >"$BENCH_ROOT/gen-load.out"
say "3. archive the source (untimed) into file://$REPO"
rm -rf "$REPO"
archive_source
say "4. bench/ref/restore.sh with the candidate replay"
export CANDIDATE_REPLAY_CMD="bash $PROJECT_DIR/bench/restore-apply.sh --candidate"
KEEP_SRC=1 WITH_MYLOADER=0 REPLAY_MAX_MB="${REPLAY_MAX_MB:-300}" bash "$REF_BENCH/restore.sh" | tee "$OUT_FILE"

ref="$(result_field "$OUT_FILE" 'tool=mariadb-binlog|mariadb ' seconds)"
cand="$(result_field "$OUT_FILE" 'tool=candidate-replay ' seconds)"
echo "RESULT tool=restore-apply ref_seconds=${ref:-n/a} candidate_seconds=${cand:-n/a}" \
  "ref_trx_per_s=$(result_field "$OUT_FILE" 'tool=mariadb-binlog|mariadb ' trx_per_s)" \
  "candidate_trx_per_s=$(result_field "$OUT_FILE" 'tool=candidate-replay ' trx_per_s)" \
  "binlog_mb=$(result_field "$OUT_FILE" 'tool=candidate-replay ' binlog_mb)"
ratio restore_apply_seconds "$cand" "$ref"
