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
# By default it runs twice, once per event mix (MIXES="bulk oltp"): a bulk backlog (sysbench
# `prepare` of 8 x BULK_TABLE_SIZE rows, default 250000: ~700 MiB) and an OLTP backlog (8 x 10,000
# rows, then sysbench OLTP writes until OLTP_MB, default 512), each on its own source (ports SRC_PORT,
# default 3470, and SRC_PORT+1; datadirs under $BENCH_ROOT/<mix>), and after each single run
# repeats stream, zstd and archive interleaved (bench/archive-catchup-repeat.sh, REPEAT rounds,
# default 3). Every RATIO line gets the mix as a prefix (bulk_archive_vs_ceiling,
# bulk_repeat_archive_vs_ceiling, ...). KEEP_SRC=1 leaves the sources running for more rounds.
#
# Usage:  bench/archive-catchup.sh
#         MIXES=oltp OLTP_MB=256 REPEAT=5 bench/archive-catchup.sh
#         MIXES= STREAM_MIN_MB=64 TABLE_SIZE=20000 TOPUP_SECONDS=15 STREAM_REPEAT=1 bench/archive-catchup.sh
#           (MIXES empty: one run with the reference's own environment, as before)
# Env:    everything bench/ref/stream.sh and gen-load.sh take.
#         SEGMENT_SIZE (default 64MiB), COMPRESSION_LEVEL (default 1).
# Output: the reference's RESULT lines, then
#           RATIO archive_fetch_seconds=<archive+fetch seconds / mean mariadb-binlog seconds>
#           RATIO archive_seconds=<archive-only seconds / mean mariadb-binlog seconds>  (target <= 1.0)
#           RATIO archive_mismatched_files=<files fetched wrong>                         (must be 0)
#           RATIO archive_vs_ceiling=<archive-only seconds / max(mariadb-binlog, zstd -1 -T2 seconds)>
#           RATIO compression_archive / compression_zstd1 (raw / stored bytes; zstd -1 of the whole set)
#           RATIO stored_vs_zstd1=<stored bytes / zstd -1 bytes>                              (target <= 1.1)
#           RATIO archive_peak_rss_mib=<peak RSS of the archive process>                      (target <= 128)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -n ${BENCH_ROOT:-} ]] || BENCH_ROOT=/tmp/bench

if [[ ${1:-} == --candidate ]]; then
  # called by bench/ref/stream.sh with SRC_HOST SRC_PORT REPL_USER REPL_PASS FIRST_LOG OUT_DIR
  repo="$BENCH_ROOT/archive-repo"
  rm -rf "$repo"
  export MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS"
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$BENCH_ROOT/archive-catchup.rss" $PITR_CMD archive --source "mysql://$REPL_USER@$SRC_HOST:$SRC_PORT" --repo "file://$repo" --until-caught-up \
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
  echo "CANDIDATE archive_seconds=$(echo "$t1 - $t0" | bc) fetch_seconds=$(echo "$t2 - $t1" | bc) stored_bytes=$stored segments=$segments peak_rss_kib=$(tail -1 "$BENCH_ROOT/archive-catchup.rss")" \
    "raw_bytes=$raw zstd1_T2_seconds=$(echo "$z1 - $z0" | bc) zstd1_bytes=$zstd1" >>"$BENCH_ROOT/cand-archive.log"
  exit 0
fi

# Both event mixes (issue 17): each gets its own source, this script's single run (reference,
# archive + fetch verified byte for byte), then archive-catchup-repeat.sh's interleaved rounds on
# the same source (stream, zstd -1 -T2, archive: minima, stored bytes, peak RSS, load average).
if [[ -n ${MIXES-bulk oltp} && -z ${MIX:-} ]]; then
  root="$BENCH_ROOT" port="${SRC_PORT:-3470}" rc=0
  for mix in ${MIXES:-bulk oltp}; do
    case $mix in
      # sysbench `prepare` only: multi-row INSERTs, mostly 8 KiB row events and their large
      # ANNOTATE_ROWS statements (~700 MiB at 8 x 250,000 rows)
      bulk) preset=(STREAM_MIN_MB=1 TOPUP_SECONDS=0 "TABLE_SIZE=${BULK_TABLE_SIZE:-250000}") ;;
      # small tables, then sysbench OLTP writes until OLTP_MB: ~150-byte events, small transactions
      oltp) preset=("STREAM_MIN_MB=${OLTP_MB:-512}" "TOPUP_SECONDS=${OLTP_TOPUP_SECONDS:-120}" TABLE_SIZE=10000) ;;
      *) echo "bench: MIXES holds bulk and/or oltp, not $mix" >&2; exit 2 ;;
    esac
    echo "== mix $mix (source port $port, $root/$mix)"
    env "${preset[@]}" MIX="$mix" BENCH_ROOT="$root/$mix" SRC_PORT="$port" KEEP_SRC=1 \
      STREAM_REPEAT="${STREAM_REPEAT:-2}" bash "$0" | sed "s/^RATIO /RATIO ${mix}_/" || rc=1
    BENCH_ROOT="$root/$mix" SRC_PORT="$port" REPEAT="${REPEAT:-3}" bash "$PROJECT_DIR/bench/archive-catchup-repeat.sh" |
      sed "s/^RATIO /RATIO ${mix}_repeat_/" || rc=1
    if [[ ${KEEP_SRC:-0} != 1 ]]; then
      (source "$REF_BENCH/common.sh" && inst_stop "$root/$mix/src" >&2)
    fi
    port=$((port + 1))
  done
  exit "$rc"
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
ratio stored_vs_zstd1 "$(field stored_bytes)" "$(field zstd1_bytes)"
echo "RATIO archive_peak_rss_mib=$(($(field peak_rss_kib) / 1024))"
echo "RATIO archive_mismatched_files=$(result_field "$OUT_FILE" 'tool=candidate-stream ' mismatched_files)"
