import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  BinlogEventParser,
  BinlogFormatError,
  EventType,
  PayloadCompression,
  TransactionTracker,
  type BinlogEvent,
  type BinlogTransaction,
  type ChecksumAlgorithm,
  type PayloadDecompressor,
} from '../binlog/index.js';
import { createZstdDecompressStream, zstdDecompress } from '../codec/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import type { CliCommand } from './cli-command.js';

/** Read size: large enough to amortise syscalls, small enough to keep memory bounded. */
const READ_CHUNK = 256 * 1024;
/** Longest statement excerpt in the human output. */
const INFO_WIDTH = 80;

/** TRANSACTION_PAYLOAD expansion of the events of `path`; zstd via src/codec. */
function payloadDecompressor(path: string): PayloadDecompressor {
  return (payload, compressionType) => {
    if (compressionType === PayloadCompression.ZSTD) return zstdDecompress(payload);
    throw new BinlogFormatError(
      path,
      undefined,
      `TRANSACTION_PAYLOAD compression type ${compressionType} is not supported (only ZSTD)`,
    );
  };
}

/** Per-file result, for the summary line. */
interface FileSummary {
  file: string;
  events: number;
  transactions: number;
  bytes: number;
  checksum: ChecksumAlgorithm | undefined;
  openTransaction: { startOffset: number; gtid: string | undefined } | undefined;
  serverVersion: string | undefined;
  /** INCIDENT events: the source lost events at these offsets. */
  incidents: number;
}

/** Type codes this reader has a name for. */
const KNOWN_TYPE_CODES = new Set<number>(Object.values(EventType));

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** A short description of the event body for the human output and `info` in JSON. */
function describe(event: BinlogEvent): string | undefined {
  const d = event.data;
  switch (d?.kind) {
    case 'format-description':
      return `server ${d.serverVersion}, checksum ${d.checksumAlgorithm ?? 'none'}`;
    case 'query':
      return `${d.schema ? `${d.schema}: ` : ''}${d.statement.replace(/\s+/g, ' ')}`;
    case 'rotate':
      return `-> ${d.nextFile}:${d.position}`;
    case 'xid':
      return `xid=${d.xid}`;
    case 'table-map':
      return `${d.database}.${d.table} (table_id ${d.tableId})`;
    case 'rows-query':
      return d.statement.replace(/\s+/g, ' ');
    case 'mysql-gtid':
      return (
        `last_committed=${d.lastCommitted ?? '-'} sequence_number=${d.sequenceNumber ?? '-'}` +
        (d.transactionLength ? ` transaction_length=${d.transactionLength}` : '')
      );
    case 'previous-gtids':
      return d.gtids.toString() || '(empty)';
    case 'mariadb-gtid':
      return d.flagNames.join(',');
    case 'mariadb-gtid-list':
      return d.gtids.map((g) => `${g.domainId}-${g.serverId}-${g.seqNo}`).join(',') || '(empty)';
    case 'binlog-checkpoint':
      return d.file;
    case 'transaction-payload':
      return `compression ${d.compressionType}, ${d.payload.length} -> ${d.uncompressedSize} bytes`;
    case 'xa-prepare':
      return `one_phase=${d.onePhase}`;
    case 'heartbeat':
      return `${d.file}:${d.position}`;
    case 'incident':
      return `${d.incidentName} (${d.incident}): ${d.message || '(no message)'}`;
    default:
      return KNOWN_TYPE_CODES.has(event.typeCode)
        ? undefined
        : `type code ${event.typeCode}, unknown to this reader: skipped by its size`;
  }
}

function gtidOf(event: BinlogEvent): string | undefined {
  const d = event.data;
  if (d?.kind === 'mysql-gtid')
    return d.hasGtid ? (d.tag ? `${d.uuid}:${d.tag}:${d.gno}` : `${d.uuid}:${d.gno}`) : undefined;
  if (d?.kind === 'mariadb-gtid') return `${d.gtid.domainId}-${d.gtid.serverId}-${d.gtid.seqNo}`;
  return undefined;
}

