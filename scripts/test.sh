#!/usr/bin/env bash
# The one test command: installs what is missing, type-checks, lints, then runs every unit and
# integration test (real MariaDB servers in temp dirs, the fauxqs S3/SQS emulator, the CLI as a
# child process). Usage: scripts/test.sh [test files...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="/usr/sbin:/usr/local/sbin:$PATH"   # mariadbd lives in /usr/sbin

if (($# == 0)); then
  echo "== typecheck" >&2
  npx tsc -p tsconfig.json --noEmit
  echo "== lint" >&2
  npx eslint --max-warnings=0 .
  npx prettier --check --log-level=warn .
  # Node 22 LTS (the container image's and the Lambda runtime's): unit tests and a CLI smoke run.
  bash scripts/node22-check.sh
  files=(test/unit/*.test.ts test/integration/*.test.ts)
else
  files=("$@")
fi
echo "== tests (${#files[@]} files)" >&2
# Files run two at a time: each integration file starts its own servers on free ports.
exec node --import tsx --enable-source-maps --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
