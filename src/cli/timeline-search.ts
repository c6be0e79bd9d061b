import { PitrError, messageOf } from '../errors/index.js';
// The files, not src/restore/index.js: a search must start without loading the restore pipeline.
import { parseRestoreTime } from '../restore/plan/restore-target.js';
import { searchTimeline, type SegmentReadCounts, type TimelineMatch } from '../restore/timeline-search.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/** `db.tbl +3 ~1 -2` per table written: rows inserted (+), updated (~), deleted (-). */
function rowCounts(m: TimelineMatch): string {
  if (m.rows.length === 0) return '-';
  return m.rows
    .map(
      (r) =>
        `${r.table} +${r.inserted} ~${r.updated} -${r.deleted}${r.undecoded ? ' (rows not decoded: ?)' : ''}`,
    )
    .join(', ');
}

function line(m: TimelineMatch): string {
  const stmt = (m.statements[0] ?? '').replace(/\s+/g, ' ').slice(0, 200);
  return (
    `${new Date(m.commitTime).toISOString()}  ${m.gtid ?? '(no GTID)'}  ${m.file}:${m.startOffset}..${m.endOffset}` +
    `  ${rowCounts(m)}  ${stmt}`
  );
}

export const timelineSearch: CliCommand = {
  words: ['timeline', 'search'],
  summary: 'Find archived transactions by statement text or table: GTID, position, commit time',
  usage: '--repo URL (--query REGEX | --table DB.TBL) [--from TIME] [--to TIME] [--timeline ID] [--json]',
  details: [
    'Streams the archived binlogs of a timeline and prints each matching transaction: commit time, GTID,',
    'position (FILE:START..END), rows per table it wrote (`shop.orders +3 ~1 -250`: inserted, updated, deleted)',
    'and first statement. --query matches statement texts (QUERY events,',
    'MariaDB ANNOTATE_ROWS, MySQL ROWS_QUERY; row-based writes carry their statement only with',
    'binlog_annotate_row_events / binlog_rows_query_log_events on). TIMEs as for restore: RFC 3339 or',
    '"YYYY-MM-DD HH:MM:SS", UTC unless a zone is given. Then: mysql-pitr undo --gtid GTID --dry-run, or',
    'mysql-pitr restore plan --before-gtid GTID',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    {
      key: 'query',
      flag: 'query',
      type: 'string',
      env: false,
      valueName: 'REGEX',
      description: 'Regular expression matched against statements (case-insensitive)',
    },
    {
      key: 'table',
      flag: 'table',
      type: 'string',
      env: false,
      valueName: 'DB.TBL',
      description: 'Table the transaction writes',
    },
    {
      key: 'from',
      flag: 'from',
      type: 'string',
      env: false,
      valueName: 'TIME',
      description: 'Committed at or after TIME',
    },
    {
      key: 'to',
      flag: 'to',
      type: 'string',
      env: false,
      valueName: 'TIME',
      description: 'Committed at or before TIME',
    },
    {
      key: 'timeline',
      flag: 'timeline',
      type: 'string',
      env: false,
      valueName: 'ID',
      description: 'Timeline (default: the newest)',
    },
    {
      key: 'json',
      flag: 'json',
      type: 'boolean',
      env: false,
      description: 'Print one JSON object per match',
    },
  ],
  async run(ctx) {
    const o = ctx.options;
    const text = o.optionalString('query');
    const table = o.optionalString('table');
    const fromText = o.optionalString('from');
    const toText = o.optionalString('to');
    const json = o.boolean('json');
    if (!text && !table)
      throw new PitrError('USAGE', 'say what to find: --query REGEX and/or --table DB.TBL');
    let query: RegExp | undefined;
    if (text) {
      try {
        query = new RegExp(text, 'i');
      } catch (err) {
        throw new PitrError('USAGE', `--query "${text}" is not a regular expression: ${messageOf(err)}`);
      }
    }
    const store = openRepository(o, ctx.logger);
    let found = 0;
    const counts: SegmentReadCounts = { segments: 0, bytes: 0 };
    const examined = await searchTimeline(
      store,
      {
        query,
        table,
        from: fromText ? parseRestoreTime(fromText) : undefined,
        to: toText ? parseRestoreTime(toText) : undefined,
        timeline: o.optionalString('timeline'),
      },
      (m) => {
        found += 1;
        if (json) {
          ctx.stdout.write(`${JSON.stringify({ ...m, commitTime: new Date(m.commitTime).toISOString() })}\n`);
        } else ctx.stdout.write(`${line(m)}\n`);
      },
      ctx.signal,
      counts,
    );
    if (!json) {
      ctx.stderr.write(
        `${found} of ${examined} transactions match (${counts.segments} of ${counts.total ?? '?'} segments read)\n`,
      );
    }
  },
};
