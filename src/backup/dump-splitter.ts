/**
 * Cuts the SQL stream of `mariadb-dump` / `mysqldump` into the parts of a split backup (pure,
 * push-based: feed chunks split anywhere, then call `end()`). The dump tool keeps formatting every
 * value; this only decides where each of its lines goes. See `ManifestPart` (src/catalog) for the
 * contract, and docs/archive-layout.md ("Split backups").
 *
 * The tool's output is a sequence of sections, each announced by a comment block
 *
 * ```
 * --
 * -- Table structure for table `t`
 * --
 * ```
 *
 * (also `Current Database: `db``, `Temporary table structure for view `v``, `Dumping data for
 * table `t``, `Dumping events for database 'db'`, `Dumping routines for database 'db'`, `Final
 * view structure for view `v``). They become:
 *
 * - `pre`, (db, null): `CREATE DATABASE` and `USE` (first `Current Database` section of a schema);
 * - `pre`, (db, t): the table's `DROP TABLE` / `CREATE TABLE`; (db, v): a view's stand-in table;
 * - `rows`, (db, t), chunk 0, 1, ...: the table's INSERT statements, cut at statement boundaries
 *   once a part holds `chunkBytes` of SQL. `LOCK TABLES`, `UNLOCK TABLES` and `ALTER TABLE ...
 *   DISABLE/ENABLE KEYS` are left out, so that chunks of one table can load in parallel;
 * - `post`, (db, t): the table's triggers (the statements after its data);
 * - `post`, (db, null): the schema's events and routines; (db, v): a view's final definition;
 * - `pre`, (null, null): statements of the preamble other than session settings (MySQL's
 *   `GTID_PURGED`), when there are any.
 *
 * Every part starts with the dump's own session settings (the `/*!40101 SET ...*\/;` lines of its
 * preamble: character set, time zone, `UNIQUE_CHECKS=0`, `FOREIGN_KEY_CHECKS=0`, `sql_mode`, ...),
 * then `USE` of its schema (not the `CREATE DATABASE` part, which has its own `USE` after the
 * `CREATE`), so each part loads alone in a new session. The closing lines that restore the saved
 * settings are left out: they only matter to the session that ran the preamble.
 *
 * What makes this safe:
 * - Data rows never hold a raw newline (the tools escape `\n` in strings, `--hex-blob` writes
 *   binary as hex), so inside an INSERT the statement ends exactly at the first `;` followed by a
 *   newline; rows are handed on as slices of the input, never parsed or copied.
 * - Section comments are only recognised between statements: outside a `DELIMITER ;;` block
 *   (triggers, routines and events, whose bodies may hold any text), and outside quoted strings,
 *   identifiers and comments of a DDL statement still open (tracked by a small lexer that runs on
 *   the DDL lines only, never on data). The `DELIMITER ;` that ends a block counts only outside
 *   the strings and comments of the bodies, as in the client.
 * - A data statement outside a `Dumping data` section, or a dump that ends inside a statement, is
 *   an error rather than a guess.
 */

/** Where a part belongs; see `ManifestPart` (src/catalog). */
export interface SplitPartInfo {
  stage: 'pre' | 'rows' | 'post';
  database: string | null;
  table: string | null;
  /** For `rows`: chunk number from 0 within the table. */
  chunk?: number;
}

/** Receives the parts in order: `startPart`, any number of `write`, `endPart`; never two open. */
export interface SplitSink {
  startPart(info: SplitPartInfo): void;
  /** Bytes of the open part. May be a slice of a pushed chunk, valid only during the call: copy what you keep. */
  write(bytes: Buffer): void;
  endPart(): void;
}

/** The dump is not in a shape the splitter can cut safely (the backup must fail, not guess). */
export class DumpSplitError extends Error {
  override readonly name = 'DumpSplitError';
}

/** Default SQL bytes per `rows` part before a new chunk starts. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

const NL = 0x0a;
const SEMI = 0x3b;
const SEMI_NL = Buffer.from(';\n', 'latin1');

/** First bytes of a data statement (extended or not, `--insert-ignore`, `--replace`). */
const DATA_PREFIXES = ['INSERT ', 'REPLACE '].map((p) => Buffer.from(p, 'latin1'));
const DATA_DECIDE = Math.max(...DATA_PREFIXES.map((p) => p.length));

