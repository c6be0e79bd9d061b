/**
 * A source port (src/archiver/source-port.ts) that feeds recorded binlog files from
 * test/fixtures as a source would send them: an artificial ROTATE announcing each file, the
 * file's FORMAT_DESCRIPTION_EVENT re-sent when the dump starts past it, then the file's own events.
 * It is a port, not a mock of a real part: the archiver behind it (core, uploads, lease, records,
 * purge, metrics) is the real one, writing to a real repository.
 */
import { BinlogEventParser, EventType } from '../../src/binlog/index.js';
import { readFixture } from './binlog-fixtures.js';
import type {
  SourceDump,
  SourceItem,
  SourceItems,
  SourcePort,
  SourceSnapshot,
} from '../../src/archiver/index.js';

/** One binlog file the fake source has. */
export interface FixtureFile {
  name: string;
  bytes: Buffer;
}

/** server_uuid of the MySQL 8.0.45 server that wrote test/fixtures' mysql-8.0.45-gtid.* files. */
export const MYSQL_FIXTURE_UUID = '396e294c-1ca4-11f1-9ae7-00155da79c6b';

/** The two MySQL 8.0.45 fixture files as `binlog.000001` and `binlog.000002`. */
export function mysqlFixtureFiles(): FixtureFile[] {
  return [
    { name: 'binlog.000001', bytes: readFixture('mysql-8.0.45-gtid.000001') },
    { name: 'binlog.000002', bytes: readFixture('mysql-8.0.45-gtid.000002') },
  ];
}

/** What the MySQL 8.0.45 server of those files says on connect, with `gtidExecuted`. */
export function mysqlFixtureFacts(gtidExecuted: string): FixtureSourceOptions['facts'] {
  return {
    flavor: 'mysql',
    version: '8.0.45',
    versionNumber: { major: 8, minor: 0, patch: 45 },
    logBin: true,
    binlogFormat: 'ROW',
    binlogChecksum: 'CRC32',
    serverId: 1,
    logBinBasename: undefined,
    serverUuid: MYSQL_FIXTURE_UUID,
    gtidMode: 'ON',
    gtidExecuted,
    hasReplicationSlave: true,
    grants: [],
  };
}

/** Options of FixtureSourcePort. */
export interface FixtureSourceOptions {
  /** What connect() says besides the file list (flavor, server_id, GTIDs...). */
  facts: Omit<SourceSnapshot, 'binaryLogs' | 'current'>;
  /** End the dump after the last file (`--until-caught-up`), or wait for close() (following). */
  nonBlocking: boolean;
  /** The first dump fails with `error` after `items` items (a dropped connection). */
  failFirstDumpAfter?: { items: number; error: Error };
  address?: string;
}

/** A dump over in-memory items that may fail at a given item, or wait for close() at the end. */
class FixtureItems implements SourceItems {
  #next = 0;
  #closed = false;
  #wake: (() => void) | undefined;
  /** Resolves once every item was taken and the dump waits (following) or ended. */
  readonly drained: Promise<void>;
  #drained!: () => void;

  constructor(
    private readonly items: readonly SourceItem[],
    private readonly nonBlocking: boolean,
    private readonly failAt: { items: number; error: Error } | undefined,
  ) {
    this.drained = new Promise((resolve) => (this.#drained = resolve));
  }

  poll(): SourceItem | undefined {
    if (this.#closed || this.#next >= this.items.length) return undefined;
    if (this.failAt && this.#next >= this.failAt.items) return undefined;
    return this.items[this.#next++];
  }

  async next(): Promise<IteratorResult<SourceItem>> {
    const item = this.poll();
    if (item) return { done: false, value: item };
    if (this.#closed) return { done: true, value: undefined };
    if (this.failAt && this.#next >= this.failAt.items) throw this.failAt.error;
    this.#drained();
    if (this.nonBlocking) return { done: true, value: undefined };
    await new Promise<void>((resolve) => (this.#wake = resolve));
    return { done: true, value: undefined };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.#drained();
  }
}

/** The fake source: its files, what it was asked to open and to execute. */
export class FixtureSourcePort implements SourcePort {
  readonly address: string;
  /** Every open() call, in order. */
  readonly opened: { file: string; position: number }[] = [];
  /** Every execute() call, in order. */
  readonly executed: { sql: string; params: readonly unknown[] | undefined }[] = [];
  /** The dumps opened, in order. */
  readonly dumps: FixtureItems[] = [];
  #released = 0;

  constructor(
    private readonly files: readonly FixtureFile[],
    private readonly opts: FixtureSourceOptions,
  ) {
    this.address = opts.address ?? 'fixture://db1:3306';
  }

  /** Dumps whose release() was called. */
  get released(): number {
    return this.#released;
  }

  async connect(): Promise<SourceSnapshot> {
    const last = this.files.at(-1)!;
    return {
      ...this.opts.facts,
      binaryLogs: this.files.map((f) => ({ name: f.name, size: f.bytes.length })),
      current: { file: last.name, position: last.bytes.length },
    } as SourceSnapshot;
  }

  async open(from: { file: string; position: number }): Promise<SourceDump> {
    this.opened.push({ ...from });
    const first = this.files.findIndex((f) => f.name === from.file);
    if (first < 0) throw new Error(`fixture source has no ${from.file}`);
    const items: SourceItem[] = [];
    for (const [i, f] of this.files.slice(first).entries()) {
      const start = i === 0 ? from.position : 4;
      const parser = new BinlogEventParser({ object: f.name });
      const events = parser.push(f.bytes);
      items.push({ kind: 'rotate-artificial', buffer: Buffer.alloc(0), file: f.name, position: start });
      for (const e of events) {
        if (e.offset < start) {
          // the source re-sends the file's FORMAT_DESCRIPTION_EVENT when the dump starts past it
          if (e.typeCode === EventType.FORMAT_DESCRIPTION)
            items.push({ kind: 'format-description-resend', buffer: e.raw, file: f.name, position: start });
          continue;
        }
        items.push({ kind: 'event', buffer: e.raw, file: f.name, position: e.offset });
      }
    }
    const fail = this.dumps.length === 0 ? this.opts.failFirstDumpAfter : undefined;
    const dump = new FixtureItems(items, this.opts.nonBlocking, fail);
    this.dumps.push(dump);
    return {
      items: dump,
      checksumAlgorithm: 'CRC32',
      release: () => {
        this.#released += 1;
      },
    };
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<void> {
    this.executed.push({ sql, params });
  }
}
