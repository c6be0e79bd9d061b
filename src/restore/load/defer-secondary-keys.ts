// Splits a dumped `CREATE TABLE` (the text of SHOW CREATE TABLE, as mariadb-dump / mysqldump write
// it) into the table without its plain secondary keys and the `ADD KEY ...` clauses that add them
// back, so that a restore loads the rows first and builds those indexes once, sorted, in one ALTER
// TABLE (as myloader's --optimize-keys does). The server's CPU per loaded row is the limit of a
// split-backup load, and random inserts into each secondary B-tree cost more than one sorted
// build: bench/README.md ("Secondary keys after the rows").
//
// Exactness comes first: SHOW CREATE TABLE after the ALTER must be byte-identical to the source's.
// The server orders the keys of a table as PRIMARY, UNIQUE, then the other keys in the order they
// were given, FULLTEXT last; the deferred keys are all the plain ones, added back in their order,
// so they land where they were. Anything this cannot read with certainty leaves the statement as
// it is (`null`): a statement other than `CREATE TABLE name (...) options`, comments, an engine
// other than InnoDB, partitions, system versioning, foreign keys (REFERENCES, either side: see
// `references`), SPATIAL keys (ordered among the plain ones), an AUTO_INCREMENT column (it needs a
// key at CREATE time), element kinds it does not know.

/** `name` as a quoted identifier. */
function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A CREATE TABLE with its plain secondary keys taken out. */
export interface DeferredKeys {
  /** The CREATE TABLE without the deferred keys (same text otherwise). */
  createTable: string;
  /** The deferred key definitions, verbatim and in their order (`KEY \`k\` (\`c\`) COMMENT '...'`). */
  keys: string[];
}

/** One top-level element of the column/key list, and the bare words outside quotes in it. */
interface Element {
  text: string;
  words: string[];
}

/** Lexed CREATE TABLE: head up to and with `(`, the elements, the tail from `)`, tail words. */
interface LexedCreate {
  head: string;
  elements: Element[];
  tail: string;
  tailWords: string[];
}

