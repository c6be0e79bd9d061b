import { spawn } from 'node:child_process';
import { PitrError, type PitrErrorCode } from '../errors/index.js';
import { clientEnvironment } from '../mysql/index.js';
import type { TargetConnection } from './execute-restore.js';
import type { RestorePlan } from './plan/plan-restore.js';

/** Which preflight check failed. */
export type PreflightCheck = 'program' | 'privileges' | 'archive';

/**
 * A restore refused before it changed anything on the target: a program the applier needs does not
 * run (RESTORE_TOOL_MISSING), the target user lacks privileges (MYSQL_PREREQUISITE), or the
 * repository does not hold the whole planned range (BINLOG_GAP).
 */
export class RestorePreflightError extends PitrError {
  /** The check that failed. */
  readonly check: PreflightCheck;
  /** What is missing: program names, privilege names, or `file:from..to` ranges. */
  readonly missing: readonly string[];

  constructor(
    code: PitrErrorCode,
    check: PreflightCheck,
    missing: readonly string[],
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.check = check;
    this.missing = missing;
  }
}

/** An external program a restore step runs, and the flag that names it. */
export interface RequiredProgram {
  /** The program as it will be spawned (a name looked up in PATH, or a path). */
  program: string;
  /** The CLI flag that chooses it, for the message (e.g. `--binlog-program`). */
  flag?: string;
  /** What it is used for, for the message (e.g. "decodes the binlogs"). */
  purpose: string;
}

/** What a restore command needs before it may touch the target. */
export interface RestorePreflightOptions {
  /** The target as `host:port`, for messages. */
  targetName: string;
  /** A connection to the target (only reads and a no-op session variable assignment are sent). */
  target: TargetConnection;
  /** Programs that must run with `--version` (deduplicated by name). */
  programs?: readonly RequiredProgram[];
  /** Global privileges the target user needs (see RESTORE_PRIVILEGES). */
  privileges?: readonly string[];
  /** The applying sessions set `sql_log_bin=0` (needs SUPER or BINLOG ADMIN on MariaDB). */
  sessionBinlogOff?: boolean;
  /** The plan whose binlog range must be fully archived. */
  plan?: RestorePlan;
  /** How long one `--version` may take (default 20 s). */
  programTimeoutMs?: number;
  /** The source's flavour (default: the plan's): a MySQL source gets the hint to use MySQL's program names. */
  flavor?: 'mariadb' | 'mysql';
}

/**
 * The global privileges loading a dump and applying binlogs uses: the DDL and DML of the restored
 * history, including views, triggers, routines and events.
 */
export const RESTORE_PRIVILEGES: readonly string[] = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'REFERENCES',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
];

/** The result of running `program --version`: the first line it printed, or why it did not run. */
async function runVersion(
  program: string,
  timeoutMs: number,
): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], env: clientEnvironment() });
    } catch (e) {
      resolve({ ok: false, reason: (e as Error).message });
      return;
    }
    const out: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => out.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        reason:
          e.code === 'ENOENT' ? 'not found in PATH' : e.code === 'EACCES' ? 'not executable' : e.message,
      });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString().trim();
      if (code === 0) resolve({ ok: true, version: text.split('\n')[0] ?? '' });
      else
        resolve({
          ok: false,
          reason: `\`${program} --version\` ${signal ? `was killed (${signal})` : `exited ${code}`}${text ? `: ${text.slice(0, 300)}` : ''}`,
        });
    });
  });
}

/**
 * Checks that every program runs (`--version`), in parallel.
 *
 * @throws RestorePreflightError RESTORE_TOOL_MISSING naming each program that does not run and why
 */
export async function checkPrograms(
  programs: readonly RequiredProgram[],
  timeoutMs = 20_000,
  flavor: 'mariadb' | 'mysql' = 'mariadb',
): Promise<void> {
  const unique = [...new Map(programs.map((p) => [p.program, p])).values()];
  const results = await Promise.all(
    unique.map(async (p) => ({ p, r: await runVersion(p.program, timeoutMs) })),
  );
  const failed = results.filter((x) => !x.r.ok);
  if (failed.length === 0) return;
  const lines = failed.map(
    ({ p, r }) =>
      `${p.program} (${p.purpose}${p.flag ? `; chosen with ${p.flag}` : ''}): ${r.ok ? '' : r.reason}`,
  );
  throw new RestorePreflightError(
    'RESTORE_TOOL_MISSING',
    'program',
    failed.map((x) => x.p.program),
    `a program this restore needs does not run: ${lines.join('; ')}. Nothing was changed on the target. ` +
      (flavor === 'mysql'
        ? 'For a MySQL source install the MySQL client programs and pass --binlog-program mysqlbinlog ' +
          '--client-program mysql (or point the flags at them)'
        : 'Install the MariaDB client programs (Debian: apt-get install mariadb-client), put them in PATH, or ' +
          'point the flag at them'),
  );
}

