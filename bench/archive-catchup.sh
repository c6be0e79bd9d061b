#!/usr/bin/env bash
# bench/archive-catchup.sh -- catch-up of a binlog backlog: `mysql-pitr archive --until-caught-up`
# (stream, segment, zstd, store into a file:// repository) followed by `binlog fetch --all`, against
# `mariadb-binlog --read-from-remote-server --raw --to-last-log`, same source, same run.
#
# Runs bench/ref/stream.sh with CANDIDATE_STREAM_CMD set to this script's --candidate mode:
#   1. archive --until-caught-up from the source into a fresh repository under $BENCH_ROOT;
#   2. binlog fetch --all --dest $OUT_DIR (bench/ref/stream.sh then verifies every file byte for byte).
# The candidate's time therefore includes compression, storage writes, a second full read of the
# repository with SHA-256 verification, and two CLI start-ups: an upper bound of the archiver's cost.
# The archive step alone is timed too and reported as `RESULT tool=archive-catchup-detail`.
#
# Usage:  bench/archive-catchup.sh
# Env:    everything bench/ref/stream.sh and gen-load.sh take; a quick reduced run:
#           STREAM_MIN_MB=64 TABLE_SIZE=20000 TOPUP_SECONDS=15 STREAM_REPEAT=1 bench/archive-catchup.sh
#         SEGMENT_SIZE (default 64MiB), COMPRESSION_LEVEL (default 1).
# Output: the reference's RESULT lines, then
#           RATIO archive_fetch_seconds=<archive+fetch seconds / mean mariadb-binlog seconds>
#           RATIO archive_seconds=<archive-only seconds / mean mariadb-binlog seconds>  (target <= 1.0)
#           RATIO archive_mismatched_files=<files fetched wrong>                         (must be 0)
#           RATIO archive_vs_ceiling=<archive-only seconds / max(mariadb-binlog, zstd -1 -T2 seconds)>
#           RATIO compression_archive / compression_zstd1 (raw / stored bytes; zstd -1 of the whole set)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -n ${BENCH_ROOT:-} ]] || BENCH_ROOT=/tmp/bench

if [[ ${1:-} == --candidate ]]; then
  # called by bench/ref/stream.sh with SRC_HOST SRC_PORT REPL_USER REPL_PASS FIRST_LOG OUT_DIR
  repo="$BENCH_ROOT/archive-repo"
  rm -rf "$repo"
  export MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS"
  t0=$(date +%s.%N)
  $PITR_CMD archive --source "mysql://$REPL_USER@$SRC_HOST:$SRC_PORT" --repo "file://$repo" --until-caught-up \
    --segment-size "${SEGMENT_SIZE:-64MiB}" --compression-level "${COMPRESSION_LEVEL:-1}" --log-level warn \
    2>"$BENCH_ROOT/archive-catchup.stderr" >/dev/null
  t1=$(date +%s.%N)
  $PITR_CMD binlog fetch --all --dest "$OUT_DIR" --repo "file://$repo" --log-level warn >/dev/null
  t2=$(date +%s.%N)
  stored=$(du -sb "$repo/binlogs" | cut -f1)
  segments=$(grep -c '"_aws"' "$BENCH_ROOT/archive-catchup.stderr" || true)
  # the compression ceiling: zstd -1 on both cores over the same bytes, from the page cache
  z0=$(date +%s.%N)
  zstd1=$(cat "$OUT_DIR"/* | zstd -q -1 -T2 -c | wc -c)
  z1=$(date +%s.%N)
  raw=$(cat "$OUT_DIR"/* | wc -c)
  echo "CANDIDATE archive_seconds=$(echo "$t1 - $t0" | bc) fetch_seconds=$(echo "$t2 - $t1" | bc) stored_bytes=$stored segments=$segments" \
    "raw_bytes=$raw zstd1_T2_seconds=$(echo "$z1 - $z0" | bc) zstd1_bytes=$zstd1" >>"$BENCH_ROOT/cand-archive.log"
  exit 0
fi

export CANDIDATE_STREAM_CMD="bash $PROJECT_DIR/bench/archive-catchup.sh --candidate"
export WITH_MYDUMPER="${WITH_MYDUMPER:-0}"
mkdir -p "$BENCH_ROOT"
rm -f "$BENCH_ROOT/cand-archive.log"
OUT_FILE="$(mktemp "${TMPDIR:-/tmp}/archive-catchup.XXXXXX")"
trap 'rm -f "$OUT_FILE"' EXIT
cd "$PROJECT_DIR"
BENCH_ROOT="$BENCH_ROOT" bash "$REF_BENCH/stream.sh" | tee "$OUT_FILE"

detail="$(grep '^CANDIDATE ' "$BENCH_ROOT/cand-archive.log" 2>/dev/null | tail -1 || true)"
echo "RESULT tool=archive-catchup-detail ${detail#CANDIDATE }"
ref_mean="$(grep '^RESULT tool=mariadb-binlog-raw set=all ' "$OUT_FILE" | tr ' ' '\n' | sed -n 's/^seconds=//p' |
  awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n }')"
cand="$(result_field "$OUT_FILE" 'tool=candidate-stream ' seconds)"
archive_only="$(echo "$detail" | tr ' ' '\n' | sed -n 's/^archive_seconds=//p')"
echo "RESULT tool=archive-catchup ref_mean_seconds=${ref_mean:-n/a} archive_fetch_seconds=${cand:-n/a} archive_seconds=${archive_only:-n/a}"
ratio archive_fetch_seconds "$cand" "$ref_mean"
ratio archive_seconds "$archive_only" "$ref_mean"
# the ceiling with compression: stream (mariadb-binlog --raw) and zstd -1 -T2 fully overlapped
zsec="$(echo "$detail" | tr ' ' '\n' | sed -n 's/^zstd1_T2_seconds=//p')"
ceiling="$(awk -v a="${ref_mean:-0}" -v b="${zsec:-0}" 'BEGIN { printf "%.3f", (a > b ? a : b) }')"
echo "RESULT tool=archive-catchup-ceiling stream_seconds=${ref_mean:-n/a} zstd1_T2_seconds=${zsec:-n/a} ceiling_seconds=$ceiling"
ratio archive_vs_ceiling "$archive_only" "$ceiling"
field() { echo "$detail" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ratio compression_archive "$(field raw_bytes)" "$(field stored_bytes)"
ratio compression_zstd1 "$(field raw_bytes)" "$(field zstd1_bytes)"
echo "RATIO archive_mismatched_files=$(result_field "$OUT_FILE" 'tool=candidate-stream ' mismatched_files)"