/** The first column of a key definition: `PRIMARY KEY (\`c\`...` -> `` `c` ``. */
const FIRST_KEY_COLUMN = /^[^(`'"]*(?:`(?:[^`]|``)+`[^(`'"]*)?\(\s*(`(?:[^`]|``)+`)/;
/** The name of a column element. */
const LEADING_IDENT = /^\s*(`(?:[^`]|``)+`)/;

const HEAD = /^CREATE\s+TABLE\s+(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)\s*\($/i;

/** Words of the table options that mean the table is not a plain InnoDB table we can alter. */
const TAIL_REFUSED = new Set([
  'PARTITION',
  'PARTITIONS',
  'SUBPARTITION',
  'VERSIONING',
  'SELECT',
  'AS',
  'LIKE',
  'UNION',
]);

/**
 * Lexes `sql` as `CREATE TABLE name ( element, ... ) tail`. Null when it does not have that shape
 * or holds a comment outside quotes (versioned comments may carry syntax we do not read).
 */
function lexCreateTable(sql: string): LexedCreate | null {
  let i = 0;
  const n = sql.length;
  let depth = 0;
  let head: string | undefined;
  const elements: Element[] = [];
  let start = 0;
  let words: string[] = [];
  let tailWords: string[] = [];
  let tailAt = -1;
  while (i < n) {
    const c = sql[i]!;
    if (c === '`' || c === "'" || c === '"') {
      // quoted identifier or string: doubled quote escapes it; in strings also a backslash
      let j = i + 1;
      for (;;) {
        if (j >= n) return null;
        const d = sql[j]!;
        if (d === '\\' && c !== '`') {
          j += 2;
          continue;
        }
        if (d === c) {
          if (sql[j + 1] === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === '#' || (c === '/' && sql[i + 1] === '*') || (c === '-' && sql[i + 1] === '-')) return null;
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const w = sql.slice(i, j).toUpperCase();
      if (tailAt >= 0) tailWords.push(w);
      else if (depth >= 1) words.push(w);
      i = j;
      continue;
    }
    if (c === '(') {
      depth++;
      if (depth === 1 && head === undefined) {
        head = sql.slice(0, i + 1);
        if (!HEAD.test(head.trim())) return null;
        start = i + 1;
        words = [];
      }
    } else if (c === ')') {
      depth--;
      if (depth < 0) return null;
      if (depth === 0 && tailAt < 0) {
        // (parentheses in the options come back to depth 0 too: they stay in the tail)
        elements.push({ text: sql.slice(start, i), words });
        tailAt = i;
        tailWords = [];
      }
    } else if (c === ',' && depth === 1 && tailAt < 0) {
      elements.push({ text: sql.slice(start, i), words });
      start = i + 1;
      words = [];
    }
    i++;
  }
  if (head === undefined || tailAt < 0 || depth !== 0) return null;
  return { head, elements, tail: sql.slice(tailAt), tailWords };
}

type Kind = 'column' | 'primary' | 'unique' | 'fulltext' | 'plain' | 'check' | 'refuse';

function kindOf(e: Element): Kind {
  const t = e.text.trimStart();
  if (e.words.includes('REFERENCES') || e.words.includes('FOREIGN') || e.words.includes('VERSIONING')) {
    return 'refuse';
  }
  if (t.startsWith('`')) return 'column';
  const [w0, w1] = e.words;
  if (w0 === 'PRIMARY' && w1 === 'KEY') return 'primary';
  if (w0 === 'UNIQUE') return 'unique';
  if (w0 === 'FULLTEXT') return 'fulltext';
  // `KEY \`name\` (...)`: the name must be quoted, as SHOW CREATE TABLE writes it
  if ((w0 === 'KEY' || w0 === 'INDEX') && /^(?:KEY|INDEX)\s+`/i.test(t)) return 'plain';
  if (w0 === 'CHECK') return 'check';
  if (w0 === 'CONSTRAINT' && /^CONSTRAINT\s+`(?:[^`]|``)+`\s+CHECK\s*\(/i.test(t)) return 'check';
  return 'refuse';
}

/**
 * The table without its plain secondary keys, and those keys, or null when the statement is to be
 * loaded as it is (no plain key, or anything listed in the file comment). Pure.
 */
export function deferSecondaryKeys(createTable: string): DeferredKeys | null {
  const lexed = lexCreateTable(createTable);
  if (!lexed) return null;
  const { tailWords } = lexed;
  const engineAt = tailWords.indexOf('ENGINE');
  if (engineAt < 0 || tailWords[engineAt + 1] !== 'INNODB') return null;
  if (tailWords.some((w) => TAIL_REFUSED.has(w))) return null;
  const kinds = lexed.elements.map(kindOf);
  if (kinds.includes('refuse') || !kinds.includes('plain')) return null;
  // every column must stay: a table of keys only is not one SHOW CREATE TABLE writes
  if (!kinds.includes('column')) return null;
  // An AUTO_INCREMENT column must lead a key when the table is created: a kept PRIMARY / UNIQUE.
  const leading = lexed.elements
    .filter((_, k) => kinds[k] === 'primary' || kinds[k] === 'unique')
    .map((e) => FIRST_KEY_COLUMN.exec(e.text)?.[1]);
  for (const [k, e] of lexed.elements.entries()) {
    if (kinds[k] === 'column' && e.words.includes('AUTO_INCREMENT')) {
      const name = LEADING_IDENT.exec(e.text)?.[1];
      if (name === undefined || !leading.includes(name)) return null;
    }
  }
  const kept = lexed.elements.filter((_, k) => kinds[k] !== 'plain');
  const keys = lexed.elements.filter((_, k) => kinds[k] === 'plain').map((e) => e.text.trim());
  // The last kept element took the separator before the closing parenthesis: keep its spacing.
  const body = kept.map((e) => e.text).join(',');
  const lastWhitespace = /\s*$/.exec(lexed.elements.at(-1)!.text)![0];
  return {
    createTable: `${lexed.head}${body.trimEnd()}${lastWhitespace}${lexed.tail}`,
    keys,
  };
}

/** `ALTER TABLE \`db\`.\`t\` ADD KEY ..., ADD KEY ...`: the deferred keys of a table, in one statement. */
export function addKeysStatement(database: string, table: string, keys: readonly string[]): string {
  return `ALTER TABLE ${quoteIdentifier(database)}.${quoteIdentifier(table)} ${keys.map((k) => `ADD ${k}`).join(', ')}`;
}

/**
 * Offsets of `word` (upper case) as a bare word of `sql`, outside quoted strings and identifiers;
 * null when a quote is not closed.
 */
function bareWordsAt(sql: string, word: string): number[] | null {
  const out: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '`' || c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) return null;
        const d = sql[j]!;
        if (d === '\\' && c !== '`') j += 2;
        else if (d === c && sql[j + 1] === c) j += 2;
        else if (d === c) break;
        else j++;
      }
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      if (sql.slice(i, j).toUpperCase() === word) out.push(i);
      i = j;
    } else i++;
  }
  return out;
}

const QUOTED = '`((?:[^`]|``)+)`';
const REFERENCE = new RegExp(`^REFERENCES\\s+${QUOTED}(?:\\s*\\.\\s*${QUOTED})?\\s*\\(`, 'i');

/**
 * The tables a dumped CREATE TABLE's foreign keys reference (`REFERENCES \`t\`` in `database`, or
 * `REFERENCES \`db\`.\`t\``), unquoted; [] without the word REFERENCES outside quotes (a SET
 * member 'References' of a privilege table is no foreign key); null when one occurrence is not
 * followed by a quoted name and a parenthesis, or the text does not lex (the caller then defers no
 * more keys, never guessing). A word in a comment counts: more tables kept, never fewer.
 */
export function referencedTables(
  createTable: string,
  database: string,
): { database: string; table: string }[] | null {
  const out: { database: string; table: string }[] = [];
  const unquote = (s: string): string => s.replace(/``/g, '`');
  const found = bareWordsAt(createTable, 'REFERENCES');
  if (found === null) return null;
  for (const at of found) {
    const r = REFERENCE.exec(createTable.slice(at));
    if (!r) return null;
    out.push(
      r[2] !== undefined
        ? { database: unquote(r[1]!), table: unquote(r[2]) }
        : { database, table: unquote(r[1]!) },
    );
  }
  return out;
}
