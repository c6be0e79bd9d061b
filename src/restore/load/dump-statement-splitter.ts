// Splits the SQL text of a mariadb-dump / mysqldump file into statements, the way the `mariadb`
// command-line client does (https://mariadb.com/kb/en/mariadb-command-line-client/: delimiters,
// `DELIMITER`, comments, quoted strings), over bytes and chunk by chunk. Pure: no I/O.
//
// The dump is never held whole: statements are cut from the chunks as they arrive and only the
// unfinished statement is kept. Everything is bytes: binary strings in a dump are not UTF-8.

/** What a statement of a dump is, as far as loading it in parallel cares. */
export type DumpStatementKind =
  /** MariaDB 10.11.8+ first line `/*M!999999\- enable the sandbox mode *\/` (a client directive). */
  | 'sandbox'
  /** A `-- ...` or `# ...` comment line outside any statement. */
  | 'comment'
  /** A `DELIMITER xx` client command (changes the delimiter of the statements that follow). */
  | 'delimiter'
  /** `SET ...` of session or user variables (`/*!40101 SET NAMES utf8mb4 *\/`, sql_mode, ...). */
  | 'session'
  /** `SET @@GLOBAL....` (MySQL's `SET @@GLOBAL.GTID_PURGED=...`): runs once. */
  | 'global-set'
  /** `USE db`. */
  | 'use'
  /** `CREATE DATABASE` / `CREATE SCHEMA`. */
  | 'create-database'
  | 'drop-table'
  | 'create-table'
  | 'lock-tables'
  | 'unlock-tables'
  /** `ALTER TABLE t DISABLE KEYS`. */
  | 'disable-keys'
  /** `ALTER TABLE t ENABLE KEYS`. */
  | 'enable-keys'
  /** Table data: `INSERT` / `REPLACE`. */
  | 'insert'
  /** `COMMIT`, `ROLLBACK`, `BEGIN`, `START TRANSACTION`. */
  | 'transaction'
  /** `CREATE ... VIEW`, `DROP VIEW`. */
  | 'view'
  /** Triggers, procedures, functions, events (create or drop). */
  | 'routine'
  /** Anything else. */
  | 'other';

/** One statement of a dump. */
export interface DumpStatement {
  kind: DumpStatementKind;
  /**
   * The statement's bytes, without leading whitespace and without its delimiter (a comment,
   * sandbox or DELIMITER line is the line itself). May share memory with a pushed chunk.
   */
  sql: Buffer;
  /** 1-based line of the dump where the statement starts. */
  line: number;
  /** The table the statement names (unquoted), for `insert`, `create-table`, `drop-table`, keys. */
  table?: string;
  /** The database of `use` / `create-database` (unquoted). */
  database?: string;
}

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const BTICK = 0x60;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const DASH = 0x2d;
const HASH = 0x23;
const BANG = 0x21;
const SEMICOLON = 0x3b;
const RPAREN = 0x29;
const LPAREN = 0x28;
const COMMA = 0x2c;

const SANDBOX = Buffer.from('/*M!999999\\- enable the sandbox mode */');
const INSERT_INTO = Buffer.from('INSERT INTO ');

/** Where the scanner is inside the current statement. */
const enum State {
  Code,
  SingleQuote,
  DoubleQuote,
  Backtick,
  BlockComment,
}

const isSpace = (b: number | undefined): boolean => b === SPACE || b === TAB || b === CR || b === NL;

