// bench/split-backup.ts REPO_URL [CHUNK_MIB] -- cuts the newest backup of a repository into the
// parts of a split backup (manifest format 2), when `backup create` wrote it as one dump, with
// test/support/split-backup.ts (the real dump's statements, `rows` parts of about CHUNK_MIB MiB of
// SQL, default 32). Used by bench/restore-load.sh and bench/table-restore.sh until `backup create`
// writes split backups itself; a backup that is already split is left as it is.
import { readBackupCatalog } from '../src/catalog/index.js';
import { openObjectStore } from '../src/storage/index.js';
import { splitBackup } from '../test/support/split-backup.js';

const [url, mib] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: bench/split-backup.ts REPO_URL [CHUNK_MIB]\n');
  process.exit(2);
}
const store = openObjectStore(url);
const backups = (await readBackupCatalog(store)).complete;
const newest = backups[backups.length - 1];
if (!newest) throw new Error(`no complete backup in ${url}`);
if (newest.parts) {
  process.stdout.write(`RESULT split=already parts=${newest.parts.length}\n`);
} else {
  const t0 = Date.now();
  const m = await splitBackup(store, newest.id, { chunkBytes: Number(mib ?? 32) * 1024 * 1024 });
  const rows = m.parts!.filter((p) => p.stage === 'rows').length;
  process.stdout.write(
    `RESULT split=done parts=${m.parts!.length} rows_parts=${rows} seconds=${((Date.now() - t0) / 1000).toFixed(1)}\n`,
  );
}
