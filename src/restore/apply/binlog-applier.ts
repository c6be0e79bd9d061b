import { once } from 'node:events';
import { PitrError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { startBinlogDecoder } from './binlog-decoder.js';
import type { ClientCommand } from './client-command.js';
import type { PlanFile, RestorePlan } from '../plan/plan-restore.js';
import type { RequiredProgram } from '../restore-preflight.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import { writeChunk } from '../load/write-chunk.js';

/** What an applier reports. */
export interface ApplyResult {
  /** Transactions applied (GTID events seen in the apply stream). */
  transactions: number;
  /** The last GTID applied, if any. */
  lastGtid: string | undefined;
}

/** The binlog bytes a plan applies: each file from `from` to `to` (or the end of its last segment). */
export function planApplyBytes(plan: RestorePlan): number {
  return plan.files.reduce((a, f) => a + fileApplyBytes(f), 0);
}

function fileApplyBytes(f: PlanFile): number {
  return Math.max(0, (f.to ?? f.segments.at(-1)?.end ?? f.from) - f.from);
}

/**
 * Applies the binlog range of a plan to the target. The default pipes `mariadb-binlog` into
 * `mariadb`; a faster applier (a replay server) can implement the same interface.
 */
export interface BinlogApplier {
  /**
   * The external programs apply() runs; the restore preflight checks that each runs before the
   * target is changed. None when the applier needs no program.
   */
  readonly programs?: readonly RequiredProgram[];
  /**
   * Applies `plan.files` in order, each from `file.from` to `file.to` (or its end).
   *
   * @param bytes the binlog bytes of one planned file from its first byte, verified
   * @param onProgress receives `apply` progress: binlog bytes of the planned range applied so far
   *   (`total` is {@link planApplyBytes}) and transactions; the last report has `done === total`
   * @throws PitrError RESTORE_APPLY_FAILED naming the failing transaction and how to continue
   */
  apply(
    plan: RestorePlan,
    bytes: (file: PlanFile) => AsyncIterable<Buffer>,
    signal?: AbortSignal,
    onProgress?: RestoreProgressListener,
  ): Promise<ApplyResult>;
}

/** Transaction start lines kept to name a failing transaction (the client reads at most a pipe ahead). */
const RING = 50_000;

interface TrxMark {
  line: number;
  file: string;
  position: number;
  gtid: string | undefined;
}

/**
 * `mariadb-binlog [--start-position] [--stop-position] - | mariadb`, one mariadb-binlog per file
 * feeding one client session. The client stops at the first error; the applier maps the error's
 * line number back to the transaction (`# at POS` and `GTID` lines of mariadb-binlog's output).
 */
export class MariadbBinlogApplier implements BinlogApplier {
  readonly programs: readonly RequiredProgram[];

  constructor(
    private readonly client: ClientCommand,
    private readonly logger: Logger,
    private readonly binlogProgram = 'mariadb-binlog',
  ) {
    this.programs = [
      { program: binlogProgram, flag: '--binlog-program', purpose: 'decodes the binlogs' },
      { program: client.program, flag: '--client-program', purpose: 'applies the decoded binlogs' },
    ];
  }

  async apply(
    plan: RestorePlan,
    bytes: (file: PlanFile) => AsyncIterable<Buffer>,
    signal?: AbortSignal,
    onProgress?: RestoreProgressListener,
  ): Promise<ApplyResult> {
    const mysql = this.client.spawn();
    const clientErr: Buffer[] = [];
    mysql.stderr.on('data', (c: Buffer) => clientErr.push(c));
    mysql.stdout.resume();
    mysql.stdin.on('error', () => undefined); // EPIPE when the client stops at an error; reported below
    const clientExit = once(mysql, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    const marks: TrxMark[] = [];
    let line = 0;
    let transactions = 0;
    let lastGtid: string | undefined;
    let pendingAt = 0;
    let partial = '';
    let clientGone = false;
    void clientExit.then(() => (clientGone = true));

    const total = planApplyBytes(plan);
    /** Bytes of the files already applied in full. */
    let filesDone = 0;
    let fileStart = 0;
    let fileRange = 0;
    const report = (): void => {
      // `# at POS` of the last event handed to the client, relative to the planned start of the file
      const inFile = Math.min(fileRange, Math.max(0, pendingAt - fileStart));
      onProgress?.({ phase: 'apply', done: filesDone + inFile, total, transactions });
    };

    const scan = (file: string, chunk: Buffer): void => {
      const text = partial + chunk.toString('latin1');
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        line += 1;
        if (l.startsWith('# at ')) pendingAt = Number(l.slice(5));
        else if ((l.startsWith('#') && l.includes('\tGTID ')) || l.startsWith("SET @@SESSION.GTID_NEXT= '")) {
          // MariaDB: `#... GTID 0-1-42 trans`; MySQL: `SET @@SESSION.GTID_NEXT= 'uuid:42'/*!*/;`
          const m = /\tGTID (\S+)/.exec(l) ?? /GTID_NEXT= '([^']+)'/.exec(l);
          if (m?.[1] === 'AUTOMATIC') continue;
          transactions += 1;
          lastGtid = m?.[1];
          marks.push({ line, file, position: pendingAt, gtid: lastGtid });
          if (marks.length > 2 * RING) marks.splice(0, marks.length - RING); // amortised trim
        }
      }
    };

    // On abort (SIGINT/SIGTERM), stop the decoder and the client at once: a decoder or client that
    // hangs must not keep the restore (and the defaults file with the password) alive.
    let decoder: ReturnType<typeof startBinlogDecoder> | undefined;
    const onAbort = (): void => {
      decoder?.process.kill('SIGTERM');
      mysql.kill('SIGTERM');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (const f of plan.files) {
        if (clientGone) break;
        signal?.throwIfAborted();
        this.logger.info('applying binlog', { file: f.file, from: f.from, to: f.to ?? 'end' });
        fileStart = f.from;
        fileRange = fileApplyBytes(f);
        pendingAt = f.from;
        report();
        const dec = startBinlogDecoder(this.binlogProgram, f, bytes(f));
        decoder = dec;
        if (signal?.aborted) onAbort();
        const pump = (async () => {
          for await (const c of dec.stdout) {
            scan(f.file, c as Buffer);
            if (clientGone) break;
            if (!(await writeChunk(mysql.stdin, c as Buffer))) break;
            report();
          }
        })();
        const [feedResult] = await Promise.allSettled([dec.feed, pump]);
        const [code] = await dec.exit;
        if (feedResult.status === 'rejected') throw feedResult.reason;
        const decText = dec.stderrText();
        // the client stopped (an SQL error): its exit status and stderr say why, below
        if (clientGone || mysql.stdin.destroyed) break;
        if (code !== 0) {
          throw new PitrError(
            'RESTORE_APPLY_FAILED',
            `${this.binlogProgram} failed on ${f.file} (exit ${code}): ${decText}. The target holds the backup and ` +
              `the transactions before ${f.file}:${f.from}; fix the cause and restore again into an empty server`,
          );
        }
        if (decText && !/^WARNING/m.test(decText))
          this.logger.warn('mariadb-binlog', { file: f.file, stderr: decText });
        filesDone += fileRange;
        fileRange = 0;
      }
      signal?.throwIfAborted();
      if (partial) line += 1;
      mysql.stdin.end();
    } catch (err) {
      mysql.stdin.destroy();
      mysql.kill('SIGTERM');
      await clientExit;
      throw signal?.aborted ? (signal.reason ?? err) : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const [code] = await clientExit;
    signal?.throwIfAborted();
    if (code !== 0) {
      const text = Buffer.concat(clientErr).toString().trim();
      const m = /at line (\d+)/.exec(text);
      const errLine = m ? Number(m[1]) : undefined;
      const mark = errLine !== undefined ? [...marks].reverse().find((x) => x.line <= errLine) : undefined;
      const where = mark
        ? `transaction ${mark.gtid ?? '(no GTID)'} at ${mark.file}:${mark.position}`
        : 'a transaction of the binlog range';
      const prev = mark ? marks[marks.indexOf(mark) - 1] : undefined;
      let next = 'then restore again into an empty server';
      if (mark) {
        const rest = plan.files.slice(plan.files.findIndex((f) => f.file === mark.file));
        const stop = rest.at(-1)?.to;
        next =
          `then either restore again into an empty server, or continue from this transaction: write the files with ` +
          `\`mysql-pitr binlog fetch\` and pipe \`${this.binlogProgram} --start-position=${mark.position}` +
          `${stop !== undefined ? ` --stop-position=${stop}` : ''} ${rest.map((f) => f.file).join(' ')}\` into the target`;
      }
      throw new PitrError(
        'RESTORE_APPLY_FAILED',
        `applying the binlogs failed at ${where}: ${text}. Transactions before it are applied` +
          `${prev ? ` (the last one: ${prev.gtid ?? '?'} at ${prev.file}:${prev.position})` : ''}. Fix the cause, ${next}`,
      );
    }
    // the client has committed everything it was sent
    if (plan.files.length > 0) onProgress?.({ phase: 'apply', done: total, total, transactions });
    return { transactions, lastGtid };
  }
}
