#!/usr/bin/env bash
# bench/ref/gen-load.sh PORT SECONDS -- binlog traffic on a running instance, with sysbench.
#
# Creates the sysbench tables first when they are missing (SB_TABLES x TABLE_SIZE rows), then runs
# sysbench for SECONDS: 3/4 of the time oltp_write_only, 1/4 oltp_insert (WORKLOAD=mixed), or one
# of them (WORKLOAD=write_only | insert). Reports the binlog bytes and transactions (GTID seq_no
# of domain 0) each step added.
#
# Env:    TABLE_SIZE (default 200000), WORKLOAD (default mixed), SB_THREADS, SB_TABLES.
# Output: RESULT lines on stdout (prepare_*, then one per step and a total).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
(($# == 2)) || { echo "usage: $0 PORT SECONDS" >&2; exit 2; }
port="$1"
total="$2"
TABLE_SIZE="${TABLE_SIZE:-200000}"
mkdir -p "$BENCH_ROOT"
need_tools sysbench

if ! sb_exists "$port"; then
  b0=$(binlog_bytes "$port"); g0=$(gtid_seq "$port"); t0=$(clock)
  sb_prepare "$port" "$TABLE_SIZE"
  s=$(since "$t0"); b1=$(binlog_bytes "$port"); g1=$(gtid_seq "$port")
  echo "RESULT prepare_table_size=$TABLE_SIZE prepare_tables=$SB_TABLES prepare_s=$s prepare_binlog_bytes=$((b1 - b0)) prepare_binlog_mb=$(mib $((b1 - b0))) prepare_trx=$((g1 - g0))"
fi

case "${WORKLOAD:-mixed}" in
  mixed) steps=("oltp_write_only $((total * 3 / 4))" "oltp_insert $((total - total * 3 / 4))") ;;
  write_only) steps=("oltp_write_only $total") ;;
  insert) steps=("oltp_insert $total") ;;
  *) fail "WORKLOAD is mixed, write_only or insert" ;;
esac

B0=$(binlog_bytes "$port"); G0=$(gtid_seq "$port"); T0=$(clock)
for step in "${steps[@]}"; do
  read -r test secs <<<"$step"
  ((secs > 0)) || continue
  b0=$(binlog_bytes "$port"); g0=$(gtid_seq "$port")
  say "sysbench $test for ${secs}s on port $port"
  # shellcheck disable=SC2046
  sysbench "$test" $(sb_args "$port") --threads="$SB_THREADS" --time="$secs" --events=0 \
    --table-size="$TABLE_SIZE" --report-interval=0 run >"$BENCH_ROOT/sysbench-$test.log" 2>&1 ||
    { tail -20 "$BENCH_ROOT/sysbench-$test.log" >&2; fail "sysbench $test"; }
  read -r trx tps < <(awk '/transactions:/ { gsub(/[(]/, "", $3); print $2, $3 }' "$BENCH_ROOT/sysbench-$test.log")
  b1=$(binlog_bytes "$port"); g1=$(gtid_seq "$port")
  echo "RESULT step=$test seconds=$secs sysbench_trx=$trx sysbench_tps=$tps binlog_bytes=$((b1 - b0)) binlog_mb=$(mib $((b1 - b0))) binlog_trx=$((g1 - g0))"
done
S=$(since "$T0"); B1=$(binlog_bytes "$port"); G1=$(gtid_seq "$port")
echo "RESULT step=total seconds=$S binlog_bytes=$((B1 - B0)) binlog_mb=$(mib $((B1 - B0))) binlog_trx=$((G1 - G0)) binlog_mb_per_s=$(mib_per_s $((B1 - B0)) "$S") trx_per_s=$(per_s $((G1 - G0)) "$S") binlog_total_mb=$(mib "$B1") binlog_files=$(binlog_files "$port")"
