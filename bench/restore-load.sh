#!/usr/bin/env bash
# bench/restore-load.sh -- `mysql-pitr restore backup` (parallel dump load) against
# `zstd -dc dump.sql.zst | mariadb`, same data, same run.
#
# 1. Runs bench/ref/dump.sh (the ~1 GiB sysbench dataset, `mariadb-dump ... | zstd -3`)
#    with its CANDIDATE_DUMP_CMD hook set to `mysql-pitr backup create` into a file:// repository
#    under the candidate's dump directory.
# 2. Runs bench/ref/restore.sh, which times the reference load into a fresh instance
#    (binlog on, as the reference scripts do) and then, with CANDIDATE_LOAD_CMD, times
#    `mysql-pitr restore backup --backup latest --yes` from that repository into another fresh
#    instance (under /usr/bin/time -v for the peak RSS); both are verified by CHECKSUM TABLE
#    against the dump-time values. The replay step is kept small (REPLAY_MAX_MB=1,
#    REPLAY_GEN_SECONDS=5) and myloader is skipped unless asked for.
# Prints the reference scripts' RESULT lines, then
#   RESULT tool=mysql-pitr-restore-backup peak_rss_kb=... load_threads=... seconds=...
#   RATIO restore_load_seconds=<mysql-pitr seconds / zstd -dc|mariadb seconds>
#
# Usage:  flock /tmp/mysql-pitr-bench.lock bench/restore-load.sh
# Env:    everything bench/ref/dump.sh and restore.sh take (BENCH_ROOT, SRC_PORT, RESTORE_PORT,
#         DUMP_TABLE_SIZE, DUMP_MIN_MB, WITH_MYLOADER, ...); LOAD_THREADS (default 2) for
#         --load-threads. A quick run on a small dataset:
#           BENCH_ROOT=/tmp/bench-small SRC_PORT=3400 RESTORE_PORT=3401 DUMP_TABLE_SIZE=50000 \
#           DUMP_MIN_MB=1 bench/restore-load.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_DIR"   # `node --import tsx` resolves tsx from the working directory

BENCH_ROOT="${BENCH_ROOT:-/tmp/bench}"
LOAD_THREADS="${LOAD_THREADS:-2}"
export BENCH_ROOT LOAD_THREADS
export WITH_MYDUMPER="${WITH_MYDUMPER:-0}" WITH_MYLOADER="${WITH_MYLOADER:-0}"
export REPLAY_MAX_MB="${REPLAY_MAX_MB:-1}" REPLAY_GEN_SECONDS="${REPLAY_GEN_SECONDS:-5}"
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

# Both hooks run under `bash -c` in the reference scripts, which export SRC_* / TARGET_* and
# CAND_DUMP_DIR. Passwords reach mysql-pitr through the environment, never argv.
# shellcheck disable=SC2016  # expanded later, by the reference scripts' bash -c
export CANDIDATE_DUMP_CMD='MYSQL_PITR_SOURCE_PASSWORD="$SRC_PASS" '"$PITR_CMD"' backup create \
  --source "mysql://$SRC_USER@$SRC_HOST:$SRC_PORT" --repo "file://$CAND_DUMP_DIR/repo" --json > "$CAND_DUMP_DIR/../pitr-manifest.json"'
# shellcheck disable=SC2016
export CANDIDATE_LOAD_CMD='MYSQL_PITR_TARGET_PASSWORD="$TARGET_PASS" /usr/bin/time -v -o "$BENCH_ROOT/pitr-load-time.txt" \
  '"$PITR_CMD"' restore backup --repo "file://$CAND_DUMP_DIR/repo" --backup latest --yes --json \
  --load-threads "$LOAD_THREADS" --target "mysql://$TARGET_USER@$TARGET_HOST:$TARGET_PORT" > "$BENCH_ROOT/pitr-load.json"'

bash "$REF_BENCH/dump.sh" | tee "$OUT"
bash "$REF_BENCH/restore.sh" | tee -a "$OUT"

rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_ROOT/pitr-load-time.txt")
ours=$(result_field "$OUT" 'tool=candidate-load' seconds)
echo "RESULT tool=mysql-pitr-restore-backup peak_rss_kb=$rss load_threads=$LOAD_THREADS seconds=$ours"
ratio restore_load_seconds "$ours" "$(result_field "$OUT" 'tool=zstd-dc|mariadb' seconds)"
