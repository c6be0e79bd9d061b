#!/usr/bin/env bash
# bench/backup-create.sh -- `mysql-pitr backup create` against `mariadb-dump | zstd -3`, same data,
# same run.
#
# Runs bench/ref/dump.sh (which times `mariadb-dump --single-transaction --master-data=2
# --all-databases ... | zstd -3` on the ~1 GiB sysbench dataset of its source instance) with its
# CANDIDATE_DUMP_CMD hook set to `mysql-pitr backup create` into a file:// repository in the
# candidate's directory, under /usr/bin/time -v for the peak RSS. Prints the reference script's
# RESULT lines, then:
#   RESULT tool=mysql-pitr-backup-create run=N peak_rss_kb=... sql_bytes=... stored_bytes=... objects=... binlog=... gtid=...
#   RATIO backup_create_time=<mysql-pitr seconds / mariadb-dump|zstd-3 seconds>
#   RATIO backup_create_size=<mysql-pitr stored bytes / zstd -3 bytes>
# and checks that the backup's binlog coordinates equal the reference dump's (the source is idle).
#
# The backup is a split backup (the default: sizes summed over its parts); PITR_BACKUP_ARGS adds
# flags, e.g. PITR_BACKUP_ARGS=--single-file. REPEAT=N runs reference and candidate N times in
# turn (the machine is shared: the load average is printed before and after each run).
#
# Usage:  bench/backup-create.sh
# Env:    everything bench/ref/dump.sh takes; for a quick run on a small dataset, e.g.
#           BENCH_ROOT=/tmp/bench-small SRC_PORT=3321 DUMP_TABLE_SIZE=20000 DUMP_MIN_MB=1 \
#           WITH_MYDUMPER=0 bench/backup-create.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_DIR"   # `node --import tsx` resolves tsx from the working directory

BENCH_ROOT="${BENCH_ROOT:-/tmp/bench}"
export BENCH_ROOT
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

# Runs under `bash -c` in bench/ref/dump.sh with SRC_HOST SRC_PORT SRC_USER SRC_PASS CAND_DUMP_DIR set.
# The password reaches mysql-pitr through the environment, never argv.
# shellcheck disable=SC2016  # expanded later, by bench/ref/dump.sh's bash -c
export CANDIDATE_DUMP_CMD='MYSQL_PITR_SOURCE_PASSWORD="$SRC_PASS" /usr/bin/time -v -o "$CAND_DUMP_DIR/../pitr-time.txt" \
  '"$PITR_CMD"' backup create --source "mysql://$SRC_USER@$SRC_HOST:$SRC_PORT" --repo "file://$CAND_DUMP_DIR" \
  --json --log-format json '"${PITR_BACKUP_ARGS:-}"' > "$CAND_DUMP_DIR/../pitr-manifest.json"'

REPEAT="${REPEAT:-1}"
for ((run = 1; run <= REPEAT; run++)); do
  echo "RESULT run=$run load_before=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  bash "$REF_BENCH/dump.sh" | tee "$OUT"

  DUMP_DIR="$BENCH_ROOT/dump"
  manifest="$DUMP_DIR/pitr-manifest.json"
  [[ -s $manifest ]] || { echo "bench: no manifest from mysql-pitr (see $DUMP_DIR/candidate.log)" >&2; exit 1; }
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DUMP_DIR/pitr-time.txt")
  # a split backup (format 2) has parts, a --single-file one a dump object
  read -r sql stored file pos gtid nparts < <(node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const objs = m.dump ? [m.dump] : m.parts;
    const sum = (k) => objs.reduce((a, o) => a + o[k], 0);
    console.log(sum("uncompressedSize"), sum("size"), m.binlog.file, m.binlog.position, m.gtidPosition ?? "-", objs.length);
  ' "$manifest")
  echo "RESULT tool=mysql-pitr-backup-create run=$run peak_rss_kb=$rss sql_bytes=$sql stored_bytes=$stored objects=$nparts binlog=$file:$pos gtid=$gtid load_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\""

  ref_file=$(result_field "$OUT" 'dump_binlog_file=' dump_binlog_file)
  ref_pos=$(result_field "$OUT" 'dump_binlog_pos=' dump_binlog_pos)
  if [[ "$ref_file:$ref_pos" != "$file:$pos" ]]; then
    echo "bench: mysql-pitr recorded $file:$pos but the reference dump $ref_file:$ref_pos (the source was idle)" >&2
    exit 1
  fi

  ratio backup_create_time "$(result_field "$OUT" 'tool=candidate-dump' seconds)" \
    "$(result_field "$OUT" 'tool=mariadb-dump+zstd3' seconds)"
  ratio backup_create_size "$stored" "$(result_field "$OUT" 'tool=mariadb-dump+zstd3' zst_bytes)"
done
