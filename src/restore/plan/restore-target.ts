import { PitrError } from '../../errors/index.js';
import { isBinlogFileName } from '../../catalog/index.js';
import { formatMariadbGtid, formatMysqlGtid, parseMariadbGtid, parseMysqlGtid } from '../../gtid/index.js';

/**
 * Where a restore stops. Every restore command takes the same flags:
 *
 * - `--to TIME`: every transaction committed at or before TIME (binlog commit times have
 *   1-second resolution, so all transactions of that second are included);
 * - `--to latest`: everything archived;
 * - `--to-gtid G`: up to and including transaction G;
 * - `--before-gtid G`: up to, not including, transaction G;
 * - `--to-position FILE:POS`: up to a transaction boundary of binlog file FILE.
 */
export type RestoreTarget =
  | { kind: 'latest' }
  | {
      kind: 'time';
      /** Milliseconds since the epoch; transactions committed at or before it are included. */
      time: number;
    }
  | { kind: 'to-gtid'; gtid: string }
  | { kind: 'before-gtid'; gtid: string }
  | { kind: 'position'; file: string; position: number };

/** The raw flag values, as the CLI collects them. */
export interface RestoreTargetFlags {
  to?: string | undefined;
  toGtid?: string | undefined;
  beforeGtid?: string | undefined;
  toPosition?: string | undefined;
}

/** `--help` text shared by the restore commands. */
export const RESTORE_TARGET_HELP = [
  'Targets (exactly one):',
  '  --to TIME            every transaction committed at or before TIME. TIME is RFC 3339',
  '                       (2026-11-25T10:31:00Z, 2026-11-25T11:31:00+01:00) or "YYYY-MM-DD HH:MM:SS",',
  '                       read as UTC unless it carries a zone. Binlog commit times have 1-second',
  '                       resolution: every transaction of that second is included.',
  '  --to latest          everything archived',
  '  --to-gtid GTID       up to and including transaction GTID (MariaDB 0-1-42, MySQL uuid:42)',
  '  --before-gtid GTID   up to, not including, transaction GTID (skip a bad DELETE)',
  '  --to-position FILE:POS  up to byte POS of binlog FILE, which must be a transaction boundary',
].join('\n');

const LOCAL_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const ZONED_TIME_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Parses a TIME: RFC 3339 with a zone, or `YYYY-MM-DD HH:MM:SS` (also with `T`) read as UTC.
 *
 * @returns milliseconds since the epoch
 * @throws PitrError USAGE for anything else, with an example
 */
export function parseRestoreTime(text: string): number {
  const t = text.trim();
  let ms = Number.NaN;
  const local = LOCAL_TIME_RE.exec(t);
  if (local) {
    const [, y, mo, d, h, mi, s, frac] = local;
    ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    if (frac) ms += Math.floor(Number(`0${frac}`) * 1000);
    const back = new Date(ms);
    if (back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(h)) ms = Number.NaN;
  } else if (ZONED_TIME_RE.test(t)) {
    ms = Date.parse(t.replace(' ', 'T'));
  }
  if (Number.isNaN(ms)) {
    throw new PitrError(
      'USAGE',
      `--to "${text}" is not a time: use RFC 3339 such as 2026-11-25T10:31:00Z or "2026-11-25 10:31:00" ` +
        '(UTC unless a zone such as +02:00 is given), or --to latest',
    );
  }
  return ms;
}

/**
 * Checks a GTID's syntax: MariaDB `domain-server-seq` or MySQL `uuid[:tag]:gno`.
 *
 * @throws PitrError USAGE naming the flag
 */
export function normalizeGtid(text: string, flag: string): string {
  const t = text.trim();
  try {
    return /^\d+-\d+-\d+$/.test(t)
      ? formatMariadbGtid(parseMariadbGtid(t))
      : formatMysqlGtid(parseMysqlGtid(t));
  } catch {
    throw new PitrError(
      'USAGE',
      `${flag} "${text}" is not a GTID: MariaDB GTIDs look like 0-1-48213 (domain-server-sequence), ` +
        'MySQL ones like 3e11fa47-71ca-11e1-9e33-c80aa9429562:42. `mysql-pitr timeline search` prints them',
    );
  }
}

/**
 * Parses `FILE:POS`.
 *
 * @throws PitrError USAGE when it is not a binlog file name and a byte offset
 */
export function parsePosition(text: string): { file: string; position: number } {
  const m = /^(.+):(\d+)$/.exec(text.trim());
  if (!m || !isBinlogFileName(m[1]!) || !Number.isSafeInteger(Number(m[2]))) {
    throw new PitrError(
      'USAGE',
      `--to-position "${text}" is not FILE:POS such as mysql-bin.000042:1234 ` +
        '(`mysql-pitr timeline search` prints the positions of transactions)',
    );
  }
  return { file: m[1]!, position: Number(m[2]) };
}

/**
 * The target named by the flags; exactly one must be given.
 *
 * @throws PitrError USAGE when none or several are given, or one does not parse
 */
export function parseRestoreTarget(flags: RestoreTargetFlags): RestoreTarget {
  const given = (
    [
      ['--to', flags.to],
      ['--to-gtid', flags.toGtid],
      ['--before-gtid', flags.beforeGtid],
      ['--to-position', flags.toPosition],
    ] as const
  ).filter(([, v]) => v !== undefined && v !== '');
  if (given.length !== 1) {
    throw new PitrError(
      'USAGE',
      given.length === 0
        ? 'say where to stop: --to TIME, --to latest, --to-gtid GTID, --before-gtid GTID or --to-position FILE:POS'
        : `give one target, not ${given.map(([f]) => f).join(' and ')}`,
    );
  }
  if (flags.to !== undefined && flags.to !== '') {
    return flags.to.trim().toLowerCase() === 'latest'
      ? { kind: 'latest' }
      : { kind: 'time', time: parseRestoreTime(flags.to) };
  }
  if (flags.toGtid) return { kind: 'to-gtid', gtid: normalizeGtid(flags.toGtid, '--to-gtid') };
  if (flags.beforeGtid)
    return { kind: 'before-gtid', gtid: normalizeGtid(flags.beforeGtid, '--before-gtid') };
  return { kind: 'position', ...parsePosition(flags.toPosition!) };
}

/** The target as the operator would type it, for messages and reports. */
export function describeRestoreTarget(t: RestoreTarget): string {
  switch (t.kind) {
    case 'latest':
      return '--to latest';
    case 'time':
      return `--to ${new Date(t.time).toISOString()}`;
    case 'to-gtid':
      return `--to-gtid ${t.gtid}`;
    case 'before-gtid':
      return `--before-gtid ${t.gtid}`;
    case 'position':
      return `--to-position ${t.file}:${t.position}`;
  }
}
