#!/usr/bin/env bash
# bench/restore-pitr.sh -- the whole point-in-time restore, end to end, against
# `zstd -dc dump.sql.zst | mariadb` + `mariadb-binlog | mariadb` in the same run (issue 6).
#
# A restore is a dump load followed by a binlog apply; `restore pitr` runs the two in one command.
# Here they are timed as the reference script times its two steps, on one fresh instance, so load
# and apply are reported separately, each against its reference:
#   1. bench/ref/dump.sh: the ~1 GiB sysbench dataset and its dump, with CANDIDATE_DUMP_CMD =
#      `mysql-pitr backup create` into a file:// repository;
#   2. gen-load.sh SRC_PORT GEN_SECONDS: OLTP traffic after the dump (the replay range);
#   3. untimed: `mysql-pitr archive --until-caught-up` of the source into the same repository;
#   4. bench/ref/restore.sh, which times the reference load and replay into one fresh instance, then into
#      another fresh instance CANDIDATE_LOAD_CMD = `restore backup --backup latest` (the parallel
#      load `restore pitr` uses) followed by CANDIDATE_REPLAY_CMD = the archive's catch-up (the
#      script flushes the binary logs first) + `restore apply --from <dump coordinates> --to-gtid
#      <END_GTID> --binlog` (the batch applier `restore pitr` uses). Each is verified by the script:
#      CHECKSUM TABLE against the dump-time values after the load; @@gtid_binlog_pos == END_GTID and
#      CHECKSUM TABLE equal to the source after the apply.
# Prints the reference's RESULT lines, then
#   RATIO restore_load_seconds=<ours / zstd -dc|mariadb>     (target <= 0.6)
#   RATIO restore_apply_seconds=<ours / mariadb-binlog|mariadb> (target <= 1.0)
#   RATIO restore_total_seconds=<ours / reference, load + apply>
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bash bench/restore-pitr.sh
# Env:    BENCH_ROOT (default /tmp/bench-pitr), SRC_PORT (3430), RESTORE_PORT (3431),
#         DUMP_TABLE_SIZE (reference default: ~1 GiB), GEN_SECONDS (default 200),
#         REPLAY_MAX_MB (default 300), LOAD_THREADS (default 2), KEEP_DATA=1 keeps $BENCH_ROOT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export BENCH_ROOT="${BENCH_ROOT:-/tmp/bench-pitr}"
export SRC_PORT="${SRC_PORT:-3430}"
export RESTORE_PORT="${RESTORE_PORT:-3431}"
export LOAD_THREADS="${LOAD_THREADS:-2}"
REPO="$BENCH_ROOT/dump/candidate/repo"
REPL_USER_="${REPL_USER:-repl}"
REPL_PASS_="${REPL_PASS:-replpw}"

archive_source() {
  MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS_" $PITR_CMD archive --source "mysql://$REPL_USER_@127.0.0.1:$SRC_PORT" \
    --repo "file://$REPO" --until-caught-up --log-level warn >/dev/null
}

if [[ ${1:-} == --replay ]]; then
  # called by bench/ref/restore.sh with TARGET_* START_FILE START_POS END_GTID
  archive_source
  stop_gtid="$(tr ',' '\n' <<<"$END_GTID" | awk -F- '$1 == 0' | head -1)"
  [[ -n $stop_gtid ]] || stop_gtid="${END_GTID%%,*}"
  MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" $PITR_CMD restore apply --repo "file://$REPO" \
    --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" --from "$START_FILE:$START_POS" \
    --to-gtid "$stop_gtid" --binlog --yes --no-progress --log-level warn
  exit 0
fi

source "$REF_BENCH/common.sh" # inst_stop, say (after bench/lib.sh: same BENCH_ROOT/SRC_PORT)
mkdir -p "$BENCH_ROOT"
OUT="$BENCH_ROOT/restore-pitr.out"
cleanup() {
  inst_stop "$SRC_DIR" || true
  [[ ${KEEP_DATA:-0} == 1 ]] || rm -rf "$BENCH_ROOT"
}
trap cleanup EXIT

# shellcheck disable=SC2016  # expanded later, by the reference scripts' bash -c
export CANDIDATE_DUMP_CMD='MYSQL_PITR_SOURCE_PASSWORD="$SRC_PASS" '"$PITR_CMD"' backup create \
  --source "mysql://$SRC_USER@$SRC_HOST:$SRC_PORT" --repo "file://$CAND_DUMP_DIR/repo" --json >/dev/null'
# shellcheck disable=SC2016
export CANDIDATE_LOAD_CMD='MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" '"$PITR_CMD"' restore backup \
  --repo "file://$CAND_DUMP_DIR/repo" --backup latest --yes --json --no-progress --load-threads "$LOAD_THREADS" \
  --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" >/dev/null'
export CANDIDATE_REPLAY_CMD="bash $PROJECT_DIR/bench/restore-pitr.sh --replay"

say "1. dataset and dump (reference and mysql-pitr backup create)"
KEEP_SRC=1 WITH_MYDUMPER=0 bash "$REF_BENCH/dump.sh" | tee "$OUT"
say "2. OLTP load for ${GEN_SECONDS:-200} s"
bash "$REF_BENCH/gen-load.sh" "$SRC_PORT" "${GEN_SECONDS:-200}" >"$BENCH_ROOT/gen-load.out"
say "3. archive the source (untimed) into file://$REPO"
archive_source
say "4. bench/ref/restore.sh: reference load + replay, then mysql-pitr load + apply"
KEEP_SRC=1 WITH_MYLOADER=0 REPLAY_MAX_MB="${REPLAY_MAX_MB:-300}" bash "$REF_BENCH/restore.sh" | tee -a "$OUT"

ref_load="$(result_field "$OUT" 'tool=zstd-dc|mariadb ' seconds)"
ref_apply="$(result_field "$OUT" 'tool=mariadb-binlog|mariadb ' seconds)"
our_load="$(result_field "$OUT" 'tool=candidate-load ' seconds)"
our_apply="$(result_field "$OUT" 'tool=candidate-replay ' seconds)"
echo "RESULT tool=restore-pitr ref_load_s=$ref_load ref_apply_s=$ref_apply our_load_s=$our_load our_apply_s=$our_apply" \
  "load_threads=$LOAD_THREADS binlog_mb=$(result_field "$OUT" 'tool=candidate-replay ' binlog_mb)" \
  "trx=$(result_field "$OUT" 'tool=candidate-replay ' trx)"
ratio restore_load_seconds "$our_load" "$ref_load"
ratio restore_apply_seconds "$our_apply" "$ref_apply"
ratio restore_total_seconds "$(awk -v a="$our_load" -v b="$our_apply" 'BEGIN{print a+b}')" \
  "$(awk -v a="$ref_load" -v b="$ref_apply" 'BEGIN{print a+b}')"