const WIDTHS = { offset: 12, end: 12, type: 22, time: 20, server: 10, size: 9 } as const;

function humanLine(event: BinlogEvent, gtid: string | undefined, trx: BinlogTransaction | undefined): string {
  const h = event.header;
  const info = describe(event);
  const parts = [
    String(event.offset).padStart(WIDTHS.offset),
    String(event.endOffset).padStart(WIDTHS.end),
    event.typeName.padEnd(WIDTHS.type),
    isoSeconds(h.timestamp).padEnd(WIDTHS.time),
    String(h.serverId).padStart(WIDTHS.server),
    String(event.size).padStart(WIDTHS.size),
    gtid ?? '-',
  ];
  let line = parts.join('  ');
  if (info) line += `  ${info.length > INFO_WIDTH ? `${info.slice(0, INFO_WIDTH - 3)}...` : info}`;
  if (trx)
    line += `  [trx #${trx.number} end=${trx.end} commit ${isoMicros(trx.commitTimestamp)} events=${trx.eventCount}]`;
  return line + '\n';
}

function jsonLine(
  file: string,
  event: BinlogEvent,
  gtid: string | undefined,
  trx: BinlogTransaction | undefined,
): string {
  const h = event.header;
  const obj: Record<string, unknown> = {
    file,
    offset: event.offset,
    endOffset: event.endOffset,
    type: event.typeName,
    typeCode: event.typeCode,
    timestamp: h.timestamp,
    serverId: h.serverId,
    size: event.size,
  };
  if (gtid) obj['gtid'] = gtid;
  const d = event.data;
  if (d?.kind === 'incident')
    obj['incident'] = { number: d.incident, name: d.incidentName, message: d.message };
  const info = describe(event);
  if (info !== undefined) obj['info'] = info;
  if (trx) {
    obj['transaction'] = {
      number: trx.number,
      startOffset: trx.startOffset,
      endOffset: trx.endOffset,
      gtid: trx.gtid ?? null,
      commitTimestamp: trx.commitTimestamp,
      commitTime: isoMicros(trx.commitTimestamp),
      eventCount: trx.eventCount,
      end: trx.end,
      tables: trx.tables,
    };
  }
  return JSON.stringify(obj) + '\n';
}

function openInput(path: string): Readable {
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (!path.endsWith('.zst')) return raw;
  const zstd = createZstdDecompressStream({ object: path });
  raw.on('error', (err) => zstd.destroy(err));
  return raw.pipe(zstd);
}

/** The `code` of a Node system error (ENOENT, EACCES, ...), or undefined for any other value. */
function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function ioError(path: string, err: unknown): PitrError {
  const code = errnoCode(err);
  if (code === 'ENOENT')
    return new PitrError('USAGE', `binlog file ${path} does not exist; check the path`, { cause: err });
  if (code === 'EACCES')
    return new PitrError('USAGE', `cannot read ${path}: permission denied`, { cause: err });
  if (code === 'EISDIR')
    return new PitrError('USAGE', `${path} is a directory; pass binlog files`, { cause: err });
  return new PitrError('INTERNAL', `reading ${path} failed: ${messageOf(err)}`, { cause: err });
}

/** The warning printed (on stderr) for an INCIDENT event. */
function incidentWarning(path: string, event: BinlogEvent): string | undefined {
  const d = event.data;
  if (d?.kind !== 'incident') return undefined;
  return (
    `warning: ${path} at offset ${event.offset}: INCIDENT ${d.incidentName} ` +
    `(${d.message || 'no message'}): the source lost events here, so this binlog does not hold every ` +
    'change it made. A restore or replica that crosses this point misses them: check the source, ' +
    'and take a new backup after this point.\n'
  );
}

/**
 * Streams one file through the parser and the tracker, printing every event. Events before a
 * damaged one are printed before the error is thrown.
 */
