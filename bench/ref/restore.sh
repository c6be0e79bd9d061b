#!/usr/bin/env bash
# bench/ref/restore.sh -- reference restore: load the dump, then replay the binlogs after it.
# Run after dump.sh (it reads $BENCH_ROOT/dump/dump.meta).
#
# 1. `zstd -dc all.sql.zst | mariadb` into a fresh instance (RESTORE_PORT, server_id 2, the
#    source's options, binlog on); the sysbench tables must then match the dump-time CHECKSUM TABLE.
# 2. `mariadb-binlog --start-position=POS FILE... | mariadb` into it, from the dump's binlog
#    coordinates over whole closed source files up to about REPLAY_MAX_MB (gen-load.sh first when
#    fewer than 16 MiB follow the dump). The target gets RESET MASTER first: the load binlogged its
#    own GTIDs (0-2-N), and under gtid_strict_mode the source's lower 0-1-M would be refused (1950).
#    Afterwards @@gtid_binlog_pos must equal the source's BINLOG_GTID_POS at the end of the range,
#    and, when the range reaches the source's last file, the tables must match the source's.
# 3. Candidates (optional), each into a fresh instance on RESTORE_PORT, run with `bash -c` and
#    TARGET_HOST TARGET_PORT TARGET_USER TARGET_PASS TARGET_SOCKET exported, timed and verified the
#    same way:
#      CANDIDATE_LOAD_CMD    with CAND_DUMP_DIR ($BENCH_ROOT/dump/candidate) and REF_DUMP_FILE;
#                            must load the whole dump;
#      CANDIDATE_REPLAY_CMD  with BINLOG_DIR BINLOG_FILES START_FILE START_POS START_GTID END_GTID;
#                            must apply exactly that range (the target holds the candidate's load,
#                            or the reference load, untimed, then RESET MASTER).
#
# Env:    RESTORE_PORT (3311), RESTORE_EXTRA_OPTS, REPLAY_MAX_MB (512), REPLAY_GEN_SECONDS (60),
#         LOAD_NO_BINLOG=1 (load with sql_log_bin=0), KEEP_RESTORE=1, KEEP_SRC=1.
# Output: RESULT lines: tool=zstd-dc|mariadb, tool=mariadb-binlog|mariadb, tool=candidate-load,
#         tool=candidate-replay.
# shellcheck disable=SC2154  # dump_file, binlog_file, ... come from dump.meta
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
RESTORE_PORT="${RESTORE_PORT:-3311}"
RESTORE_DIR="$BENCH_ROOT/restore"
REPLAY_MAX_MB="${REPLAY_MAX_MB:-512}"
REPLAY_GEN_SECONDS="${REPLAY_GEN_SECONDS:-60}"
META="$BENCH_ROOT/dump/dump.meta"
[[ -f $META ]] || { echo "no $META: run bench/ref/dump.sh first" >&2; exit 2; }
# shellcheck disable=SC1090
source "$META"
need_tools mariadbd mariadb mariadb-binlog zstd sysbench
on_exit() {
  [[ ${KEEP_RESTORE:-0} == 1 ]] || inst_stop "$RESTORE_DIR"
  source_down
}
trap on_exit EXIT
source_up
machine_line >&2

fresh_target() {
  inst_stop "$RESTORE_DIR"
  rm -rf "$RESTORE_DIR" "$RESTORE_DIR.tmp"
  # shellcheck disable=SC2086
  inst_start "$RESTORE_PORT" "$RESTORE_DIR" 2 ${RESTORE_EXTRA_OPTS:-}
  export TARGET_HOST=127.0.0.1 TARGET_PORT="$RESTORE_PORT" TARGET_USER="$BENCH_USER" \
    TARGET_PASS="$BENCH_PASS" TARGET_SOCKET="$RESTORE_DIR/mysql.sock"
}
LOAD="zstd -q -d -c $dump_file | $(client_cmd "$RESTORE_PORT")"
[[ ${LOAD_NO_BINLOG:-0} == 1 ]] && LOAD+=" --init-command='SET SESSION sql_log_bin=0'"

# --- 1. load -------------------------------------------------------------------------------------
fresh_target
say "load: zstd -dc all.sql.zst | mariadb"
timed load "$LOAD"
inst_sql "$RESTORE_PORT" 'FLUSH PRIVILEGES'
match=no
[[ "$(sb_checksums "$RESTORE_PORT")" == "$checksums" ]] && match=yes
echo "RESULT tool=zstd-dc|mariadb load_sql_log_bin=$((1 - ${LOAD_NO_BINLOG:-0})) seconds=$WALL user_s=$USER_S sys_s=$SYS_S sql_mb=$(mib "$sql_bytes") sql_mb_per_s=$(mib_per_s "$sql_bytes" "$WALL") rows=$rows rows_per_s=$(per_s "$rows" "$WALL") checksums_match=$match"
[[ $match == yes ]] || fail "the loaded tables differ from the dump-time checksums"

