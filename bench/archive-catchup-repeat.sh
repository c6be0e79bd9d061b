#!/usr/bin/env bash
# bench/archive-catchup-repeat.sh -- the catch-up comparison of archive-catchup.sh, repeated and
# interleaved so that a busy machine (other jobs on the 2 cores) does not decide the result:
# REPEAT rounds of, on the same source binlogs,
#   1. mariadb-binlog --read-from-remote-server --raw --to-last-log   (stream only)
#   2. zstd -q -1 -T2 over the same bytes from the page cache          (compression only)
#   3. mysql-pitr archive --until-caught-up into a fresh file:// repo  (stream + zstd + store)
# and prints min and median of each, the ratios of the minima (archive / mariadb-binlog and
# archive / ceiling, the ceiling being max(stream, zstd -1 -T2): both fully overlapped), and the
# compression ratios (raw / stored, raw / zstd -1), stored bytes / zstd -1 bytes (target <= 1.1),
# each candidate's peak RSS over the rounds (/usr/bin/time; target <= 128 MiB) and the load average
# before and after (the 2-core machine is shared: say how busy it was).
#
# Needs a source left running by archive-catchup.sh (KEEP_SRC=1) or ref-stream.sh:
#   BENCH_ROOT=/tmp/bench-ac SRC_PORT=3397 STREAM_MIN_MB=100 TABLE_SIZE=20000 TOPUP_SECONDS=15 \
#     STREAM_REPEAT=1 KEEP_SRC=1 bench/archive-catchup.sh
#   BENCH_ROOT=/tmp/bench-ac SRC_PORT=3397 REPEAT=5 bench/archive-catchup-repeat.sh
# Env: SRC_PORT (required), REPEAT (default 5), SEGMENT_SIZE, COMPRESSION_LEVEL, REPL_USER/REPL_PASS
#      (default repl / replpw, as bench/ref/common.sh), NODE_OPTIONS (passed to the CLI),
#      PITR_CMDS: several builds to compare in the same rounds, `label=command` separated by `;`
#      (e.g. "before=node /tmp/a/src/cli/main.js;after=node /tmp/b/src/cli/main.js"); default: the
#      one $PITR_CMD, labelled `archive`. Each gets its own RESULT and RATIO lines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${SRC_PORT:?set SRC_PORT to a source prepared by archive-catchup.sh with KEEP_SRC=1}"
REPEAT="${REPEAT:-5}"
REPL_USER="${REPL_USER:-repl}"
REPL_PASS="${REPL_PASS:-replpw}"
work="$(mktemp -d "${TMPDIR:-/tmp}/archive-catchup-repeat.XXXXXX")"
trap 'rm -rf "$work"' EXIT

mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$SRC_PORT" -u"$REPL_USER" -p"$REPL_PASS" -N \
  -e 'SHOW BINARY LOGS' >"$work/logs"
first="$(head -1 "$work/logs" | cut -f1)"
now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
IFS=';' read -r -a cands <<<"${PITR_CMDS:-archive=$PITR_CMD}"
labels=()
for c in "${cands[@]}"; do labels+=("${c%%=*}"); done
: >"$work/stream" && : >"$work/zstd"
for l in "${labels[@]}"; do : >"$work/cand-$l" && : >"$work/rss-$l"; done
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 1; i <= REPEAT; i++)); do
  rm -rf "$work/raw" && mkdir "$work/raw"
  t0=$(now)
  mariadb-binlog --no-defaults --read-from-remote-server --protocol=TCP --host=127.0.0.1 --port="$SRC_PORT" \
    --user="$REPL_USER" --password="$REPL_PASS" --raw --to-last-log --result-file="$work/raw/" "$first"
  t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/stream"
  t0=$(now)
  zbytes=$(cat "$work/raw"/* | zstd -q -1 -T2 -c | wc -c)
  t1=$(now)
  echo "$t1 - $t0" | bc >>"$work/zstd"
  raw=$(cat "$work/raw"/* | wc -c)
  line="round $i (load $(cut -d' ' -f1 /proc/loadavg)): stream $(tail -1 "$work/stream") s, zstd -1 -T2 $(tail -1 "$work/zstd") s"
  for c in "${cands[@]}"; do
    label="${c%%=*}" cmd="${c#*=}"
    rm -rf "$work/repo"
    t0=$(now)
    MYSQL_PITR_SOURCE_PASSWORD="$REPL_PASS" /usr/bin/time -f '%M' -o "$work/rss" $cmd archive --source "mysql://$REPL_USER@127.0.0.1:$SRC_PORT" \
      --repo "file://$work/repo" --until-caught-up --segment-size "${SEGMENT_SIZE:-64MiB}" \
      --compression-level "${COMPRESSION_LEVEL:-1}" --log-level warn >/dev/null 2>"$work/archive.stderr" ||
      { tail -5 "$work/archive.stderr" >&2; echo "bench: $label archive failed" >&2; exit 1; }
    t1=$(now)
    echo "$t1 - $t0" | bc >>"$work/cand-$label"
    stored=$(du -sb "$work/repo/binlogs" | cut -f1)
    echo "$stored" >"$work/stored-$label"
    tail -1 "$work/rss" >>"$work/rss-$label" # peak RSS, KiB
    line+=", $label $(tail -1 "$work/cand-$label") s $(($(tail -1 "$work/rss") / 1024)) MiB"
  done
  echo "$line" >&2
done
for k in stream zstd; do
  printf -v "min_$k" '%s' "$(sort -n "$work/$k" | head -1)"
  printf -v "med_$k" '%s' "$(median <"$work/$k")"
done
ceiling="$(awk -v a="$min_stream" -v b="$min_zstd" 'BEGIN { printf "%.3f", (a > b ? a : b) }')"
echo "RESULT tool=archive-catchup-repeat rounds=$REPEAT raw_mb=$(awk -v b="$raw" 'BEGIN { printf "%.1f", b / 1048576 }')" \
  "stream_min_s=$min_stream stream_median_s=$med_stream zstd1_T2_min_s=$min_zstd zstd1_T2_median_s=$med_zstd ceiling_s=$ceiling"
ratio compression_zstd1 "$raw" "$zbytes"
for l in "${labels[@]}"; do
  min="$(sort -n "$work/cand-$l" | head -1)"
  med="$(median <"$work/cand-$l")"
  # one label keeps the historical names (archive_vs_mariadb_binlog, ...); several get a suffix
  sfx="" && ((${#labels[@]} > 1)) && sfx="_$l"
  rss="$(sort -n "$work/rss-$l" | tail -1)"
  echo "RESULT tool=archive-catchup-repeat candidate=$l archive_min_s=$min archive_median_s=$med" \
    "peak_rss_mib=$((rss / 1024)) stored_bytes=$(cat "$work/stored-$l") zstd1_bytes=$zbytes"
  echo "RATIO archive_peak_rss_mib$sfx=$((rss / 1024))"
  ratio "archive_vs_mariadb_binlog$sfx" "$min" "$min_stream"
  ratio "archive_vs_ceiling$sfx" "$min" "$ceiling"
  ratio "compression_archive$sfx" "$raw" "$(cat "$work/stored-$l")"
  ratio "stored_vs_zstd1$sfx" "$(cat "$work/stored-$l")" "$zbytes"
done
echo "RESULT tool=archive-catchup-repeat load_before=\"$load_before\" load_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\" cores=$(nproc)"
