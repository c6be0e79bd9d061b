/**
 * Reads the snapshot coordinates out of a mysqldump / mariadb-dump SQL stream as it passes (pure,
 * push-based: feed chunks split anywhere, then call `end()`).
 *
 * What the tools print (with `--master-data=2` / `--source-data=2`):
 * - `-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=1015;` near the top
 *   (MariaDB with `--dump-slave=2`, the primary's: `-- CHANGE MASTER '' TO MASTER_LOG_FILE=...`)
 *   (MySQL 8.0.23+: `-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='...', SOURCE_LOG_POS=...;`);
 * - MariaDB with `--gtid`: `-- SET GLOBAL gtid_slave_pos='0-1-42';` near the END of the file;
 * - MySQL with GTIDs: `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*\/ 'uuid:1-42,\nuuid2:1-7';`, which
 *   may span lines (the server puts a newline after each comma of a long set);
 * - the last line: `-- Dump completed on 2026-11-25 19:29:15` (only when the tool finished).
 *
 * Only lines that START with one of these prefixes are looked at, so table data (whose strings
 * have their newlines escaped as `\n`) can never be mistaken for coordinates. Lines of no
 * interest are skipped without being buffered, so memory stays bounded whatever the dump holds.
 */

/** What the scanner found. */
export interface DumpCoordinates {
  /** From the (commented) CHANGE MASTER / CHANGE REPLICATION SOURCE line. */
  binlogFile?: string;
  binlogPosition?: number;
  /** MariaDB: the `gtid_slave_pos` value (`0-1-42,1-2-7`, may be empty). */
  mariadbGtidPos?: string;
  /** MySQL: the GTID_PURGED set, whitespace removed (may be empty). */
  mysqlGtidPurged?: string;
  /** True when the `-- Dump completed` trailer was seen: the tool ran to the end. */
  completed: boolean;
}

const PREFIXES = [
  // `CHANGE MASTER TO` and, from a replica (--dump-slave), `CHANGE MASTER '<connection>' TO`
  '-- CHANGE MASTER ',
  'CHANGE MASTER ',
  '-- CHANGE REPLICATION SOURCE TO ',
  'CHANGE REPLICATION SOURCE TO ',
  '-- SET GLOBAL gtid_slave_pos=',
  'SET GLOBAL gtid_slave_pos=',
  'SET @@GLOBAL.GTID_PURGED=',
  '-- SET @@GLOBAL.GTID_PURGED=',
  '-- Dump completed',
].map((p) => Buffer.from(p, 'latin1'));

/** First bytes of the prefixes: a line starting with anything else is skipped at once. */
const FIRST_BYTES = new Set(PREFIXES.map((p) => p[0]!));
/** Bytes needed to decide whether a line is interesting. */
const DECIDE_BYTES = Math.max(...PREFIXES.map((p) => p.length));
/** A captured statement longer than this is not one of ours (a huge GTID set is still far below). */
const MAX_CAPTURE_BYTES = 4 * 1024 * 1024;
const NL = 0x0a;

type Mode = 'head' | 'skip' | 'capture';

/** See the module comment. Feed with `push(chunk)`, finish with `end()`. */
export class DumpCoordinatesScanner {
  #mode: Mode = 'head';
  /** The start of the current line while deciding, or the captured statement. */
  #buf: Buffer[] = [];
  #bufBytes = 0;
  readonly #found: DumpCoordinates = { completed: false };

