# shellcheck shell=bash
# bench/ref/common.sh -- helpers of the project's reference benchmarks (source it; it runs nothing).
#
# The reference scripts (gen-load.sh, stream.sh, dump.sh, restore.sh) time the stock MariaDB tools
# on throwaway servers; the bench/*.sh scenarios put mysql-pitr beside them through each script's
# CANDIDATE_*_CMD hook. Every server lives in a datadir under $BENCH_ROOT, started with
# --no-defaults (nothing from /etc/mysql), listening on 127.0.0.1 and on DATADIR/mysql.sock.
#
# Environment (all optional):
#   BENCH_ROOT    where instances and artefacts go                 (default /tmp/bench)
#   SRC_PORT      port of the source instance                      (default 3310)
#   SRC_DIR       datadir of the source instance                   (default $BENCH_ROOT/src)
#   DB_EXTRA_OPTS extra mariadbd options for every instance
#   BENCH_USER/BENCH_PASS  all-privileges TCP user                 (bench / benchpw)
#   REPL_USER/REPL_PASS    REPLICATION SLAVE + BINLOG MONITOR user (repl / replpw)
#   SB_DB, SB_TABLES, SB_THREADS  sysbench schema, tables, threads (sbtest, 8, 2)
# Output convention: human lines on stderr, `RESULT key=value ...` lines on stdout.

REF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_ROOT="${BENCH_ROOT:-/tmp/bench}"
SRC_PORT="${SRC_PORT:-3310}"
SRC_DIR="${SRC_DIR:-$BENCH_ROOT/src}"
SRC_SERVER_ID="${SRC_SERVER_ID:-1}"
DB_EXTRA_OPTS="${DB_EXTRA_OPTS:-}"
BENCH_USER="${BENCH_USER:-bench}"
BENCH_PASS="${BENCH_PASS:-benchpw}"
REPL_USER="${REPL_USER:-repl}"
REPL_PASS="${REPL_PASS:-replpw}"
SB_DB="${SB_DB:-sbtest}"
SB_TABLES="${SB_TABLES:-8}"
SB_THREADS="${SB_THREADS:-2}"
export PATH="/usr/sbin:$PATH" # mariadbd
export REF_DIR BENCH_ROOT SRC_PORT SRC_DIR BENCH_USER BENCH_PASS REPL_USER REPL_PASS

# --- output and arithmetic ----------------------------------------------------------------------
say() { printf '%s ref: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
clock() { date +%s.%N; }
since() { echo "$(clock) - $1" | bc | awk '{printf "%.3f", $1}'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "inf" }'; }
mib_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else print "inf" }'; }

# timed NAME COMMAND-STRING [LOG_DIR]: runs COMMAND with bash -c (pipefail), its output to
# LOG_DIR/NAME.log (default $BENCH_ROOT); sets WALL USER_S SYS_S (seconds). Fails the script if the
# command fails.
timed() {
  local name="$1" cmd="$2" dir="${3:-$BENCH_ROOT}" TIMEFORMAT='%R %U %S'
  if ! { time bash -c "set -o pipefail; $cmd" >"$dir/$name.log" 2>&1; } 2>"$dir/$name.time"; then
    tail -20 "$dir/$name.log" >&2
    fail "$name"
  fi
  read -r WALL USER_S SYS_S <"$dir/$name.time"
}

