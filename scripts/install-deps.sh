#!/usr/bin/env bash
# Installs what mysql-pitr's tests, benchmarks and quick start need on a fresh Debian machine
# with Node 20+: Debian's mariadb-server, mariadb-client and zstd when missing, then the npm
# dependencies (npm ci). Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v mariadb-binlog >/dev/null 2>&1 || need+=(mariadb-client)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
if ((${#need[@]})); then
  echo "install-deps: installing ${need[*]} from Debian" >&2
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  # policy-rc.d may refuse to start the packaged service; we never use it (tests start their own servers).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# zstd-napi is a native addon built from its bundled source; fail early and clearly if it did not build.
node -e "require('zstd-napi')" 2>/dev/null || { echo "install-deps: zstd-napi did not build (needs python3, make, g++)" >&2; exit 1; }