async function rows<T>(c: TargetConnection, sql: string): Promise<T[]> {
  const [r] = await c.query(sql);
  return r as T[];
}

/**
 * The privileges of `required` the current user lacks globally (information_schema.USER_PRIVILEGES
 * of CURRENT_USER()). Grants through roles or on single databases are not counted.
 */
export async function missingPrivileges(
  target: TargetConnection,
  required: readonly string[],
): Promise<string[]> {
  const have = await rows<{ p: string }>(
    target,
    'SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ' +
      "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')",
  );
  const set = new Set(have.map((r) => r.p.toUpperCase()));
  return required.filter((p) => !set.has(p.toUpperCase()));
}

/**
 * Checks that the target user holds `privileges` and, with `sessionBinlogOff`, may set
 * `sql_log_bin` (it is set to its own value: nothing changes).
 *
 * @throws RestorePreflightError MYSQL_PREREQUISITE naming the missing privileges and the GRANT to run
 */
export async function checkPrivileges(
  target: TargetConnection,
  targetName: string,
  privileges: readonly string[],
  sessionBinlogOff: boolean,
): Promise<void> {
  const missing = await missingPrivileges(target, privileges);
  if (sessionBinlogOff) {
    try {
      await target.query('SET SESSION sql_log_bin = @@SESSION.sql_log_bin');
    } catch (e) {
      missing.push(`SUPER or BINLOG ADMIN (to set sql_log_bin=0: ${(e as Error).message})`);
    }
  }
  if (missing.length === 0) return;
  const grantable = missing.filter((p) => !p.startsWith('SUPER or'));
  throw new RestorePreflightError(
    'MYSQL_PREREQUISITE',
    'privileges',
    missing,
    `the target user on ${targetName} lacks privileges the restore needs: ${missing.join(', ')}. Nothing was ` +
      'changed on the target. Grant them globally' +
      (grantable.length ? ` (GRANT ${grantable.join(', ')} ON *.* TO the user)` : '') +
      ', or restore as an administrative user',
  );
}

/**
 * The holes in the plan's segments: each file's segments must run without a gap from the file's
 * first byte to its planned stop (or the end of its last segment).
 */
export function planRangeHoles(plan: Pick<RestorePlan, 'files'>): string[] {
  const holes: string[] = [];
  for (const f of plan.files) {
    const segs = [...f.segments].sort((a, b) => a.start - b.start);
    if (segs.length === 0) {
      holes.push(`${f.file}:${f.from}..${f.to ?? 'end'} (no segment)`);
      continue;
    }
    if (segs[0]!.start > 4) holes.push(`${f.file}:4..${segs[0]!.start}`);
    for (let i = 1; i < segs.length; i++) {
      if (segs[i]!.start > segs[i - 1]!.end) holes.push(`${f.file}:${segs[i - 1]!.end}..${segs[i]!.start}`);
    }
    const end = segs.at(-1)!.end;
    if (f.to !== undefined && end < f.to) holes.push(`${f.file}:${end}..${f.to}`);
  }
  return holes;
}

/**
 * Everything a restore checks before it changes the target: the programs run, the target user has
 * the privileges, the repository holds the whole planned range. Sends only reads (and a no-op
 * session variable assignment) to the target.
 *
 * @throws RestorePreflightError RESTORE_TOOL_MISSING, MYSQL_PREREQUISITE or BINLOG_GAP; nothing is changed
 */
export async function restorePreflight(opts: RestorePreflightOptions): Promise<void> {
  if (opts.plan) {
    const holes = planRangeHoles(opts.plan);
    if (holes.length > 0) {
      throw new RestorePreflightError(
        'BINLOG_GAP',
        'archive',
        holes,
        `the repository does not hold the whole binlog range of this restore (missing ${holes.join(', ')}). Nothing ` +
          'was changed on the target. Run `mysql-pitr verify` and `mysql-pitr binlog list`, then choose a point ' +
          'the archive covers',
      );
    }
  }
  if (opts.programs?.length) {
    await checkPrograms(opts.programs, opts.programTimeoutMs, opts.flavor ?? opts.plan?.backup.source.flavor);
  }
  await checkPrivileges(
    opts.target,
    opts.targetName,
    opts.privileges ?? RESTORE_PRIVILEGES,
    opts.sessionBinlogOff ?? true,
  );
}
