import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

import type { ManifestPart } from '../catalog/index.js';
import { createZstdCompressStream } from '../codec/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { SplitPartInfo, SplitSink } from './dump-splitter.js';
import { backupPartKey } from './backup-part-key.js';

/** Inputs of {@link SplitBackupWriter}. */
export interface SplitBackupWriterOptions {
  store: ObjectStore;
  /** The backup's id: parts go to `backups/<id>/parts/`. */
  backupId: string;
  /** zstd level (default 3). */
  compressionLevel?: number;
  /**
   * Parts being compressed and stored at once (default 3). The part being written is one of them;
   * the others finish compressing in libzstd's threads and uploading while the dump goes on.
   */
  maxInFlight?: number;
}

/** Counts and hashes the bytes passing through. */
class HashingPassThrough extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor() {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

interface OpenPart {
  info: SplitPartInfo;
  index: number;
  key: string;
  compress: Transform;
  sqlHash: Hash;
  sqlBytes: number;
  stored: HashingPassThrough;
  done: Promise<void>;
}

/**
 * Stores the parts a {@link DumpSplitter} cuts: each part is compressed (zstd, in libzstd's worker
 * thread for row parts, so the event loop keeps reading the dump) and stored under
 * `backups/<id>/parts/<n>-<stage>.sql.zst` as it is produced, hashing its SQL and stored bytes. Up to
 * `maxInFlight` parts are in progress at once; `ready()` is the back-pressure for the producer.
 *
 * After `finish()`, `parts` lists them in dump order (the restore order of the manifest contract).
 * On any failure, `keys` names every object that may have been written, for removal.
 */
export class SplitBackupWriter implements SplitSink {
  readonly #o: Required<SplitBackupWriterOptions>;
  #current: OpenPart | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #results: (ManifestPart | undefined)[] = [];
  readonly #keys: string[] = [];
  #failure: unknown;
  #sqlBytes = 0;
  #storedBytes = 0;

  constructor(opts: SplitBackupWriterOptions) {
    this.#o = { compressionLevel: 3, maxInFlight: 3, ...opts };
  }

  /** SQL bytes handed to parts so far. */
  get sqlBytes(): number {
    return this.#sqlBytes;
  }

  /** Compressed bytes of the parts finished so far (for progress). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /** Every key a part was (or may have been) written to. */
  get keys(): readonly string[] {
    return this.#keys;
  }

  startPart(info: SplitPartInfo): void {
    const index = this.#results.length;
    this.#results.push(undefined);
    const key = backupPartKey(this.#o.backupId, index, info.stage);
    this.#keys.push(key);
    const compress = createZstdCompressStream({
      level: this.#o.compressionLevel,
      // schema parts are small: a thread per part would cost more than it saves
      workers: info.stage === 'rows' ? 1 : 0,
    });
    const stored = new HashingPassThrough();
    const part: OpenPart = {
      info,
      index,
      key,
      compress,
      sqlHash: createHash('sha256'),
      sqlBytes: 0,
      stored,
      done: Promise.resolve(),
    };
    compress.on('error', (err: Error) => stored.destroy(err));
    compress.pipe(stored);
    const done = this.#o.store.put(key, stored, { contentType: 'application/zstd' }).then(
      (res) => {
        if (res.size !== stored.bytes) {
          throw new PitrError(
            'INTERNAL',
            `${this.#o.store.describe()} stored ${res.size} bytes of ${key} but ${stored.bytes} were sent`,
          );
        }
        this.#storedBytes += stored.bytes;
        this.#results[index] = {
          key,
          compression: 'zstd',
          size: stored.bytes,
          sha256: stored.hash.digest('hex'),
          uncompressedSize: part.sqlBytes,
          uncompressedSha256: part.sqlHash.digest('hex'),
          stage: info.stage,
          database: info.database,
          table: info.table,
          ...(info.chunk !== undefined ? { chunk: info.chunk } : {}),
        };
      },
      (err: unknown) => {
        this.#failure ??= err;
        compress.destroy();
        throw err;
      },
    );
    part.done = done;
    const tracked = done.catch(() => undefined).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    this.#current = part;
  }

  write(bytes: Buffer): void {
    const part = this.#current!;
    part.sqlBytes += bytes.length;
    this.#sqlBytes += bytes.length;
    part.sqlHash.update(bytes);
    part.compress.write(bytes);
  }

  endPart(): void {
    this.#current?.compress.end();
    this.#current = undefined;
  }

  /**
   * Resolves once the producer may go on: the open part's compressor has room and at most
   * `maxInFlight` parts are in progress.
   *
   * @throws the storage or compression error of a failed part
   */
  async ready(): Promise<void> {
    this.#throwIfFailed();
    const c = this.#current?.compress;
    if (c?.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          c.off('drain', done);
          c.off('close', done);
          resolve();
        };
        c.on('drain', done);
        c.on('close', done);
      });
    }
    while (this.#inFlight.size > this.#o.maxInFlight) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
  }

  /**
   * Waits until every part is stored and returns them in order.
   *
   * @throws the first storage or compression error of any part
   */
  async finish(): Promise<ManifestPart[]> {
    this.endPart();
    await Promise.all([...this.#inFlight]);
    this.#throwIfFailed();
    return this.#results.map((p, i) => {
      if (!p) throw new PitrError('INTERNAL', `part ${i} of backup ${this.#o.backupId} was never stored`);
      return p;
    });
  }

  /** Stops every part in progress (their puts then fail and store nothing) and waits for them. */
  async abort(reason: Error): Promise<void> {
    this.#failure ??= reason;
    this.#current?.compress.destroy(reason);
    this.#current?.stored.destroy(reason);
    this.#current = undefined;
    await Promise.all([...this.#inFlight]);
  }

  #throwIfFailed(): void {
    if (this.#failure === undefined) return;
    const err = this.#failure;
    if (err instanceof Error) throw err;
    throw new PitrError('INTERNAL', `storing a backup part failed: ${messageOf(err)}`);
  }
}
