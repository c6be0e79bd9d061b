/**
 * Turns a single-dump backup (format 1, written by `backup create`) into a split backup (format 2)
 * following the manifest contract of src/catalog/backup-manifest.ts, for the loader's tests and
 * benchmarks while `backup create` does not write one: the real `mariadb-dump` output is cut into
 * self-contained parts (the dump's leading session settings and `USE db` at the head of each),
 * `pre` (CREATE DATABASE, each table's DROP/CREATE TABLE, stand-in views), `rows` (each table's
 * INSERTs in chunks of about `chunkBytes` of SQL) and `post` (triggers with their table set, final
 * views, events, routines, the closing settings), in dump order. The parts are stored under
 * `backups/<id>/parts/`, the manifest is replaced and the single dump deleted.
 *
 * Session statements (`SET ...`) that follow a statement before the next comment line belong to
 * its part (mariadb-dump restores what it changed right after it); the others go with the next
 * statement.
 */
import { createHash } from 'node:crypto';
import {
  backupManifestKey,
  readBackupManifest,
  serializeBackupManifest,
  type BackupManifest,
  type ManifestPart,
} from '../../src/catalog/index.js';
import { zstdCompress } from '../../src/codec/index.js';
import { readBackupPart } from '../../src/restore/load/backup-part-reader.js';
import type { DumpStatement } from '../../src/restore/load/dump-statement-splitter.js';
import type { ObjectStore } from '../../src/storage/index.js';

export interface SplitBackupOptions {
  /** SQL bytes per `rows` part before a new chunk starts (default 32 MiB). */
  chunkBytes?: number;
}

interface Draft {
  stage: ManifestPart['stage'];
  database: string | null;
  table: string | null;
  chunk?: number;
  /** No `USE` in the head (the part creates the database). */
  noUse?: boolean;
  body: Buffer[];
  bytes: number;
}

const qi = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
const ID = '(`(?:[^`]|``)+`|[\\w$]+)';
/** The table of `CREATE ... TRIGGER name ... ON [db.]table`. */
const TRIGGER_ON = new RegExp(`\\bTRIGGER\\b[\\s\\S]*?\\bON\\s+${ID}(?:\\s*\\.\\s*${ID})?`, 'i');

/** `sql;\n`, or a routine in its own DELIMITER block. */
function text(st: DumpStatement): Buffer {
  return st.kind === 'routine'
    ? Buffer.concat([Buffer.from('DELIMITER ;;\n'), st.sql, Buffer.from(';;\nDELIMITER ;\n')])
    : Buffer.concat([st.sql, Buffer.from(';\n')]);
}

/**
 * Splits backup `id` of `store` into parts (see the file comment) and returns the new manifest.
 */
