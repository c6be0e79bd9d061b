/**
 * Splits the text output of `mariadb-binlog` into what the `mariadb` client would do with it:
 * statements (delimiter stripped), `# at POS` positions, transaction starts (GTID events) and
 * client-side commands, without copying the bytes more than once. Pure; push chunks in order.
 *
 * What mariadb-binlog writes, and how each part is handled:
 * - `DELIMITER /*!*\/;` switches the statement delimiter (a client command: not sent);
 * - a statement runs until a line that ends with the delimiter, e.g. `COMMIT/*!*\/;`, or
 *   `BINLOG '`, base64 lines, `'/*!*\/;` (the delimiter must be the end of a line);
 * - between statements, lines starting with `#` are comments: `# at 1234` gives the position of
 *   the next event, `#... GTID 0-1-42 trans` (MariaDB) starts a transaction;
 * - `SET @@SESSION.GTID_NEXT= 'uuid:42'` (MySQL) starts a transaction and is sent;
 * - `/*!\C utf8mb4 *\/` is the client's `charset` command: sent as `SET NAMES utf8mb4`.
 *
 * A statement that contains its delimiter followed by a newline inside a string literal would be
 * cut there; mariadb-binlog only emits that for a query whose own text does so.
 */

/** One thing found in the output, in order. */
export type BinlogSqlItem =
  | { kind: 'statement'; sql: Buffer }
  /** A MariaDB GTID event comment, or the `# at` position when the transaction starts without a GTID. */
  | { kind: 'transaction'; gtid: string | undefined; position: number }
  | { kind: 'position'; position: number };

const NL = 0x0a;
const HASH = 0x23;
const CR = 0x0d;
const AT_PREFIX = '# at ';
const DELIMITER_PREFIX = 'DELIMITER ';
const CHARSET_RE = /^\/\*!\\C ([A-Za-z0-9_]+) \*\/$/;
const MARIADB_GTID_RE = /\tGTID (\d+-\d+-\d+)(?: |$)/;
const MYSQL_GTID_NEXT = Buffer.from("SET @@SESSION.GTID_NEXT= '");

/** Removes trailing newlines and carriage returns. */
function trimEnd(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === NL || b[end - 1] === CR || b[end - 1] === 0x20)) end -= 1;
  return end === b.length ? b : b.subarray(0, end);
}

/** See the file comment. */
export class BatchSqlSplitter {
  private delimiter = Buffer.from(';');
  private delimiterNl = Buffer.from(';\n');
  /** Bytes of the unfinished line (between statements) or statement. */
  private acc: Buffer[] = [];
  private inStatement = false;
  /** The last bytes of the previous chunk, searched again with the next one (the delimiter may straddle). */
  private carry: Buffer = Buffer.alloc(0);
  private lastPosition = 0;

  /** The items completed by `chunk`. */
  push(chunk: Buffer): BinlogSqlItem[] {
    const out: BinlogSqlItem[] = [];
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    let pos = 0;
    while (pos < buf.length) {
      if (this.inStatement) {
        const i = buf.indexOf(this.delimiterNl, pos);
        if (i < 0) {
          const keep = Math.max(pos, buf.length - (this.delimiterNl.length - 1));
          if (keep > pos) this.acc.push(buf.subarray(pos, keep));
          this.carry = buf.subarray(keep);
          return out;
        }
        this.acc.push(buf.subarray(pos, i));
        pos = i + this.delimiterNl.length;
        this.inStatement = false;
        this.emitStatement(Buffer.concat(this.acc), out);
        this.acc = [];
        continue;
      }
      const i = buf.indexOf(NL, pos);
      if (i < 0) {
        this.acc.push(buf.subarray(pos));
        return out;
      }
      const line = this.acc.length
        ? Buffer.concat([...this.acc, buf.subarray(pos, i)])
        : buf.subarray(pos, i);
      this.acc = [];
      pos = i + 1;
      this.line(line, out);
    }
    return out;
  }

  /**
   * Checks that the output ended between statements.
   *
   * @returns the text of an unfinished statement (at most 200 bytes), or undefined
   */
  end(): string | undefined {
    const rest = trimEnd(Buffer.concat([...this.acc, this.carry]));
    this.acc = [];
    this.carry = Buffer.alloc(0);
    const unfinished = this.inStatement || (rest.length > 0 && rest[0] !== HASH);
    this.inStatement = false;
    return unfinished ? rest.subarray(0, 200).toString('latin1') : undefined;
  }

  private line(raw: Buffer, out: BinlogSqlItem[]): void {
    const line = trimEnd(raw);
    if (line.length === 0) return;
    if (line[0] === HASH) {
      this.comment(line.toString('latin1'), out);
      return;
    }
    if (
      line.length > DELIMITER_PREFIX.length &&
      line.toString('latin1', 0, DELIMITER_PREFIX.length) === DELIMITER_PREFIX
    ) {
      this.delimiter = Buffer.from(line.toString('latin1', DELIMITER_PREFIX.length).trim(), 'latin1');
      this.delimiterNl = Buffer.concat([this.delimiter, Buffer.from('\n')]);
      return;
    }
    // the first line of a statement; it may also be its last
    if (
      line.length >= this.delimiter.length &&
      line.subarray(line.length - this.delimiter.length).equals(this.delimiter)
    ) {
      this.emitStatement(line.subarray(0, line.length - this.delimiter.length), out);
      return;
    }
    this.acc = [raw, Buffer.from('\n')];
    this.inStatement = true;
  }

  private comment(text: string, out: BinlogSqlItem[]): void {
    if (text.startsWith(AT_PREFIX)) {
      const n = Number(text.slice(AT_PREFIX.length).trim());
      if (Number.isSafeInteger(n)) {
        this.lastPosition = n;
        out.push({ kind: 'position', position: n });
      }
      return;
    }
    const m = MARIADB_GTID_RE.exec(text);
    if (m) out.push({ kind: 'transaction', gtid: m[1], position: this.lastPosition });
  }

  private emitStatement(raw: Buffer, out: BinlogSqlItem[]): void {
    const sql = trimEnd(raw);
    if (sql.length === 0) return;
    if (sql.length < 64) {
      const cs = CHARSET_RE.exec(sql.toString('latin1'));
      if (cs) {
        out.push({ kind: 'statement', sql: Buffer.from(`SET NAMES ${cs[1]}`) });
        return;
      }
    }
    if (sql.length < 200 && sql.subarray(0, MYSQL_GTID_NEXT.length).equals(MYSQL_GTID_NEXT)) {
      const gtid = /'([^']+)'/.exec(sql.toString('latin1'))?.[1];
      if (gtid && gtid !== 'AUTOMATIC' && gtid !== 'ANONYMOUS') {
        out.push({ kind: 'transaction', gtid, position: this.lastPosition });
      }
    }
    out.push({ kind: 'statement', sql });
  }
}
