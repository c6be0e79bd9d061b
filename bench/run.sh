#!/usr/bin/env bash
# bench/run.sh -- runs every mysql-pitr benchmark scenario side by side with the reference tools.
#
# Usage: bench/run.sh [SCENARIO...]     (default: every bench/*.sh scenario except lib.sh/run.sh)
# e.g. bench/run.sh bench/catalog-scale.sh   (restore plan over 1,000,000 segments; CATALOG_* options)
# Each scenario prints `RESULT` lines (the reference script's, including its candidate-* lines for
# mysql-pitr) and `RATIO` lines (mysql-pitr time / reference time: below 1.00 means faster).
# Everything goes to $BENCH_ROOT/pitr-run-<timestamp>/; the RATIO lines are repeated at the end.
# Installs what it needs (the project's deps; bench/ref/ installs sysbench and zstd when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npx tsc -p tsconfig.build.json >/dev/null   # benchmarks time the compiled CLI, not tsx start-up
source bench/lib.sh

BENCH_ROOT="${BENCH_ROOT:-/tmp/bench}"
export BENCH_ROOT
RUN="$BENCH_ROOT/pitr-run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
if (($# == 0)); then
  mapfile -t scenarios < <(ls bench/*.sh | grep -vE '/(lib|run)\.sh$')
else
  scenarios=("$@")
fi
for s in "${scenarios[@]}"; do
  name="$(basename "$s" .sh)"
  echo "=== $name" >&2
  bash "$s" 2>"$RUN/$name.log" | tee "$RUN/$name.out" | grep -E '^(RESULT|RATIO) ' | sed "s/^/$name /" | tee -a "$RUN/results.txt"
done
echo "=== ratios (mysql-pitr / reference)" >&2
grep ' RATIO ' "$RUN/results.txt" || echo "no ratios: see $RUN/*.log" >&2
echo "results: $RUN/results.txt" >&2
