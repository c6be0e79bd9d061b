import type { ManifestPart } from '../catalog/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { SplitPartInfo, SplitSink } from './dump-splitter.js';
import { backupPartKey } from './backup-part-key.js';
import { PartCompressor, type CompressedPart } from './part-compressor.js';

/** Inputs of {@link SplitBackupWriter}. */
export interface SplitBackupWriterOptions {
  store: ObjectStore;
  /** The backup's id: parts go to `backups/<id>/parts/`. */
  backupId: string;
  /** zstd level (default 3). */
  compressionLevel?: number;
  /**
   * Parts being compressed and stored at once (default 3). The part being written is one of them;
   * the others finish compressing and uploading while the dump goes on.
   */
  maxInFlight?: number;
  /**
   * Worker threads compressing and hashing the parts (default 1, as `mariadb-dump | zstd` has one
   * zstd: the dump tool and the server need the other cores, and each thread has its own V8 heap;
   * 0: on the calling thread).
   */
  compressionThreads?: number;
}

interface OpenPart {
  info: SplitPartInfo;
  index: number;
  key: string;
  compressed: CompressedPart;
  sqlBytes: number;
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
  readonly #compressor: PartCompressor;
  #current: OpenPart | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #results: (ManifestPart | undefined)[] = [];
  readonly #keys: string[] = [];
  #failure: unknown;
  #sqlBytes = 0;
  #storedBytes = 0;

  constructor(opts: SplitBackupWriterOptions) {
    this.#o = { compressionLevel: 3, maxInFlight: 3, compressionThreads: 1, ...opts };
    this.#compressor = new PartCompressor(this.#o.compressionThreads, this.#o.compressionLevel);
  }

  /** Worker threads compressing (0 when they could not start: then the calling thread does). */
  get compressionThreads(): number {
    return this.#compressor.workerCount;
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
    const compressed = this.#compressor.startPart();
    const part: OpenPart = { info, index, key, compressed, sqlBytes: 0 };
    const done = Promise.all([
      this.#o.store.put(key, compressed.stored, { contentType: 'application/zstd' }),
      compressed.checksums,
    ]).then(
      ([res, sums]) => {
        this.#storedBytes += res.size;
        this.#results[index] = {
          key,
          compression: 'zstd',
          size: res.size,
          sha256: sums.storedSha256,
          uncompressedSize: part.sqlBytes,
          stage: info.stage,
          database: info.database,
          table: info.table,
          ...(info.chunk !== undefined ? { chunk: info.chunk } : {}),
        };
      },
      (err: unknown) => {
        this.#failure ??= err;
        compressed.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      },
    );
    const tracked = done.catch(() => undefined).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    this.#current = part;
  }

  write(bytes: Buffer): void {
    const part = this.#current!;
    part.sqlBytes += bytes.length;
    this.#sqlBytes += bytes.length;
    part.compressed.write(bytes);
  }

  endPart(): void {
    this.#current?.compressed.end();
    this.#current = undefined;
  }

  /** False when the producer may go on at once (then `ready()` would resolve without waiting). */
  get mustWait(): boolean {
    return (
      this.#failure !== undefined ||
      this.#current?.compressed.needsDrain === true ||
      this.#inFlight.size > this.#o.maxInFlight
    );
  }

  /**
   * Resolves once the producer may go on: the open part's compressor has room and at most
   * `maxInFlight` parts are in progress.
   *
   * @throws the storage or compression error of a failed part
   */
  async ready(): Promise<void> {
    this.#throwIfFailed();
    const c = this.#current?.compressed;
    if (c?.needsDrain) await c.drained();
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
    await this.#compressor.close();
    this.#throwIfFailed();
    return this.#results.map((p, i) => {
      if (!p) throw new PitrError('INTERNAL', `part ${i} of backup ${this.#o.backupId} was never stored`);
      return p;
    });
  }

  /** Stops every part in progress (their puts then fail and store nothing) and waits for them. */
  async abort(reason: Error): Promise<void> {
    this.#failure ??= reason;
    this.#current?.compressed.destroy(reason);
    this.#current = undefined;
    await Promise.all([...this.#inFlight]);
    await this.#compressor.close();
  }

  #throwIfFailed(): void {
    if (this.#failure === undefined) return;
    const err = this.#failure;
    if (err instanceof Error) throw err;
    throw new PitrError('INTERNAL', `storing a backup part failed: ${messageOf(err)}`);
  }
}