# --- packages -------------------------------------------------------------------------------------
# need_tools PROGRAM...: installs the Debian packages of missing programs (mariadbd, mariadb,
# mariadb-binlog, mariadb-dump, sysbench, zstd).
need_tools() {
  local p pkgs=()
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 && continue
    case $p in
      mariadbd) pkgs+=(mariadb-server) ;;
      mariadb | mariadb-binlog | mariadb-dump | mariadb-admin) pkgs+=(mariadb-client) ;;
      *) pkgs+=("$p") ;;
    esac
  done
  ((${#pkgs[@]})) || return 0
  say "installing ${pkgs[*]}"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${pkgs[@]}" | sort -u) >/dev/null
}

# --- instances ------------------------------------------------------------------------------------
inst_pid() { [[ -s $1/mariadbd.pid ]] && kill -0 "$(cat "$1/mariadbd.pid")" 2>/dev/null && cat "$1/mariadbd.pid"; }
inst_alive() { inst_pid "$1" >/dev/null; }

# inst_root DIR SQL: SQL as root over the instance's socket, tab-separated, no headers.
inst_root() { mariadb --no-defaults --socket="$1/mysql.sock" -uroot -N -B -e "$2"; }
# inst_sql PORT SQL: SQL as the bench user over TCP.
inst_sql() { mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$1" -u"$BENCH_USER" -p"$BENCH_PASS" -N -B -e "$2"; }
# client_cmd PORT: the mariadb client command line (bench user, TCP) as a string for `timed`.
client_cmd() { echo "mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P$1 -u$BENCH_USER -p$BENCH_PASS"; }

# inst_start PORT DIR SERVER_ID [mariadbd options...]: creates DIR if needed, starts mariadbd in the
# background (binlog on, ROW, CRC32, GTID strict) and waits until it answers; adds the users once.
inst_start() {
  local port="$1" dir="$2" sid="$3" i
  shift 3
  if inst_alive "$dir"; then
    say "instance $dir already running"
    return 0
  fi
  if [[ ! -d $dir/mysql ]]; then
    mkdir -p "$dir" "$dir.tmp"
    # its own tmpdir: a starting server clears #sql files in its tmpdir, so a shared /tmp breaks
    # another server bootstrapping at the same time
    TMPDIR="$dir.tmp" mariadb-install-db --no-defaults --user=root --datadir="$dir" \
      --auth-root-authentication-method=socket --skip-test-db >"$dir.install.log" 2>&1 ||
      { tail -20 "$dir.install.log" >&2; fail "mariadb-install-db $dir"; }
  fi
  mkdir -p "$dir.tmp"
  say "mariadbd port $port datadir $dir server_id $sid"
  # shellcheck disable=SC2086
  setsid mariadbd --no-defaults --user=root --datadir="$dir" --tmpdir="$dir.tmp" --port="$port" \
    --bind-address=127.0.0.1 --socket="$dir/mysql.sock" --pid-file="$dir/mariadbd.pid" \
    --log-error="$dir/error.log" --server-id="$sid" --log-bin=mysql-bin --binlog-format=ROW \
    --binlog-checksum=CRC32 --gtid-strict-mode=ON --log-slave-updates --skip-name-resolve \
    --innodb-buffer-pool-size=1G --max-binlog-size=64M $DB_EXTRA_OPTS "$@" \
    </dev/null >"$dir.out" 2>&1 &
  for ((i = 0; i < 900; i++)); do
    mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1 && break
    if ((i > 25)) && ! inst_alive "$dir"; then
      tail -20 "$dir/error.log" >&2
      fail "mariadbd in $dir exited while starting"
    fi
    sleep 0.2
  done
  ((i < 900)) || fail "mariadbd in $dir did not answer within 180 s"
  if [[ ! -f $dir/.ref-users ]]; then
    # not binlogged: the users never appear in the ranges the benchmarks replay
    inst_root "$dir" "SET SESSION sql_log_bin=0;
      CREATE USER IF NOT EXISTS '$BENCH_USER'@'%' IDENTIFIED BY '$BENCH_PASS';
      GRANT ALL PRIVILEGES ON *.* TO '$BENCH_USER'@'%' WITH GRANT OPTION;
      CREATE USER IF NOT EXISTS '$BENCH_USER'@'localhost' IDENTIFIED BY '$BENCH_PASS';
      GRANT ALL PRIVILEGES ON *.* TO '$BENCH_USER'@'localhost' WITH GRANT OPTION;
      CREATE USER IF NOT EXISTS '$REPL_USER'@'%' IDENTIFIED BY '$REPL_PASS';
      GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '$REPL_USER'@'%';"
    touch "$dir/.ref-users"
  fi
}

# inst_stop DIR: SIGTERM to the instance's mariadbd, then wait (SIGKILL after 5 minutes).
inst_stop() {
  local pid i
  pid="$(inst_pid "$1")" || return 0
  say "stopping mariadbd $pid ($1)"
  kill -TERM "$pid"
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# The source instance is shared by the reference scripts: each starts it if needed and, in its
# EXIT trap, stops it only if it started it (and KEEP_SRC is not 1).
SRC_OURS=0
source_up() {
  if inst_alive "$SRC_DIR"; then SRC_OURS=0; else
    inst_start "$SRC_PORT" "$SRC_DIR" "$SRC_SERVER_ID"
    SRC_OURS=1
  fi
}
source_down() { [[ $SRC_OURS == 1 && ${KEEP_SRC:-0} != 1 ]] && inst_stop "$SRC_DIR"; return 0; }

# --- binlogs and GTIDs ------------------------------------------------------------------------------
binlog_bytes() { inst_sql "$1" 'SHOW BINARY LOGS' | awk '{ s += $2 } END { printf "%d\n", s }'; }
binlog_files() { inst_sql "$1" 'SHOW BINARY LOGS' | wc -l; }
# gtid_seq PORT: the highest seq_no of domain 0 in @@gtid_binlog_pos (0 when none).
gtid_seq() {
  inst_sql "$1" 'SELECT @@GLOBAL.gtid_binlog_pos' | tr ',' '\n' |
    awk -F- '$1 == 0 && $3 + 0 > m { m = $3 + 0 } END { printf "%d\n", m }'
}
# seq_of GTID_POSITION: the seq_no of domain 0 in a GTID position text.
seq_of() { tr ',' '\n' <<<"$1" | awk -F- '$1 == 0 { print $3 }'; }

# --- sysbench -------------------------------------------------------------------------------------
sb_args() { echo "--db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=$1 --mysql-user=$BENCH_USER --mysql-password=$BENCH_PASS --mysql-db=$SB_DB --tables=$SB_TABLES"; }
sb_exists() { [[ "$(inst_sql "$1" "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$SB_DB' AND table_name='sbtest1'")" == 1 ]]; }
# sb_prepare PORT ROWS_PER_TABLE
sb_prepare() {
  inst_sql "$1" "CREATE DATABASE IF NOT EXISTS $SB_DB"
  say "sysbench prepare: $SB_TABLES tables x $2 rows"
  # shellcheck disable=SC2046
  sysbench oltp_write_only $(sb_args "$1") --table-size="$2" --threads="$SB_THREADS" prepare \
    >"$BENCH_ROOT/sysbench-prepare.log" 2>&1 || { tail -20 "$BENCH_ROOT/sysbench-prepare.log" >&2; fail "sysbench prepare"; }
}
sb_tables() { seq -s, -f "$SB_DB.sbtest%g" 1 "$SB_TABLES"; }
# sb_checksums PORT: "sbtest.sbtest1=N sbtest.sbtest2=M ..." from CHECKSUM TABLE.
sb_checksums() { inst_sql "$1" "CHECKSUM TABLE $(sb_tables)" | awk '{ printf "%s=%s ", $1, $2 }'; }
sb_size_bytes() { inst_sql "$1" "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema='$SB_DB'"; }

machine_line() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "$(mariadbd --version | sed 's/.*Ver //; s/ for .*//'); zstd $(zstd -V | grep -o 'v[0-9.]*')"
}
