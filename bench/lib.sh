#!/usr/bin/env bash
# bench/lib.sh -- helpers shared by the project's benchmark scenarios.
#
# Every scenario runs one of the project's reference scripts in bench/ref/ (stock MariaDB tools on
# throwaway servers) with that script's CANDIDATE_*_CMD hook set to a mysql-pitr command, so the reference tool and
# mysql-pitr are timed on the same data, in the same run, and verified the same way. Scenarios then
# print `RATIO name=value` lines computed from the reference script's `RESULT` lines.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REF_BENCH="$PROJECT_DIR/bench/ref"
export PATH="/usr/sbin:$PATH"
# The CLI as the benchmarks run it: compiled once by run.sh when dist/ is missing or stale,
# otherwise through tsx (slower start-up, same code).
# PITR_CMD from the environment wins (e.g. a build in another outDir).
if [[ -n ${PITR_CMD:-} ]]; then
  :
elif [[ -f $PROJECT_DIR/dist/src/cli/main.js ]]; then
  PITR_CMD="node $PROJECT_DIR/dist/src/cli/main.js"
else
  PITR_CMD="node --import tsx $PROJECT_DIR/src/cli/main.ts"
fi
export PITR_CMD PROJECT_DIR

# result_field FILE MATCH KEY -> value of KEY= on the first RESULT line of FILE that contains MATCH
result_field() {
  grep '^RESULT ' "$1" | grep -F -- "$2" | head -1 | tr ' ' '\n' | sed -n "s/^$3=//p" | head -1
}

# ratio NAME NUMERATOR DENOMINATOR -> prints "RATIO NAME=x.xx" (NUMERATOR/DENOMINATOR)
ratio() {
  awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) printf "RATIO %s=n/a\n", n; else printf "RATIO %s=%.2f\n", n, a / b }'
}
