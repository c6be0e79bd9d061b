import { createWriteStream } from 'node:fs';
import { formatEndpoint, type OptionValues } from '../config/index.js';
import { PitrError } from '../errors/index.js';
import { connectMysql } from '../mysql/index.js';
// The one file, not src/restore/index.js: undo must start without loading the restore pipeline.
import { parseRestoreTime } from '../restore/plan/restore-target.js';
import { executeUndo, type UndoPlan, type UndoReport, type UndoSelection } from '../undo/index.js';
import type { CliCommand } from './cli-command.js';
import { confirm } from './confirm.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { readServer, serverOptions } from './server-options.js';

function summaryLines(plan: Pick<UndoPlan, 'summary' | 'transactions'>): string {
  const lines = plan.transactions.map(
    (t) =>
      `undo ${t.gtid ?? '(no GTID)'} at ${t.file}:${t.startOffset} (committed ${new Date(t.commitTime).toISOString()})`,
  );
  for (const s of plan.summary) {
    lines.push(
      `  ${s.table}: ${s.deleted} deleted row(s) re-inserted, ${s.updated} updated row(s) set back, ${s.inserted} inserted row(s) deleted`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function selectionOf(o: OptionValues): UndoSelection {
  const gtid = o.optionalString('gtid');
  const table = o.optionalString('table');
  const fromText = o.optionalString('from');
  const toText = o.optionalString('to');
  if (Boolean(gtid) === Boolean(table)) {
    throw new PitrError(
      'USAGE',
      'say what to undo: --gtid GTID[,GTID...] (find it with `mysql-pitr timeline search`), or --table DB.TBL with --from TIME and --to TIME',
    );
  }
  if (gtid) {
    const gtids = gtid
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    if (fromText || toText) throw new PitrError('USAGE', '--from and --to go with --table, not with --gtid');
    return { gtids };
  }
  if (!/^[^.]+\.[^.]+$/.test(table!)) throw new PitrError('USAGE', `--table "${table}" is not DB.TBL`);
  if (!fromText || !toText) {
    throw new PitrError(
      'USAGE',
      '--table needs --from TIME and --to TIME: the commit times of the transactions to undo',
    );
  }
  const from = parseRestoreTime(fromText);
  const to = parseRestoreTime(toText);
  if (to < from) throw new PitrError('USAGE', `--to ${toText} is before --from ${fromText}`);
  return { table: table!, from, to };
}

export const undo: CliCommand = {
  words: ['undo'],
  summary: 'Reverse the row changes of bad transactions on the live server, from the archived row images',
  usage:
    '--repo URL (--gtid GTID[,GTID...] | --table DB.TBL --from TIME --to TIME) --target mysql://USER@HOST:PORT [--dry-run] [--sql-out FILE] [--yes] [--json]',
  details: [
    'Reads the row images of the transactions from the archive and reverses them on the target in one ordinary',
    'transaction (written to its binary log, so replicas receive it): an INSERT becomes a DELETE, a DELETE an',
    'INSERT, an UPDATE is set back, in reverse order. --table undoes the row changes to that one table of the',
    'transactions committed between --from and --to (inclusive; TIMEs as for restore).',
    '',
    'Before changing anything it locks every affected row (SELECT ... FOR UPDATE by primary or unique key) and',
    'compares every column with what the transactions left. A row changed since, gone, or present again means it',
    'refuses (exit 3), changes nothing and lists the rows: key, column, expected and found value.',
    'It refuses (exit 6) when the row images are not FULL (binlog_row_image), when DDL touched an affected table',
    'from the first undone transaction on, or when a table has no primary or unique key: restore the table instead.',
    '',
    '--dry-run prints the inverse SQL on stdout (the summary and any conflicts on stderr) and changes nothing;',
    '--sql-out FILE writes the SQL to FILE instead and changes nothing either. Values are exact SQL literals',
    '(hex for binary strings, exact decimals, fractional seconds); the script sets the session time_zone to UTC.',
    '',
    'Example: mysql-pitr undo --repo s3://bucket/pitr/db1 --gtid 0-1-48213 --target mysql://admin@db1:3306 --dry-run',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    ...serverOptions('target', 'Server to undo the changes on (the live primary)'),
    {
      key: 'gtid',
      flag: 'gtid',
      type: 'string',
      env: false,
      valueName: 'GTID[,GTID...]',
      description: 'Transactions to undo',
    },
    {
      key: 'table',
      flag: 'table',
      type: 'string',
      env: false,
      valueName: 'DB.TBL',
      description: 'Undo the row changes to this table (with --from/--to)',
    },
    {
      key: 'from',
      flag: 'from',
      type: 'string',
      env: false,
      valueName: 'TIME',
      description: 'With --table: committed at or after TIME',
    },
    {
      key: 'to',
      flag: 'to',
      type: 'string',
      env: false,
      valueName: 'TIME',
      description: 'With --table: committed at or before TIME',
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
      key: 'dryRun',
      flag: 'dry-run',
      type: 'boolean',
      env: false,
      description: 'Print the inverse SQL on stdout; change nothing',
    },
    {
      key: 'sqlOut',
      flag: 'sql-out',
      type: 'string',
      env: false,
      valueName: 'FILE',
      description: 'Write the inverse SQL to FILE; change nothing',
    },
    {
      key: 'yes',
      flag: 'yes',
      short: 'y',
      type: 'boolean',
      env: false,
      description: 'Undo without asking; required off a terminal',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print the report as JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const selection = selectionOf(o);
    const { endpoint, password } = readServer(o, 'target');
    const sqlOut = o.optionalString('sqlOut');
    const dryRun = o.boolean('dryRun') || Boolean(sqlOut);
    const json = o.boolean('json');
    if (json && dryRun && !sqlOut) {
      throw new PitrError(
        'USAGE',
        '--dry-run prints SQL on stdout; with --json give --sql-out FILE for the SQL instead',
      );
    }
    const store = openRepository(o, ctx.logger);
    // As archive's connectionOptions, without loading the archiver.
    const conn = await connectMysql({
      user: endpoint.user,
      ...(endpoint.socket ? { socketPath: endpoint.socket } : { host: endpoint.host, port: endpoint.port }),
      ...(password !== undefined ? { password } : {}),
      ...(endpoint.tls ? { tls: endpoint.tls } : {}),
    });
    const file = sqlOut ? createWriteStream(sqlOut) : undefined;
    let report: UndoReport;
    try {
      report = await executeUndo(
        selection,
        { store, conn, timeline: o.optionalString('timeline'), signal: ctx.signal },
        {
          dryRun,
          sql: dryRun ? (chunk) => (file ? file.write(chunk) : ctx.stdout.write(chunk)) : undefined,
          onPlan: (plan) => ctx.stderr.write(summaryLines(plan)),
          confirm: dryRun
            ? undefined
            : (plan) =>
                confirm(
                  ctx,
                  `${plan.ops.length} row change(s) will be reversed on ${formatEndpoint(endpoint)}, in one transaction written to its binary log.`,
                  o.boolean('yes'),
                ),
        },
      );
    } finally {
      await conn.end().catch(() => undefined);
      if (file)
        await new Promise<void>((resolve, reject) =>
          file.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
    }
    for (const c of report.conflicts) {
      ctx.stderr.write(
        `warning: conflict: ${c.table} (${c.key})${c.column ? ` column ${c.column}` : ''}: expected ${c.expected}, found ${c.found}\n`,
      );
    }
    if (json) {
      ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (!dryRun) {
      const t = report.seconds;
      ctx.stdout.write(
        `undone: ${report.rowsChanged} row(s) changed by ${report.statements} statement(s) in one transaction on ${formatEndpoint(endpoint)}` +
          ` (read ${t.read.toFixed(2)} s, plan ${t.plan.toFixed(2)} s, check ${t.check.toFixed(2)} s, apply ${t.apply.toFixed(2)} s)\n`,
      );
    } else {
      ctx.stderr.write(
        `dry run: nothing changed${sqlOut ? `; SQL written to ${sqlOut}` : ''}${
          report.conflicts.length ? `; ${report.conflicts.length} conflict(s) would make the undo refuse` : ''
        }\n`,
      );
    }
  },
};