/** Everything before the statement's first keyword removed: version comments, whitespace. */
function keywords(sql: Buffer): string {
  return sql
    .subarray(0, 400)
    .toString('utf8')
    .replace(/\/\*M?!\d*\s?/g, ' ')
    .replace(/\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const IDENT = '(`(?:[^`]|``)+`|[\\w$]+)';
const QUALIFIED = `${IDENT}(?:\\s*\\.\\s*${IDENT})?`;

/** `a` from `` `a` ``, `a`.`b` -> b (the table) or a (with `first`). */
function unquote(id: string): string {
  return id.startsWith('`') ? id.slice(1, -1).replace(/``/g, '`') : id;
}

function nameOf(m: RegExpExecArray | null): string | undefined {
  if (!m) return undefined;
  return unquote(m[2] ?? m[1]!);
}

const RE = {
  globalSet: /^SET\s+@@GLOBAL\./i,
  set: /^SET\b/i,
  use: new RegExp(`^USE\\s+${IDENT}`, 'i'),
  createDatabase: new RegExp(`^CREATE\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}`, 'i'),
  dropTable: new RegExp(`^DROP\\s+(?:TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?${QUALIFIED}`, 'i'),
  createTable: new RegExp(
    `^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${QUALIFIED}`,
    'i',
  ),
  lock: /^LOCK\s+TABLES?\b/i,
  unlock: /^UNLOCK\s+TABLES?\b/i,
  keys: new RegExp(`^ALTER\\s+TABLE\\s+${QUALIFIED}\\s+(DISABLE|ENABLE)\\s+KEYS\\s*$`, 'i'),
  insert: new RegExp(
    `^(?:INSERT|REPLACE)(?:\\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\\s+(?:INTO\\s+)?${QUALIFIED}`,
    'i',
  ),
  transaction: /^(?:COMMIT|ROLLBACK|BEGIN|START\s+TRANSACTION)\b/i,
  view: /^(?:CREATE\b[^(]*?\bVIEW\b|DROP\s+VIEW\b|ALTER\b[^(]*?\bVIEW\b)/i,
  routine: /^(?:CREATE|DROP|ALTER)\b[^(]*?\b(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b/i,
};

/** Classifies one statement (its bytes without the delimiter). Pure; exported for tests. */
export function classifyStatement(sql: Buffer): Pick<DumpStatement, 'kind' | 'table' | 'database'> {
  const k = keywords(sql);
  let m: RegExpExecArray | null;
  if (RE.globalSet.test(k)) return { kind: 'global-set' };
  if (RE.set.test(k)) return { kind: 'session' };
  if ((m = RE.insert.exec(k))) return { kind: 'insert', table: nameOf(m)! };
  if ((m = RE.use.exec(k))) return { kind: 'use', database: unquote(m[1]!) };
  if ((m = RE.createDatabase.exec(k))) return { kind: 'create-database', database: unquote(m[1]!) };
  if ((m = RE.createTable.exec(k))) return { kind: 'create-table', table: nameOf(m)! };
  if ((m = RE.dropTable.exec(k))) return { kind: 'drop-table', table: nameOf(m)! };
  if (RE.lock.test(k)) return { kind: 'lock-tables' };
  if (RE.unlock.test(k)) return { kind: 'unlock-tables' };
  if ((m = RE.keys.exec(k))) {
    return { kind: m[3]!.toUpperCase() === 'DISABLE' ? 'disable-keys' : 'enable-keys', table: nameOf(m)! };
  }
  if (RE.transaction.test(k)) return { kind: 'transaction' };
  if (RE.view.test(k)) return { kind: 'view' };
  if (RE.routine.test(k)) return { kind: 'routine' };
  return { kind: 'other' };
}

function startsWithAt(buf: Buffer, at: number, prefix: Buffer, ignoreCase = false): boolean {
  if (buf.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let b = buf[at + i]!;
    if (ignoreCase && b >= 0x61 && b <= 0x7a) b -= 0x20;
    if (b !== prefix[i]) return false;
  }
  return true;
}

/**
 * A push splitter: `push(chunk)` returns the statements completed by that chunk, `end()` the rest.
 * Chunks may be cut anywhere (inside a statement, a string, a multi-byte character, a delimiter).
 *
 * It follows the `mariadb` client's rules: a statement ends at the delimiter (`;`, or what the
 * last `DELIMITER` line set) outside quotes, backticks and comments; `/*!NNNNN ... *\/` version
 * comments are code (the delimiter counts inside them, as in the client); `-- ` and `#` start a
 * comment to the end of the line. A line that starts with `INSERT INTO ` and ends with `;` is one
 * statement without scanning it byte by byte: mariadb-dump and mysqldump write a row set per line
 * and escape newlines inside strings (`\n`), which is what makes the load fast.
 */
export class DumpStatementSplitter {
  /** Bytes of the unfinished line (after the last newline). */
  private partial: Buffer[] = [];
  private partialLength = 0;
  /** Bytes of the unfinished statement (whole lines and line parts, newlines included). */
  private stmt: Buffer[] = [];
  private stmtLine = 0;
  private state = State.Code;
  private delimiter = Buffer.from(';');
  private lineNo = 0;
  private out: DumpStatement[] = [];
  private ended = false;
  /** The lines of an INSERT on the fast path (see insertRow), newline-joined at its end. */
  private insert: { lines: Buffer[]; length: number } | undefined;

  /** The delimiter in force (after the last `DELIMITER` line). */
  get currentDelimiter(): string {
    return this.delimiter.toString('utf8');
  }

  /** Feeds the next bytes; returns the statements they complete, in dump order. */
  push(chunk: Buffer): DumpStatement[] {
    if (this.ended) throw new Error('DumpStatementSplitter: push() after end()');
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl < 0) {
        if (pos < chunk.length) {
          this.partial.push(chunk.subarray(pos));
          this.partialLength += chunk.length - pos;
        }
        break;
      }
      let line: Buffer;
      if (this.partialLength > 0) {
        this.partial.push(chunk.subarray(pos, nl));
        line = Buffer.concat(this.partial, this.partialLength + nl - pos);
        this.partial = [];
        this.partialLength = 0;
      } else {
        line = chunk.subarray(pos, nl);
      }
      this.line(line, true);
      pos = nl + 1;
    }
    return this.take();
  }

  /**
   * Ends the input: returns the last statements, including a final one without a delimiter (the
   * client runs that too). An unterminated string or comment at the end is returned as it is; the
   * server reports the syntax error.
   */
  end(): DumpStatement[] {
    if (this.ended) return [];
    if (this.partialLength > 0) {
      const line = Buffer.concat(this.partial, this.partialLength);
      this.partial = [];
      this.partialLength = 0;
      this.line(line, false);
    }
    if (this.insert) this.replayInsert();
    this.ended = true;
    if (this.stmt.length > 0) {
      const sql = trimEnd(Buffer.concat(this.stmt));
      this.stmt = [];
      if (sql.length > 0) this.emit(sql, this.stmtLine);
    }
    return this.take();
  }

  private take(): DumpStatement[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private emit(sql: Buffer, line: number, kind?: DumpStatementKind): void {
    if (kind) this.out.push({ kind, sql, line });
    else this.out.push({ ...classifyStatement(sql), sql, line });
  }

  /** One line, without its newline (`hadNewline`: false only for a last line without one). */
  private line(line: Buffer, hadNewline: boolean): void {
    this.lineNo++;
    if (this.insert) {
      if (this.insertRow(line, hadNewline)) return;
      this.replayInsert();
    }
    let s = 0;
    if (this.stmt.length === 0 && this.state === State.Code) {
      while (s < line.length && isSpace(line[s])) s++;
      if (s === line.length) return;
      if (this.lineNo === 1 && startsWithAt(line, s, SANDBOX)) {
        this.emit(line.subarray(s), this.lineNo, 'sandbox');
        return;
      }
      const b = line[s];
      if (
        (b === DASH && line[s + 1] === DASH && (s + 2 === line.length || isSpace(line[s + 2]))) ||
        b === HASH
      ) {
        this.emit(trimEnd(line.subarray(s)), this.lineNo, 'comment');
        return;
      }
      if (startsWithAt(line, s, DELIMITER_WORD, true) && isSpace(line[s + DELIMITER_WORD.length])) {
        const d = trimEnd(line.subarray(s + DELIMITER_WORD.length));
        let ds = 0;
        while (ds < d.length && isSpace(d[ds])) ds++;
        if (d.length > ds) {
          this.delimiter = Buffer.from(d.subarray(ds));
          this.emit(trimEnd(line.subarray(s)), this.lineNo, 'delimiter');
          return;
        }
      }
      this.stmtLine = this.lineNo;
      // The fast path for the bulk of a dump: an extended INSERT, its rows one per line.
      if (
        this.delimiter.length === 1 &&
        this.delimiter[0] === SEMICOLON &&
        startsWithAt(line, s, INSERT_INTO)
      ) {
        this.insert = { lines: [], length: 0 };
        if (this.insertRow(line.subarray(s), hadNewline)) return;
        this.replayInsert();
      }
    }
    this.scan(line, s, hadNewline, this.lineNo);
  }

  /**
   * Takes one line of an INSERT on the fast path: the first line (`INSERT INTO ... VALUES` and
   * maybe rows) or a row line `(...),` / `(...);`, without looking inside. The statement ends at
   * a line ending in `);`. False when the line does not look like that: the caller then scans the
   * lines taken so far (and this one) the slow way.
   */
  private insertRow(line: Buffer, hadNewline: boolean): boolean {
    const ins = this.insert!;
    let e = line.length;
    while (e > 0 && isSpace(line[e - 1])) e--;
    const first = ins.lines.length === 0;
    if (!first) {
      let s = 0;
      while (s < e && isSpace(line[s])) s++;
      if (line[s] !== LPAREN) return false;
    }
    const last = line[e - 1];
    if (last === SEMICOLON && line[e - 2] === RPAREN) {
      ins.lines.push(line.subarray(0, e - 1));
      ins.length += e - 1;
      const sql = ins.lines.length === 1 ? ins.lines[0]! : joinLines(ins.lines, ins.length);
      this.insert = undefined;
      this.out.push({ kind: 'insert', sql, line: this.stmtLine, table: insertTable(sql) });
      return true;
    }
    const open = first
      ? (last === COMMA && line[e - 2] === RPAREN) || endsWithValues(line, e)
      : last === COMMA && line[e - 2] === RPAREN;
    if (!open || !hadNewline) return false;
    ins.lines.push(line);
    ins.length += line.length + 1;
    return true;
  }

  /** Leaves the INSERT fast path: scans the lines it took as ordinary statement text. */
  private replayInsert(): void {
    const lines = this.insert!.lines;
    this.insert = undefined;
    const current = this.lineNo;
    lines.forEach((l, i) => {
      const lineNo = this.stmtLine + i;
      this.scan(l, 0, true, lineNo);
    });
    this.lineNo = current;
  }

  /** Runs the quote/comment state machine over `line` from `from`, cutting statements at delimiters. */
  private scan(line: Buffer, from: number, hadNewline: boolean, lineNo: number): void {
    const delim = this.delimiter;
    const d0 = delim[0]!;
    let state = this.state;
    let segStart = from;
    let i = from;
    const n = line.length;
    while (i < n) {
      const b = line[i]!;
      switch (state) {
        case State.Code:
          if (b === d0 && startsWithAt(line, i, delim)) {
            const part = line.subarray(segStart, i);
            const sql = this.stmt.length > 0 ? trimEnd(Buffer.concat([...this.stmt, part])) : trimEnd(part);
            this.stmt = [];
            if (sql.length > 0) this.emit(sql, this.stmtLine);
            i += delim.length;
            while (i < n && isSpace(line[i])) i++;
            segStart = i;
            this.stmtLine = lineNo;
            continue;
          }
          if (b === SQUOTE) state = State.SingleQuote;
          else if (b === DQUOTE) state = State.DoubleQuote;
          else if (b === BTICK) state = State.Backtick;
          else if (b === SLASH && line[i + 1] === STAR && line[i + 2] !== BANG) {
            // `/*M!` and `/*!` are version comments: code, as the client reads them.
            if (!(line[i + 2] === 0x4d && line[i + 3] === BANG)) {
              state = State.BlockComment;
              i += 2;
              continue;
            }
          } else if (
            b === HASH ||
            (b === DASH && line[i + 1] === DASH && (i + 2 === n || isSpace(line[i + 2])))
          ) {
            // A comment to the end of the line; one that starts a statement is not part of it.
            if (i === segStart && this.stmt.length === 0) segStart = n;
            i = n;
            continue;
          }
          break;
        case State.SingleQuote:
        case State.DoubleQuote:
          if (b === BACKSLASH) {
            i += 2;
            continue;
          }
          if (b === (state === State.SingleQuote ? SQUOTE : DQUOTE)) state = State.Code; // '' re-enters
          break;
        case State.Backtick:
          if (b === BTICK) state = State.Code;
          break;
        case State.BlockComment:
          if (b === STAR && line[i + 1] === SLASH) {
            state = State.Code;
            i += 2;
            continue;
          }
          break;
      }
      i++;
    }
    this.state = state;
    // Keep the rest of the line (with its newline) as part of the unfinished statement; a line
    // with nothing left after the last delimiter starts nothing.
    if (segStart < n || (this.stmt.length > 0 && hadNewline)) {
      if (this.stmt.length === 0 && state === State.Code) {
        const rest = line.subarray(segStart);
        if (rest.every((c) => isSpace(c))) return;
      }
      this.stmt.push(line.subarray(segStart));
      if (hadNewline) this.stmt.push(NEWLINE);
    } else if (state !== State.Code && hadNewline) {
      this.stmt.push(NEWLINE);
    }
  }
}

const DELIMITER_WORD = Buffer.from('DELIMITER');
const NEWLINE = Buffer.from('\n');

/** The table of `INSERT INTO name ...` / `INSERT INTO db.name ...` (fast path, no regex over the line). */
function insertTable(sql: Buffer): string | undefined {
  let at = INSERT_INTO.length;
  let name: string | undefined;
  for (;;) {
    let end: number;
    if (sql[at] === BTICK) {
      end = at + 1;
      for (;;) {
        end = sql.indexOf(BTICK, end);
        if (end < 0) return name;
        if (sql[end + 1] !== BTICK) break;
        end += 2;
      }
      name = sql.toString('utf8', at + 1, end).replace(/``/g, '`');
      end++;
    } else {
      end = at;
      while (end < sql.length && !isSpace(sql[end]) && sql[end] !== 0x2e && sql[end] !== 0x28) end++;
      if (end === at) return name;
      name = sql.toString('utf8', at, end);
    }
    if (sql[end] !== 0x2e) return name;
    at = end + 1;
  }
}

const VALUES = Buffer.from('VALUES');

/** True when `line[0, e)` ends with the word VALUES (any case). */
function endsWithValues(line: Buffer, e: number): boolean {
  return e >= VALUES.length && startsWithAt(line, e - VALUES.length, VALUES, true) && isSpace(line[e - 7]);
}

/** `lines` joined with newlines (`length`: the joined length). */
function joinLines(lines: Buffer[], length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) out[at++] = NL;
    at += lines[i]!.copy(out, at);
  }
  return out;
}

function trimEnd(b: Buffer): Buffer {
  let e = b.length;
  while (e > 0 && isSpace(b[e - 1])) e--;
  return e === b.length ? b : b.subarray(0, e);
}

/**
 * Splits a stream of dump bytes into statements (see {@link DumpStatementSplitter}), one batch
 * per chunk, without holding more than the unfinished statement.
 */
export async function* splitDumpStatements(source: AsyncIterable<Buffer>): AsyncGenerator<DumpStatement> {
  const splitter = new DumpStatementSplitter();
  for await (const chunk of source) yield* splitter.push(chunk);
  yield* splitter.end();
}

/**
 * Left out of a parallel load: client directives, comments, and locks/keys that would serialise
 * the sessions (the lane loader and the split-backup loader).
 */
export const SKIPPED_KINDS: ReadonlySet<DumpStatementKind> = new Set([
  'sandbox',
  'comment',
  'delimiter',
  'lock-tables',
  'unlock-tables',
  'disable-keys',
  'enable-keys',
]);