/** Lines of a data section that the rows parts leave out (they would serialise parallel chunks). */
const DATA_SECTION_DROP = [
  /^LOCK TABLES `(?:[^`]|``)*` WRITE;\s*$/,
  /^UNLOCK TABLES;\s*$/,
  /^\/\*!40000 ALTER TABLE `(?:[^`]|``)*` (?:DISABLE|ENABLE) KEYS \*\/;\s*$/,
];

/** Closing lines of the dump that restore the preamble's saved settings (its own session only). */
const TRAILER_LINE =
  /^(?:\/\*!\d+ SET (?:TIME_ZONE|SQL_MODE|FOREIGN_KEY_CHECKS|UNIQUE_CHECKS|CHARACTER_SET_CLIENT|CHARACTER_SET_RESULTS|COLLATION_CONNECTION|SQL_NOTES)\s*=\s*@OLD_\w+\s*\*\/;|SET @@SESSION\.SQL_LOG_BIN\s*=\s*@MYSQLDUMP_TEMP_LOG_BIN;)\s*$/i;

const MARKERS: { re: RegExp; kind: SectionKind }[] = [
  { re: /^-- Current Database: `((?:[^`]|``)*)`\s*$/, kind: 'database' },
  { re: /^-- Table structure for table `((?:[^`]|``)*)`\s*$/, kind: 'table' },
  { re: /^-- Temporary (?:table|view) structure for view `((?:[^`]|``)*)`\s*$/, kind: 'standin' },
  { re: /^-- Dumping data for table `((?:[^`]|``)*)`\s*$/, kind: 'data' },
  { re: /^-- Dumping events for database /, kind: 'events' },
  { re: /^-- Dumping routines for database /, kind: 'routines' },
  { re: /^-- Final view structure for view `((?:[^`]|``)*)`\s*$/, kind: 'view' },
  // the comments before the deferred GTID / GTID_PURGED lines and the final settings
  { re: /^-- The deferred gtid setting/, kind: 'trailer' },
];

type SectionKind =
  'preamble' | 'database' | 'table' | 'standin' | 'data' | 'events' | 'routines' | 'view' | 'trailer';

/** `name` quoted as an identifier. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

function unquote(quoted: string): string {
  return quoted.replace(/``/g, '`');
}

/** Lexer state of a DDL statement across lines (quotes and comments). */
type Lex = 'code' | "'" | '"' | '`' | 'comment';

/** Options of {@link DumpSplitter}. */
export interface DumpSplitterOptions {
  /** SQL bytes per `rows` part before the next statement starts a new chunk (default 64 MiB). */
  chunkBytes?: number;
}

/** See the module comment. */
export class DumpSplitter {
  readonly #sink: SplitSink;
  readonly #chunkBytes: number;

  /** Session settings of the preamble, repeated at the start of every part. */
  #header: Buffer[] = [];
  #section: SectionKind = 'preamble';
  #database: string | null = null;
  #databasesSeen = new Set<string>();
  /** Table or view of the current section. */
  #object: string | null = null;
  /** The part the next SQL line opens, when none is open. */
  #pending: SplitPartInfo | null = null;
  #open: SplitPartInfo | null = null;
  #openBytes = 0;
  /** Comment lines seen while no part was open; written at the start of the next part. */
  #comments: Buffer[] = [];
  /** `--` lines: they open a section comment block, so they go with what follows them. */
  #dashes: Buffer[] = [];

  // data sections
  #chunk = 0;
  /** Inside an INSERT statement: looking for `;\n`. */
  #inData = false;
  /** Non-data statements of a data section before its first INSERT (`SET autocommit=0`). */
  #prologue: Buffer[] = [];
  #afterUnlock = false;
  /** A data statement, ENABLE KEYS or UNLOCK TABLES was seen: later statements are the triggers. */
  #afterData = false;
  #lastByte = -1;

  // DDL lexer and DELIMITER blocks
  #lex: Lex = 'code';
  /** A DDL statement has started and not yet ended with `;`. */
  #statementOpen = false;
  #delimiterBlock = false;

  /** A partial line carried to the next chunk. */
  #carry: Buffer[] = [];
  #carryBytes = 0;

