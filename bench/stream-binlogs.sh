#!/usr/bin/env bash
# bench/stream-binlogs.sh -- binlog streaming: mysql-pitr's replication client vs
# `mariadb-binlog --read-from-remote-server --raw --to-last-log`, same source, same run.
#
# Runs bench/ref/stream.sh (which tops the source up to $STREAM_MIN_MB of binlogs with
# sysbench, times the reference download $STREAM_REPEAT times and verifies every copy with cmp) with
# its CANDIDATE_STREAM_CMD hook set to bench/stream-binlogs.ts: one non-blocking COM_BINLOG_DUMP
# from the first binlog to the last, each file written to OUT_DIR/<binlog> by copyBinlogStream.
# bench/ref/stream.sh verifies the candidate's files the same way (byte for byte; the active file may
# differ only in the in-use flag bit of its FORMAT_DESCRIPTION_EVENT).
#
# Usage:  bench/stream-binlogs.sh
# Env:    everything bench/ref/stream.sh and gen-load.sh take; a quick reduced run:
#           STREAM_MIN_MB=64 TABLE_SIZE=20000 TOPUP_SECONDS=15 STREAM_REPEAT=1 bench/stream-binlogs.sh
#         (the full run uses the 1 GiB default).
#         BENCH_ROOT / SRC_PORT choose the source instance (default /tmp/bench, 3310).
# Output: the reference's RESULT lines, then
#           RATIO stream_seconds=<mysql-pitr seconds / mean mariadb-binlog seconds>  (< 1: faster;
#                 both include process start-up)
#           RATIO stream_mismatched_files=<files the candidate got wrong>            (must be 0)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The driver is bundled once with esbuild (tsx's own dependency) so the timed command starts in
# ~0.15 s like a compiled CLI; it lands under node_modules/.cache so node still resolves mysql2.
# Without esbuild it runs through tsx (about 0.5 s more start-up).
BUNDLE="$PROJECT_DIR/node_modules/.cache/mysql-pitr-bench/stream-binlogs.mjs"
mkdir -p "$(dirname "$BUNDLE")"
if "$PROJECT_DIR/node_modules/.bin/esbuild" "$PROJECT_DIR/bench/stream-binlogs.ts" --bundle --platform=node \
  --format=esm --target=node20 --packages=external --log-level=warning --outfile="$BUNDLE" >&2; then
  export CANDIDATE_STREAM_CMD="node $BUNDLE"
else
  echo "bench: esbuild failed, running the driver through tsx" >&2
  export CANDIDATE_STREAM_CMD="node --import tsx $PROJECT_DIR/bench/stream-binlogs.ts"
fi
export WITH_MYDUMPER="${WITH_MYDUMPER:-0}" # this scenario needs sysbench and zstd only
OUT_FILE="$(mktemp "${TMPDIR:-/tmp}/stream-binlogs.XXXXXX")"
trap 'rm -f "$OUT_FILE"' EXIT

# tsx resolves from the project, so run the hook from there
cd "$PROJECT_DIR"
bash "$REF_BENCH/stream.sh" | tee "$OUT_FILE"
[[ -n ${BENCH_ROOT:-} ]] || BENCH_ROOT=/tmp/bench
if [[ -f $BENCH_ROOT/cand-stream.log ]]; then
  grep '^CANDIDATE ' "$BENCH_ROOT/cand-stream.log" | sed 's/^CANDIDATE /RESULT tool=candidate-stream-detail /' || true
fi

ref_mean="$(grep '^RESULT tool=mariadb-binlog-raw set=all ' "$OUT_FILE" | tr ' ' '\n' | sed -n 's/^seconds=//p' |
  awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n }')"
cand="$(result_field "$OUT_FILE" 'tool=candidate-stream ' seconds)"
echo "RESULT tool=stream-binlogs ref_mean_seconds=${ref_mean:-n/a} candidate_seconds=${cand:-n/a}"
ratio stream_seconds "$cand" "$ref_mean"
echo "RATIO stream_mismatched_files=$(result_field "$OUT_FILE" 'tool=candidate-stream ' mismatched_files)"