# --- 2. replay -----------------------------------------------------------------------------------
inst_sql "$SRC_PORT" 'FLUSH BINARY LOGS'
after_dump() {
  inst_sql "$SRC_PORT" 'SHOW BINARY LOGS' |
    awk -v f="$binlog_file" -v p="$binlog_pos" '$1 == f { on = 1; s += $2 - p; next } on { s += $2 } END { printf "%d\n", s }'
}
if (($(after_dump) < 16 * 1048576)); then
  say "fewer than 16 MiB of binlogs after the dump: gen-load for ${REPLAY_GEN_SECONDS}s"
  "$REF_DIR/gen-load.sh" "$SRC_PORT" "$REPLAY_GEN_SECONDS" >&2
  inst_sql "$SRC_PORT" 'FLUSH BINARY LOGS'
fi
# whole closed files from the dump's file on (the last row is the new active file: left out)
mapfile -t LOGS < <(inst_sql "$SRC_PORT" 'SHOW BINARY LOGS')
RANGE=()
BYTES=0
capped=0
for ((i = 0; i < ${#LOGS[@]} - 1; i++)); do
  read -r f size <<<"${LOGS[$i]}"
  if ((${#RANGE[@]} == 0)); then
    [[ $f == "$binlog_file" ]] || continue
    RANGE=("$f")
    BYTES=$((size - binlog_pos))
    continue
  fi
  if ((BYTES >= REPLAY_MAX_MB * 1048576)); then
    capped=1
    break
  fi
  RANGE+=("$f")
  BYTES=$((BYTES + size))
done
((${#RANGE[@]})) || fail "the dump's binlog file $binlog_file is no longer on the source"
END_FILE="${RANGE[${#RANGE[@]} - 1]}"
END_GTID=$(inst_sql "$SRC_PORT" "SELECT BINLOG_GTID_POS('$END_FILE', $(stat -c %s "$SRC_DIR/$END_FILE"))")
TRX=$(($(seq_of "$END_GTID") - $(seq_of "$gtid")))
SOURCE_SUMS=""
((capped)) || SOURCE_SUMS=$(sb_checksums "$SRC_PORT")
say "replay range $binlog_file:$binlog_pos to the end of $END_FILE: ${#RANGE[@]} files, $(mib "$BYTES") MiB, $TRX transactions"

# replay_result TOOL: checks the target after a replay and prints its RESULT line.
replay_result() {
  local got gtid_ok=no sums_ok=skipped
  got=$(inst_sql "$RESTORE_PORT" 'SELECT @@GLOBAL.gtid_binlog_pos')
  [[ $got == "$END_GTID" ]] && gtid_ok=yes
  if [[ -n $SOURCE_SUMS ]]; then
    sums_ok=no
    [[ "$(sb_checksums "$RESTORE_PORT")" == "$SOURCE_SUMS" ]] && sums_ok=yes
  fi
  echo "RESULT tool=$1 files=${#RANGE[@]} binlog_bytes=$BYTES binlog_mb=$(mib "$BYTES") trx=$TRX seconds=$WALL user_s=$USER_S sys_s=$SYS_S binlog_mb_per_s=$(mib_per_s "$BYTES" "$WALL") trx_per_s=$(per_s "$TRX" "$WALL") end_gtid=$END_GTID gtid_match=$gtid_ok checksums_match_source=$sums_ok"
  [[ $gtid_ok == yes ]] || fail "$1: gtid_binlog_pos is '$got', expected '$END_GTID'"
  [[ $sums_ok != no ]] || fail "$1: the tables differ from the source's after the replay"
}
inst_sql "$RESTORE_PORT" 'RESET MASTER'
say "replay: mariadb-binlog --start-position=$binlog_pos ${RANGE[*]} | mariadb"
timed replay "cd $SRC_DIR && mariadb-binlog --no-defaults --start-position=$binlog_pos ${RANGE[*]} | $(client_cmd "$RESTORE_PORT")"
replay_result 'mariadb-binlog|mariadb'

# --- 3. candidates -------------------------------------------------------------------------------
if [[ -n ${CANDIDATE_LOAD_CMD:-} || -n ${CANDIDATE_REPLAY_CMD:-} ]]; then
  fresh_target
  if [[ -n ${CANDIDATE_LOAD_CMD:-} ]]; then
    export CAND_DUMP_DIR="$BENCH_ROOT/dump/candidate" REF_DUMP_FILE="$dump_file"
    say "candidate load: $CANDIDATE_LOAD_CMD"
    timed cand-load "$CANDIDATE_LOAD_CMD"
    inst_sql "$RESTORE_PORT" 'FLUSH PRIVILEGES'
    match=no
    [[ "$(sb_checksums "$RESTORE_PORT")" == "$checksums" ]] && match=yes
    echo "RESULT tool=candidate-load seconds=$WALL user_s=$USER_S sys_s=$SYS_S rows=$rows rows_per_s=$(per_s "$rows" "$WALL") checksums_match=$match"
    [[ $match == yes ]] || fail "candidate load: the tables differ from the dump-time checksums"
  else
    say "reference load (untimed) before the candidate replay"
    timed load-again "$LOAD"
  fi
  if [[ -n ${CANDIDATE_REPLAY_CMD:-} ]]; then
    inst_sql "$RESTORE_PORT" 'RESET MASTER'
    export BINLOG_DIR="$SRC_DIR" BINLOG_FILES="${RANGE[*]}" START_FILE="$binlog_file" START_POS="$binlog_pos" \
      START_GTID="$gtid" END_GTID
    say "candidate replay: $CANDIDATE_REPLAY_CMD"
    timed cand-replay "$CANDIDATE_REPLAY_CMD"
    replay_result candidate-replay
  fi
fi