export async function splitBackup(
  store: ObjectStore,
  id: string,
  opts: SplitBackupOptions = {},
): Promise<BackupManifest> {
  const chunkBytes = opts.chunkBytes ?? 32 * 1024 * 1024;
  const manifest = await readBackupManifest(store, id);
  if (!manifest.dump) throw new Error(`backup ${id} is already split`);
  const dump = manifest.dump;
  const head: Buffer[] = [];
  const parts: ManifestPart[] = [];
  const chunks = new Map<string, number>();
  let draft: Draft | undefined;
  let pending: Buffer[] = [];
  /** Session statements still belong to the current draft (no comment or statement since). */
  let trailing = false;
  let seenDatabase = false;
  let db: string | null = null;
  let viewStage: 'pre' | 'post' = 'pre';

  const store1 = async (d: Draft): Promise<void> => {
    const use = d.database !== null && !d.noUse ? [Buffer.from(`USE ${qi(d.database)};\n`)] : [];
    const sql = Buffer.concat([...head, ...use, ...d.body]);
    const body = zstdCompress(sql, 3);
    const n = String(parts.length).padStart(5, '0');
    const key = `backups/${id}/parts/${n}-${d.stage}.sql.zst`;
    await store.put(key, body);
    parts.push({
      key,
      compression: 'zstd',
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      uncompressedSize: sql.length,
      uncompressedSha256: createHash('sha256').update(sql).digest('hex'),
      stage: d.stage,
      database: d.database,
      table: d.table,
      ...(d.chunk !== undefined ? { chunk: d.chunk } : {}),
    });
  };
  const flush = async (): Promise<void> => {
    if (draft) await store1(draft);
    draft = undefined;
  };
  /** The draft for (stage, database, table): the current one when it matches, else a new one. */
  const route = async (stage: Draft['stage'], table: string | null, noUse = false): Promise<Draft> => {
    const same = draft && draft.stage === stage && draft.database === db && draft.table === table;
    if (same && (stage !== 'rows' || draft!.bytes < chunkBytes)) return draft!;
    await flush();
    let chunk: number | undefined;
    if (stage === 'rows') {
      const k = `${db ?? ''}\u0000${table ?? ''}`;
      chunk = chunks.get(k) ?? 0;
      chunks.set(k, chunk + 1);
    }
    draft = {
      stage,
      database: db,
      table,
      ...(chunk !== undefined ? { chunk } : {}),
      noUse,
      body: [],
      bytes: 0,
    };
    return draft;
  };
  const add = (d: Draft, b: Buffer): void => {
    d.body.push(b);
    d.bytes += b.length;
  };
  const place = async (
    stage: Draft['stage'],
    table: string | null,
    st: DumpStatement,
    noUse = false,
  ): Promise<void> => {
    const d = await route(stage, table, noUse);
    for (const p of pending) add(d, p);
    pending = [];
    add(d, text(st));
    trailing = true;
  };

  for await (const st of readBackupPart(store, dump, { remedy: 'take a new backup' })) {
    switch (st.kind) {
      case 'sandbox':
      case 'delimiter':
        break;
      case 'lock-tables':
      case 'unlock-tables':
      case 'disable-keys':
      case 'enable-keys':
        // what follows (a trigger's saved settings) is not the table data's
        trailing = false;
        break;
      case 'comment': {
        trailing = false;
        const c = st.sql.toString('utf8');
        if (/Temporary (?:table|view) structure for view/i.test(c)) viewStage = 'pre';
        if (/Final view structure for view/i.test(c)) viewStage = 'post';
        break;
      }
      case 'session':
        if (!seenDatabase) head.push(text(st));
        else if (trailing && draft) add(draft, text(st));
        else pending.push(text(st));
        break;
      case 'use':
        seenDatabase = true;
        db = st.database ?? null;
        trailing = false;
        break;
      case 'create-database':
        seenDatabase = true;
        db = st.database ?? null;
        await place('pre', null, st, true);
        // The part that creates the database also enters it, for what follows in it.
        add(draft!, Buffer.from(`USE ${qi(db!)};\n`));
        break;
      case 'drop-table':
      case 'create-table':
        await place('pre', st.table ?? null, st);
        break;
      case 'insert':
        await place('rows', st.table ?? null, st);
        break;
      case 'view':
        await place(viewStage, null, st);
        break;
      case 'routine': {
        const m = TRIGGER_ON.exec(st.sql.toString('utf8').replace(/\/\*!\d*\s?|\*\//g, ' '));
        const isTrigger = /^\s*(?:\/\*!\d+\s*)?CREATE\b[\s\S]*?\bTRIGGER\b/i.test(st.sql.toString('utf8'));
        const table = isTrigger && m ? (m[2] ?? m[1]!).replace(/^`|`$/g, '').replace(/``/g, '`') : null;
        await place('post', table, st);
        break;
      }
      case 'transaction':
        if (draft) add(draft, text(st));
        break;
      default:
        await place(seenDatabase ? 'post' : 'pre', null, st);
        break;
    }
  }
  await flush();
  if (pending.length > 0) {
    db = null;
    const d = await route('post', null);
    for (const p of pending) add(d, p);
    await flush();
  }
  const split: BackupManifest = { ...manifest, format: 2, parts };
  delete split.dump;
  await store.put(backupManifestKey(id), Buffer.from(serializeBackupManifest(split)));
  await store.delete([dump.key]);
  return split;
}