  /** Scans one chunk of the SQL stream. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#mode === 'skip') {
        const nl = chunk.indexOf(NL, i);
        if (nl < 0) return;
        i = nl + 1;
        this.#mode = 'head';
        continue;
      }
      if (this.#mode === 'head' && this.#bufBytes === 0 && !FIRST_BYTES.has(chunk[i]!)) {
        // Fast path: a data row or statement whose first byte starts none of the prefixes (most
        // lines: mariadb-dump puts each row of an extended INSERT on its own line).
        this.#mode = 'skip';
        continue;
      }
      // 'head' or 'capture': take bytes up to the end of the line (or of the chunk)
      const nl = chunk.indexOf(NL, i);
      const end = nl < 0 ? n : nl;
      const want = this.#mode === 'head' ? Math.min(end, i + (DECIDE_BYTES - this.#bufBytes)) : end;
      this.#append(chunk.subarray(i, want));
      i = want;
      if (this.#mode === 'head') {
        const verdict = this.#decide(nl >= 0 && i === nl);
        if (verdict === 'undecided') continue; // need more bytes (loop ends at chunk end)
        if (verdict === 'skip') {
          this.#reset('skip');
          continue;
        }
        this.#mode = 'capture';
      }
      if (this.#mode === 'capture') {
        if (this.#bufBytes > MAX_CAPTURE_BYTES) {
          this.#reset('skip');
          continue;
        }
        if (nl >= 0 && i === nl) {
          i = nl + 1;
          if (this.#statementDone()) {
            this.#interpret(Buffer.concat(this.#buf).toString('utf8'));
            this.#reset('head');
          } else {
            this.#append(Buffer.from('\n'));
          }
        }
      }
    }
  }

  /** Ends the stream (a last line without a newline still counts) and returns what was found. */
  end(): DumpCoordinates {
    if (this.#mode === 'capture' || (this.#mode === 'head' && this.#bufBytes > 0)) {
      if (this.#mode === 'capture' || this.#decide(true) === 'capture') {
        this.#interpret(Buffer.concat(this.#buf).toString('utf8'));
      }
    }
    this.#reset('head');
    return this.result();
  }

  /** What was found so far. */
  result(): DumpCoordinates {
    return { ...this.#found };
  }

  #append(part: Uint8Array): void {
    if (part.length === 0) return;
    this.#buf.push(Buffer.from(part)); // copy: the caller may reuse its chunk
    this.#bufBytes += part.length;
  }

  #reset(mode: Mode): void {
    this.#mode = mode;
    this.#buf = [];
    this.#bufBytes = 0;
  }

  /** Decides from the first bytes of a line; `lineEnded` when no more bytes of it will come. */
  #decide(lineEnded: boolean): 'skip' | 'capture' | 'undecided' {
    const head = this.#buf.length === 1 ? this.#buf[0]! : Buffer.concat(this.#buf);
    let possible = false;
    for (const p of PREFIXES) {
      const len = Math.min(p.length, head.length);
      if (head.subarray(0, len).equals(p.subarray(0, len))) {
        if (head.length >= p.length) return 'capture';
        possible = true;
      }
    }
    if (possible && !lineEnded && head.length < DECIDE_BYTES) return 'undecided';
    return 'skip';
  }

  /** A captured line completes a statement unless it is an unfinished GTID_PURGED set. */
  #statementDone(): boolean {
    const text = Buffer.concat(this.#buf).toString('utf8');
    if (!/GTID_PURGED=/.test(text)) return true;
    return /;\s*$/.test(text);
  }

  #interpret(text: string): void {
    if (text.startsWith('-- Dump completed')) {
      this.#found.completed = true;
      return;
    }
    const file = /(?:MASTER|SOURCE)_LOG_FILE\s*=\s*'([^']*)'/.exec(text);
    const pos = /(?:MASTER|SOURCE)_LOG_POS\s*=\s*(\d+)/.exec(text);
    if (file && pos) {
      // the first one is the snapshot's; a later one would come from data, never from the tool
      if (this.#found.binlogFile !== undefined) return;
      this.#found.binlogFile = file[1]!;
      this.#found.binlogPosition = Number(pos[1]);
      return;
    }
    const slavePos = /gtid_slave_pos\s*=\s*'([^']*)'/.exec(text);
    if (slavePos) {
      this.#found.mariadbGtidPos = slavePos[1]!;
      return;
    }
    if (/GTID_PURGED=/.test(text)) {
      // the set is the last quoted string: `/*!80000 '+'*/ 'uuid:1-5,\nuuid2:1-3';`
      const quoted = [...text.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
      const set = quoted[quoted.length - 1];
      if (set !== undefined) this.#found.mysqlGtidPurged = set.replace(/\s+/g, '');
    }
  }
}
