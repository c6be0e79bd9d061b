#!/usr/bin/env bash
# bench/undo.sh -- `mysql-pitr undo` of one 10,000-row DELETE on a throwaway MariaDB, timed from the
# CLI's start to its exit (the whole command: archive read, decode, row checks, inverse INSERTs,
# COMMIT); the table's CHECKSUM TABLE must be back to its value before the DELETE. Target: < 5 s.
# Usage: bash bench/undo.sh    Env: ROWS (default 10000), PRE_MB (64), REPEAT (3), CPU_PROF=DIR, KEEP_WORK=1.
# Output: RESULT undo_rows=N undo_seconds=S(median) undo_runs=... read= plan= check= apply= rest= startup= segments_read=R/T search_all_seconds= search_from_seconds= checksum_ok=1 load_average=L
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/usr/sbin:/usr/local/sbin:$PATH"
# The compiled CLI, as bench/run.sh builds it (tsx start-up alone takes seconds on a busy machine).
[[ -f dist/src/cli/main.js && -z $(find src -newer dist/src/cli/main.js -name '*.ts' -print -quit) ]] ||
  npx tsc -p tsconfig.build.json
source bench/lib.sh
exec node --import tsx bench/undo.ts
