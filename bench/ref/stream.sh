#!/usr/bin/env bash
# bench/ref/stream.sh -- reference binlog download: `mariadb-binlog --read-from-remote-server --raw
# --to-last-log`, one COM_BINLOG_DUMP from the source's first binlog to its last.
#
# 1. Tops the source up to STREAM_MIN_MB of binlogs (gen-load.sh, TOPUP_SECONDS at a time), closes
#    the active file (FLUSH BINARY LOGS), then downloads every file STREAM_REPEAT times into a fresh
#    directory, timing each run and comparing every copy with the source's file (cmp).
# 2. zstd -3 of the downloaded files, one thread and all cores: time, ratio.
# 3. CANDIDATE_STREAM_CMD (optional) runs with `bash -c` and SRC_HOST SRC_PORT REPL_USER REPL_PASS
#    FIRST_LOG OUT_DIR exported; it must leave OUT_DIR/<binlog> or OUT_DIR/<binlog>.zst for every
#    source binlog. It is timed and verified like the reference; its output goes to
#    $BENCH_ROOT/cand-stream.log.
# The source's files are in the page cache: this measures the protocol and the client's writes.
#
# Env:    STREAM_MIN_MB (default 1024), STREAM_REPEAT (3), TOPUP_SECONDS (120), TABLE_SIZE (for the
#         first gen-load), KEEP_STREAM=1 keeps $BENCH_ROOT/stream, KEEP_SRC=1 keeps the source.
# Output: RESULT lines: source_binlog_*, tool=mariadb-binlog-raw set=all run=N, tool=zstd-3-T1/T0,
#         tool=candidate-stream.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
STREAM_MIN_MB="${STREAM_MIN_MB:-1024}"
STREAM_REPEAT="${STREAM_REPEAT:-3}"
TOPUP_SECONDS="${TOPUP_SECONDS:-120}"
OUT="$BENCH_ROOT/stream"
need_tools mariadbd mariadb mariadb-binlog zstd sysbench
mkdir -p "$BENCH_ROOT"
trap source_down EXIT
source_up
machine_line >&2

while (($(binlog_bytes "$SRC_PORT") < STREAM_MIN_MB * 1048576)); do
  say "the source holds $(mib "$(binlog_bytes "$SRC_PORT")") MiB of binlogs, fewer than $STREAM_MIN_MB: more load"
  "$REF_DIR/gen-load.sh" "$SRC_PORT" "$TOPUP_SECONDS" >&2
done
inst_sql "$SRC_PORT" 'FLUSH BINARY LOGS' # every file but the new, tiny active one has its final size
mapfile -t FILES < <(inst_sql "$SRC_PORT" 'SHOW BINARY LOGS' | cut -f1)
TOTAL=$(binlog_bytes "$SRC_PORT")
FIRST="${FILES[0]}"
LAST="${FILES[${#FILES[@]} - 1]}"
echo "RESULT source_binlog_files=${#FILES[@]} source_binlog_bytes=$TOTAL source_binlog_mb=$(mib "$TOTAL") first=$FIRST last=$LAST"

# mismatches DIR: how many source files DIR lacks or holds different bytes of. The active file on
# disk carries LOG_EVENT_BINLOG_IN_USE_F (bit 0 of the FORMAT_DESCRIPTION_EVENT flags, file offset
# 21, cmp's byte 22); a dump sends it cleared, and the event's CRC32 is computed without it.
mismatches() {
  local dir="$1" n=0 f copy
  for f in "${FILES[@]}"; do
    copy="$dir/$f"
    if [[ ! -f $copy && -f $copy.zst ]]; then
      copy="$BENCH_ROOT/unzstd.tmp"
      zstd -q -d -c "$dir/$f.zst" >"$copy"
    fi
    if [[ ! -f $copy ]]; then
      say "missing: $dir/$f"
      n=$((n + 1))
    elif ! cmp -s "$copy" "$SRC_DIR/$f"; then
      if [[ $f == "$LAST" && "$(cmp -l "$copy" "$SRC_DIR/$f" | tr -s ' ')" == " 22 0 1" ]]; then continue; fi
      say "differs: $f"
      n=$((n + 1))
    fi
  done
  rm -f "$BENCH_ROOT/unzstd.tmp"
  echo "$n"
}

for ((run = 1; run <= STREAM_REPEAT; run++)); do
  rm -rf "$OUT"
  mkdir -p "$OUT"
  say "run $run: mariadb-binlog --read-from-remote-server --raw --to-last-log $FIRST"
  timed stream "mariadb-binlog --no-defaults --read-from-remote-server --protocol=TCP --host=127.0.0.1 \
    --port=$SRC_PORT --user=$REPL_USER --password=$REPL_PASS --raw --to-last-log --result-file=$OUT/ $FIRST"
  got=$(cat "$OUT"/* | wc -c)
  bad=$(mismatches "$OUT")
  echo "RESULT tool=mariadb-binlog-raw set=all run=$run seconds=$WALL user_s=$USER_S sys_s=$SYS_S bytes=$got mb=$(mib "$got") files=${#FILES[@]} mb_per_s=$(mib_per_s "$got" "$WALL") mismatched_files=$bad"
  ((bad == 0)) || fail "the downloaded binlogs differ from the source's"
done

GOT=$(cat "$OUT"/* | wc -c)
for threads in 1 0; do
  timed zstd "for f in $OUT/*; do case \$f in *.zst) ;; *) zstd -q -f -3 -T$threads \"\$f\" -o \"\$f.zst\" ;; esac; done"
  packed=$(cat "$OUT"/*.zst | wc -c)
  echo "RESULT tool=zstd-3-T$threads per_file=1 seconds=$WALL user_s=$USER_S in_bytes=$GOT out_bytes=$packed ratio=$(per_s "$GOT" "$packed") in_mb_per_s=$(mib_per_s "$GOT" "$WALL")"
  rm -f "$OUT"/*.zst
done

if [[ -n ${CANDIDATE_STREAM_CMD:-} ]]; then
  CAND="$BENCH_ROOT/stream-candidate"
  rm -rf "$CAND"
  mkdir -p "$CAND"
  say "candidate: $CANDIDATE_STREAM_CMD"
  export SRC_HOST=127.0.0.1 FIRST_LOG="$FIRST" OUT_DIR="$CAND"
  timed cand-stream "$CANDIDATE_STREAM_CMD"
  out=$(du -sb "$CAND" | cut -f1)
  bad=$(mismatches "$CAND")
  echo "RESULT tool=candidate-stream seconds=$WALL user_s=$USER_S sys_s=$SYS_S source_mb=$(mib "$TOTAL") out_mb=$(mib "$out") source_mb_per_s=$(mib_per_s "$TOTAL" "$WALL") mismatched_files=$bad"
  [[ ${KEEP_STREAM:-0} == 1 ]] || rm -rf "$CAND"
fi
[[ ${KEEP_STREAM:-0} == 1 ]] || rm -rf "$OUT"
