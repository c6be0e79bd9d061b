import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { BackupManifest } from '../catalog/index.js';
import { createZstdDecompressStream } from '../codec/index.js';
import { ChecksumMismatchError, PitrError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { ClientCommand } from './client-command.js';
import { writeChunk } from './write-chunk.js';

/** What loadBackupDump needs. */
export interface LoadBackupDumpDeps {
  store: ObjectStore;
  /** Runs the `mariadb` client against the target. */
  client: ClientCommand;
  /** The target as `host:port`, for messages. */
  targetName: string;
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Streams a backup's dump from the repository through zstd into the SQL client connected to the
 * target, and checks the stored bytes against the manifest's size and SHA-256 once read. Shared by
 * `restore pitr` and `restore replica`; the caller decides whether the target may be loaded.
 *
 * @throws PitrError RESTORE_APPLY_FAILED when the client fails (the target is partly loaded),
 *   ChecksumMismatchError when the dump does not match its manifest, StorageError while reading
 */
export async function loadBackupDump(backup: BackupManifest, deps: LoadBackupDumpDeps): Promise<void> {
  const { store, client } = deps;
  const log = deps.logger ?? silentLogger;
  const key = backup.dump.key;
  const proc = client.spawn();
  const err: Buffer[] = [];
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  proc.stdout.resume();
  proc.stdin.on('error', () => undefined);
  const exit = once(proc, 'close') as Promise<[number | null]>;
  const stored = createHash('sha256');
  const sql = createHash('sha256');
  let storedBytes = 0;
  try {
    const source = await store.getStream(key);
    const dec = createZstdDecompressStream({ object: key });
    source.on('data', (c: Buffer) => {
      stored.update(c);
      storedBytes += c.length;
    });
    source.pipe(dec);
    source.on('error', (e) => dec.destroy(e));
    for await (const chunk of dec) {
      deps.signal?.throwIfAborted();
      sql.update(chunk as Buffer);
      if (!(await writeChunk(proc.stdin, chunk as Buffer))) break;
    }
    proc.stdin.end();
  } catch (e) {
    proc.kill('SIGTERM');
    await exit;
    throw e;
  }
  const [code] = await exit;
  if (code !== 0) {
    throw new PitrError(
      'RESTORE_APPLY_FAILED',
      `loading backup ${backup.id} into ${deps.targetName} failed: ${Buffer.concat(err).toString().trim()}. ` +
        'The target is partly loaded: drop its user databases (or use a fresh server) and restore again',
    );
  }
  const storedSha = stored.digest('hex');
  if (storedBytes !== backup.dump.size || storedSha !== backup.dump.sha256) {
    throw new ChecksumMismatchError(
      key,
      0,
      `the dump read back as ${storedBytes} bytes with SHA-256 ${storedSha}; its manifest records ` +
        `${backup.dump.size} bytes and ${backup.dump.sha256}. The target was loaded from damaged data: ` +
        'drop its user databases and restore from another backup',
    );
  }
  log.info('dump loaded', { backup: backup.id, sha256: sql.digest('hex') });
}
