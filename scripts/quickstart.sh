#!/usr/bin/env bash
# The main job on embedded defaults: installs what is missing, starts a throwaway MariaDB in a
# temporary directory, and walks through mysql-pitr against it with a local repository folder.
# Leaves nothing running. Usage: scripts/quickstart.sh   (KEEP=1 keeps the repository folder)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="/usr/sbin:/usr/local/sbin:$PATH"   # mariadbd lives in /usr/sbin
exec node --import tsx --enable-source-maps scripts/quickstart.ts "$@"
