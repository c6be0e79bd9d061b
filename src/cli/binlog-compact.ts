import {
  compactRepository,
  DEFAULT_COMPACT_MAX_OBJECT_BYTES,
  type CompactRepositoryResult,
} from '../maintenance/index.js';
import { ConfigError } from '../config/index.js';
import type { ObjectStore } from '../storage/index.js';
import { parseByteSize } from './archive.js';
import type { CliCommand } from './cli-command.js';
import { formatBytes } from './format-bytes.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/**
 * Test hook, for the crash tests only (test/integration/binlog-compact.test.ts): with
 * `MYSQL_PITR_TEST_COMPACT_CRASH_AFTER=N` in the environment, the process kills itself with
 * SIGKILL right after its N-th write to the repository (each put, and each key of a delete, counts
 * one; deletes are then made one key at a time). Not a configuration option: not in `--help`.
 */
export const COMPACT_CRASH_ENV = 'MYSQL_PITR_TEST_COMPACT_CRASH_AFTER';

function crashAfterWrites(store: ObjectStore, writes: number): ObjectStore {
  let done = 0;
  const count = (): void => {
    done += 1;
    if (done >= writes) process.kill(process.pid, 'SIGKILL');
  };
  return {
    supportsConditionalPut: store.supportsConditionalPut,
    async put(...args) {
      const r = await store.put(...args);
      count();
      return r;
    },
    get: (...args) => store.get(...args),
    getStream: (...args) => store.getStream(...args),
    head: (...args) => store.head(...args),
    exists: (...args) => store.exists(...args),
    list: (...args) => store.list(...args),
    async delete(keys) {
      for (const key of keys) {
        await store.delete([key]);
        count();
      }
    },
    describe: () => store.describe(),
  };
}

/** The text report of a compaction (or dry run). */
export function formatCompactResult(r: CompactRepositoryResult): string {
  const lines: string[] = [];
  for (const f of r.files) {
    lines.push(
      `${r.dryRun ? 'would compact' : 'compacted'} timeline ${f.timeline} ${f.file}: ${f.objectsBefore} -> ` +
        `${f.objectsAfter} objects, ${formatBytes(f.storedBytesBefore)}` +
        (r.dryRun ? '' : ` -> ${formatBytes(f.storedBytesAfter)}`),
    );
  }
  if (r.files.length === 0) lines.push('nothing to compact');
  if (r.indexesWritten > 0) {
    lines.push(
      `${r.dryRun ? 'would write' : 'wrote'} the index of ${r.indexesWritten} closed file(s) that had none`,
    );
  }
  if (r.orphanIndexesDeleted > 0) {
    lines.push(
      `${r.dryRun ? 'would delete' : 'deleted'} the index of ${r.orphanIndexesDeleted} file(s) with no object left`,
    );
  }
  if (r.tooRecent > 0) lines.push(`${r.tooRecent} closed file(s) left alone: newer than --older-than`);
  lines.push(
    `binlog objects: ${r.objectsBefore} before, ${r.objectsAfter} after${r.dryRun ? ' (planned)' : ''}; ` +
      `stored ${formatBytes(r.storedBytesBefore)} before` +
      (r.dryRun ? '' : `, ${formatBytes(r.storedBytesAfter)} after`) +
      `; ${r.files.length} file(s) ${r.dryRun ? 'to compact' : 'compacted'}`,
  );
  return lines.join('\n');
}

export const binlogCompact: CliCommand = {
  words: ['binlog', 'compact'],
  summary: "Merge closed binlog files' many small segments into few large objects (crash-safe)",
  usage: '[--older-than DURATION] [--max-object-bytes SIZE] [--dry-run] [--json] --repo URL',
  details:
    'Rewrites the segments of every closed binlog file (a later file exists on its timeline, or a newer ' +
    'timeline exists; never the file the archiver is writing) into objects of at most --max-object-bytes ' +
    'stored bytes, under binlogs/<timeline>/<file>/<start>-<end>.zst, in the same segment format. Every input ' +
    'is verified before, and every merged object read back and verified after it is written; the inputs are ' +
    'deleted last. Readers ignore the segments a merged object covers, so stopping compaction at any moment ' +
    '(kill -9 included) loses and doubles nothing; run it again to finish. One compaction at a time per ' +
    'repository (locks/compact.json; a second one exits with code 7). See docs/archive-layout.md, "Compaction".',
  options: [
    ...REPO_OPTIONS,
    {
      key: 'olderThan',
      flag: 'older-than',
      type: 'duration',
      valueName: 'DURATION',
      description:
        'Only files whose newest object is older than this (e.g. 1h, 2d); default every closed file',
    },
    {
      key: 'maxObjectBytes',
      flag: 'max-object-bytes',
      type: 'string',
      default: `${DEFAULT_COMPACT_MAX_OBJECT_BYTES / 1024 / 1024}MiB`,
      valueName: 'SIZE',
      description: 'Largest merged object (stored bytes)',
    },
    {
      key: 'dryRun',
      flag: 'dry-run',
      type: 'boolean',
      env: false,
      description: 'Show what would be merged; write and delete nothing',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const maxObjectBytes = parseByteSize(o.string('maxObjectBytes'), '--max-object-bytes');
    const olderThanMs = o.optionalNumber('olderThan');
    if (maxObjectBytes < 1024 * 1024) {
      throw new ConfigError(
        `--max-object-bytes ${maxObjectBytes} is too small to be worth it; use at least 1MiB`,
      );
    }
    let store = openRepository(o, ctx.logger);
    const crashAfter = ctx.env[COMPACT_CRASH_ENV];
    if (crashAfter !== undefined) store = crashAfterWrites(store, Number(crashAfter));
    const result = await compactRepository(store, {
      maxObjectBytes,
      ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      dryRun: o.boolean('dryRun'),
      logger: ctx.logger,
      signal: ctx.signal,
    });
    ctx.stdout.write(
      o.boolean('json') ? `${JSON.stringify(result, null, 2)}\n` : `${formatCompactResult(result)}\n`,
    );
  },
};