  constructor(sink: SplitSink, opts: DumpSplitterOptions = {}) {
    this.#sink = sink;
    this.#chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  /**
   * Splits one chunk of the SQL stream. The chunk is the caller's again once this returns (it may
   * reuse its buffer): what is kept is copied, and the sink gets slices only during the call.
   */
  push(input: Buffer): void {
    let chunk = input;
    if (this.#carryBytes > 0 && this.#carryBytes < DATA_DECIDE && this.#dataMayStart()) {
      // a line start in a data section split across chunks: decide on the joined bytes
      chunk = Buffer.concat([...this.#carry, input]);
      this.#carry = [];
      this.#carryBytes = 0;
    }
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#inData) {
        i = this.#pushData(chunk, i);
        continue;
      }
      if (this.#carryBytes === 0 && this.#dataMayStart()) {
        // does a data statement start at this line? Decide from its first bytes, not its end
        const verdict = startsData(chunk, i);
        if (verdict === 'undecided') {
          this.#carry.push(Buffer.from(chunk.subarray(i))); // copied: the caller may reuse its chunk
          this.#carryBytes += n - i;
          return;
        }
        if (verdict === 'data') {
          this.#startData();
          continue;
        }
      }
      const nl = chunk.indexOf(NL, i);
      if (nl < 0) {
        this.#carry.push(Buffer.from(chunk.subarray(i))); // copied: the caller may reuse its chunk
        this.#carryBytes += n - i;
        return;
      }
      let line = chunk.subarray(i, nl + 1);
      if (this.#carryBytes > 0) {
        line = Buffer.concat([...this.#carry, line]);
        this.#carry = [];
        this.#carryBytes = 0;
      }
      i = nl + 1;
      this.#line(line);
    }
  }

  /** At a line start between statements of a data section, where an INSERT may begin. */
  #dataMayStart(): boolean {
    return (
      this.#section === 'data' &&
      !this.#afterUnlock &&
      !this.#delimiterBlock &&
      !this.#statementOpen &&
      this.#lex === 'code'
    );
  }

  /**
   * Ends the stream: a last line without a newline still counts, and the open part is closed.
   *
   * @throws DumpSplitError when the dump ends inside a data statement or a DDL statement
   */
  end(): void {
    if (this.#carryBytes > 0) {
      const rest = Buffer.concat(this.#carry);
      this.#carry = [];
      this.#carryBytes = 0;
      if (this.#inData) this.#writeData(rest);
      else this.#line(rest);
    }
    if (this.#inData) throw new DumpSplitError('the dump ends inside an INSERT statement (truncated)');
    if (this.#delimiterBlock) throw new DumpSplitError('the dump ends inside a DELIMITER block (truncated)');
    this.#closePart();
  }

  // --- data -------------------------------------------------------------------------------------

  #startData(): void {
    if (this.#section !== 'data' || this.#object === null) {
      throw new DumpSplitError('a data statement outside a "Dumping data for table" section');
    }
    if (this.#open?.stage !== 'rows') {
      this.#closePart();
      this.#openPart({ stage: 'rows', database: this.#database, table: this.#object, chunk: this.#chunk++ });
      for (const p of this.#prologue) this.#writeOpen(p);
    }
    this.#inData = true;
  }

  /** Consumes data bytes from `i` up to the end of the statement (or the chunk); returns the next index. */
  #pushData(chunk: Buffer, i: number): number {
    // `;` ended the previous chunk and `\n` starts this one
    if (this.#lastByte === SEMI && i === 0 && chunk[0] === NL) {
      this.#writeData(chunk.subarray(0, 1));
      this.#endData();
      return 1;
    }
    const end = chunk.indexOf(SEMI_NL, i);
    if (end < 0) {
      this.#writeData(chunk.subarray(i));
      this.#lastByte = chunk[chunk.length - 1]!;
      return chunk.length;
    }
    this.#writeData(chunk.subarray(i, end + 2));
    this.#endData();
    return end + 2;
  }

  #writeData(bytes: Buffer): void {
    if (bytes.length > 0) this.#writeOpen(bytes);
  }

  #endData(): void {
    this.#inData = false;
    this.#afterData = true;
    this.#lastByte = -1;
    if (this.#openBytes >= this.#chunkBytes) this.#closePart();
  }

  // --- lines ------------------------------------------------------------------------------------

  #line(line: Buffer): void {
    if (this.#delimiterBlock) {
      this.#write(line);
      // as the client does: the command counts only outside strings and comments of the bodies
      const text = line.toString('utf8');
      if (this.#lex === 'code' && /^DELIMITER ;\s*$/.test(text)) {
        this.#delimiterBlock = false;
        this.#statementOpen = false;
      } else {
        this.#lexLine(text);
      }
      return;
    }
    const text = line.toString('utf8');
    if (!this.#statementOpen && this.#lex === 'code') {
      if (/^--\s*$/.test(text)) {
        this.#dashes.push(Buffer.from(line));
        return;
      }
      for (const m of MARKERS) {
        const match = m.re.exec(text);
        if (match) {
          this.#startSection(m.kind, match[1] === undefined ? null : unquote(match[1]));
          this.#comments.push(...this.#dashes);
          this.#dashes = [];
          this.#comment(line);
          return;
        }
      }
      for (const d of this.#dashes) this.#comment(d);
      this.#dashes = [];
      if (text.startsWith('--') || /^\s*$/.test(text)) {
        this.#comment(line);
        return;
      }
      if (this.#lineOutsideStatement(line, text)) return;
    }
    this.#lexLine(text);
    this.#write(line);
  }

  /** A line that starts a statement; true when it was fully handled here. */
  #lineOutsideStatement(line: Buffer, text: string): boolean {
    if (TRAILER_LINE.test(text)) return true;
    if (this.#section === 'preamble' && text.startsWith('/*')) {
      // session settings: every part starts with them
      this.#header.push(Buffer.from(line));
      return true;
    }
    const use = /^USE `((?:[^`]|``)*)`;\s*$/.exec(text);
    if (use) {
      this.#database = unquote(use[1]!);
      // the CREATE DATABASE part keeps its USE; every other part writes its own
      if (
        this.#open?.stage === 'pre' &&
        this.#open.table === null &&
        this.#open.database === this.#database
      ) {
        this.#write(line);
      }
      return true;
    }
    if (this.#section === 'data') {
      if (DATA_SECTION_DROP.some((re) => re.test(text))) {
        if (text.startsWith('UNLOCK')) this.#afterUnlock = true;
        if (/ENABLE KEYS|^UNLOCK/.test(text)) this.#afterData = true;
        if (this.#open?.stage === 'rows') this.#closePart();
        return true;
      }
      if (/^commit;\s*$/i.test(text)) return true; // every rows part commits its own (#closePart)
      if (!this.#afterData) {
        // e.g. `SET autocommit=0;` (--no-autocommit): every chunk starts with it
        this.#prologue.push(Buffer.from(line));
        if (this.#open?.stage === 'rows') this.#write(line);
        this.#lexLine(text);
        return true;
      }
      // the table's triggers
      if (this.#open?.stage !== 'post') {
        this.#closePart();
        this.#pending = { stage: 'post', database: this.#database, table: this.#object };
      }
    }
    if (/^DELIMITER ;;\s*$/.test(text)) {
      this.#write(line);
      this.#delimiterBlock = true;
      this.#lex = 'code';
      return true;
    }
    return false;
  }

  #startSection(kind: SectionKind, name: string | null): void {
    this.#closePart();
    this.#section = kind;
    this.#pending = null;
    this.#inData = false;
    this.#prologue = [];
    this.#afterUnlock = false;
    this.#afterData = false;
    switch (kind) {
      case 'database':
        this.#object = null;
        if (name !== null) {
          this.#database = name;
          if (!this.#databasesSeen.has(name)) {
            this.#databasesSeen.add(name);
            this.#pending = { stage: 'pre', database: name, table: null };
          }
        }
        return;
      case 'table':
      case 'standin':
        this.#object = name;
        this.#pending = { stage: 'pre', database: this.#database, table: name };
        return;
      case 'data':
        this.#object = name;
        this.#chunk = 0;
        return;
      case 'events':
      case 'routines':
        this.#object = null;
        this.#pending = { stage: 'post', database: this.#database, table: null };
        return;
      case 'view':
        this.#object = name;
        this.#pending = { stage: 'post', database: this.#database, table: name };
        return;
      case 'trailer':
      case 'preamble':
        this.#object = null;
        this.#pending = { stage: 'post', database: null, table: null };
        return;
    }
  }

  // --- parts ------------------------------------------------------------------------------------

  #comment(line: Buffer): void {
    if (this.#open) this.#writeOpen(line);
    else this.#comments.push(Buffer.from(line));
  }

  /** Writes a statement line to the open part, opening the pending one first. */
  #write(line: Buffer): void {
    if (!this.#open) {
      const info =
        this.#pending ??
        (this.#section === 'preamble' ? { stage: 'pre' as const, database: null, table: null } : null);
      if (!info) {
        // statements outside any known section (the tool changed its output): keep them, in order
        this.#openPart({
          stage: this.#databasesSeen.size === 0 ? 'pre' : 'post',
          database: this.#database,
          table: null,
        });
      } else {
        this.#pending = null;
        this.#openPart(info);
      }
    }
    this.#writeOpen(line);
  }

  #openPart(info: SplitPartInfo): void {
    this.#open = info;
    this.#openBytes = 0;
    this.#sink.startPart(info);
    for (const h of this.#header) this.#writeOpen(h);
    const createsDatabase = info.stage === 'pre' && info.table === null && info.database !== null;
    if (info.database !== null && !createsDatabase) {
      this.#writeOpen(Buffer.from(`USE ${quoteIdentifier(info.database)};\n`, 'utf8'));
    }
    for (const c of this.#comments) this.#writeOpen(c);
    this.#comments = [];
  }

  #writeOpen(bytes: Buffer): void {
    this.#openBytes += bytes.length;
    this.#sink.write(bytes);
  }

  #closePart(): void {
    if (!this.#open) return;
    if (
      this.#open.stage === 'rows' &&
      this.#prologue.some((p) => /autocommit\s*=\s*0/i.test(p.toString('latin1')))
    ) {
      this.#writeOpen(Buffer.from('COMMIT;\n', 'latin1'));
    }
    this.#open = null;
    this.#sink.endPart();
  }

  /** Advances the DDL lexer over one line: quotes, comments, and whether a statement is open. */
  #lexLine(text: string): void {
    let s = this.#lex;
    let open = this.#statementOpen;
    for (let k = 0; k < text.length; k++) {
      const c = text[k]!;
      if (s === 'code') {
        if (c === "'" || c === '"' || c === '`') {
          s = c;
          open = true;
        } else if (c === '/' && text[k + 1] === '*') {
          // `/*!40101 ...*/` and `/*M!...*/` hold SQL: their text is lexed as code
          if (text[k + 2] === '!' || (text[k + 2] === 'M' && text[k + 3] === '!')) {
            open = true;
            k += 2;
          } else {
            s = 'comment';
            k += 1;
          }
        } else if (c === '*' && text[k + 1] === '/') {
          k += 1; // end of a conditional comment
        } else if (c === ';') {
          open = false;
        } else if (c === '#' || (c === '-' && text[k + 1] === '-' && /[\s]/.test(text[k + 2] ?? '\n'))) {
          break; // line comment
        } else if (!/\s/.test(c)) {
          open = true;
        }
      } else if (s === 'comment') {
        if (c === '*' && text[k + 1] === '/') {
          s = 'code';
          k += 1;
        }
      } else if (c === '\\' && s !== '`') {
        k += 1; // escaped character in a string
      } else if (c === s) {
        if (text[k + 1] === s)
          k += 1; // doubled quote
        else s = 'code';
      }
    }
    this.#lex = s;
    this.#statementOpen = open;
  }
}

/** Whether `buf` at `i` starts a data statement ('undecided': too few bytes to tell). */
function startsData(buf: Buffer, i: number): 'data' | 'other' | 'undecided' {
  const avail = buf.length - i;
  let possible = false;
  for (const p of DATA_PREFIXES) {
    const len = Math.min(p.length, avail);
    if (buf.compare(p, 0, len, i, i + len) === 0) {
      if (avail >= p.length) return 'data';
      possible = true;
    }
  }
  return possible ? 'undecided' : 'other';
}
