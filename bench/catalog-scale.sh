#!/usr/bin/env bash
# bench/catalog-scale.sh -- restore plan / expire --dry-run / verify over a repository of
# CATALOG_SEGMENTS segments (default 1,000,000) in the S3 emulator (bench/catalog-scale.ts).
# CATALOG_LAYOUTS=all also measures the plain (uncompacted) layout with and without the file index
# (use a smaller CATALOG_SEGMENTS then: listing 1,000,000 keys through the emulator takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=/usr/sbin:$PATH node --import tsx bench/catalog-scale.ts "${CATALOG_SEGMENTS:-1000000}" \
  "${CATALOG_SEGMENTS_PER_FILE:-3600}" "${CATALOG_LAYOUTS:-compacted}"