async function inspectFile(
  path: string,
  json: boolean,
  out: Writable,
  err: Writable,
  signal: AbortSignal,
): Promise<FileSummary> {
  const name = basename(path);
  const parser = new BinlogEventParser({ object: path, decompress: payloadDecompressor(path) });
  const tracker = new TransactionTracker(path);
  let events = 0;
  let incidents = 0;
  const input = openInput(path);
  try {
    // Readable iterates as `any`; a byte stream with no encoding set yields Buffers.
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (signal.aborted) throw signal.reason;
      for (const event of parser.pushEach(chunk)) {
        events += 1;
        const trx = tracker.add(event);
        const gtid = gtidOf(event) ?? trx?.gtid ?? tracker.open?.gtid;
        await write(out, json ? jsonLine(name, event, gtid, trx) : humanLine(event, gtid, trx));
        const warning = event.typeCode === EventType.INCIDENT ? incidentWarning(path, event) : undefined;
        if (warning) {
          incidents += 1;
          await write(err, warning);
        }
      }
    }
  } catch (err) {
    input.destroy();
    if (err instanceof PitrError) throw err;
    if (errnoCode(err)) throw ioError(path, err);
    throw err;
  }
  parser.end();
  const open = tracker.open;
  return {
    file: name,
    events,
    transactions: tracker.completed,
    bytes: parser.offset,
    checksum: parser.checksumAlgorithm,
    openTransaction: open && { startOffset: open.startOffset, gtid: open.gtid },
    serverVersion: parser.formatDescription?.serverVersion,
    incidents,
  };
}

function checksumText(s: FileSummary): string {
  if (s.checksum === 'CRC32') return `CRC32 verified on all ${s.events} events`;
  if (s.checksum === 'OFF') return 'none (binlog_checksum=NONE; FORMAT_DESCRIPTION_EVENT verified)';
  return 'none (the server predates binlog checksums)';
}

export const binlogInspect: CliCommand = {
  words: ['binlog', 'inspect'],
  summary: 'List and verify the events of binlog files (plain or .zst) without a server',
  usage: 'FILE... [--json]',
  details: [
    'Reads each binlog file as a stream (files ending in .zst are decompressed on the fly), verifies',
    'every event checksum and prints one line per event: offset, end offset, type, timestamp,',
    'server_id, size, GTID and a short description; at the end of each transaction its number,',
    'how it ended and its commit time. A summary line follows each file.',
    '',
    'Every event before a damaged one is printed, then the error: exit code 5 (DATA) when a file is',
    'corrupt, truncated or encrypted at rest (not supported: read it through the server); the message',
    'names the file and offset. An INCIDENT event (the source lost events) prints a warning on stderr.',
    '',
    'Examples:',
    '  mysql-pitr binlog inspect /var/lib/mysql/mysql-bin.000042',
    '  mysql-pitr binlog inspect --json mysql-bin.000042.zst | jq -c "select(.transaction)"',
  ].join('\n'),
  options: [
    { key: 'json', flag: 'json', type: 'boolean', default: false, description: 'One JSON object per line' },
  ],
  async run(ctx) {
    const files = ctx.config.positionals;
    if (files.length === 0) throw new PitrError('USAGE', 'name at least one binlog file');
    const json = ctx.options.boolean('json');
    for (const file of files) {
      const s = await inspectFile(file, json, ctx.stdout, ctx.stderr, ctx.signal);
      if (json) {
        await write(
          ctx.stdout,
          JSON.stringify({ summary: true, ...s, checksumStatus: checksumText(s) }) + '\n',
        );
      } else {
        const incidents = s.incidents ? `, ${s.incidents} INCIDENT event(s): events were lost` : '';
        const open = s.openTransaction
          ? `, 1 open transaction from offset ${s.openTransaction.startOffset}${s.openTransaction.gtid ? ` (${s.openTransaction.gtid})` : ''}`
          : '';
        await write(
          ctx.stdout,
          `# ${s.file}: ${s.events} events, ${s.transactions} transactions${open}${incidents}, ${s.bytes} bytes, ` +
            `server ${s.serverVersion ?? 'unknown'}, checksums: ${checksumText(s)}\n`,
        );
      }
    }
  },
};
