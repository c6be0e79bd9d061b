// The per-file index: one small object per closed binlog file holding the headers of the file's
// segment objects, so that readers do not fetch one header per segment (docs/archive-layout.md,
// "The file index").
import { createHash } from 'node:crypto';

import { CorruptDataError } from '../errors/index.js';
import { fileSegmentsPrefix, isBinlogFileName } from './binlog-keys.js';
import { checkFormatVersion } from './format-version.js';
import { SEGMENT_FORMAT, type DomainGtidRange, type SegmentHeader } from './segment-header.js';

/** Version of the index layout. */
export const BINLOG_FILE_INDEX_FORMAT = 1;
/** The index's name inside its file's prefix: `binlogs/<timeline>/<file>/index.json`. */
export const BINLOG_FILE_INDEX_NAME = 'index.json';
/** What the envelope's `kind` says (a guard against reading some other JSON object as an index). */
const KIND = 'mysql-pitr binlog file index';

/** One object of the file as the index knows it. */
export interface FileIndexEntry {
  /** The object's name in the file's prefix (`00000000000000000000.zst` or `<start>-<end>.zst`). */
  name: string;
  /** Its stored size, as listing reports it: a reader uses the entry only when both match. */
  size: number;
  /** Its header, exactly as stored in the object. */
  header: SegmentHeader;
}

/** The index of one binlog file of one timeline. */
export interface BinlogFileIndex {
  timeline: string;
  file: string;
  /** When it was written (ISO 8601), for people. */
  writtenAt: string;
  /** The file's objects when it was written, in start order. */
  objects: FileIndexEntry[];
}

/** `binlogs/<timeline>/<file>/index.json`. */
export function binlogFileIndexKey(timeline: string, file: string): string {
  return `${fileSegmentsPrefix(timeline, file)}${BINLOG_FILE_INDEX_NAME}`;
}

/** Splits an index key; undefined for any other key. */
export function parseBinlogFileIndexKey(key: string): { timeline: string; file: string } | undefined {
  const m = /^binlogs\/(\d{6})\/([^/]+)\/index\.json$/.exec(key);
  if (!m || !isBinlogFileName(m[2]!)) return undefined;
  return { timeline: m[1]!, file: m[2]! };
}

/**
 * The stored form: a JSON envelope `{ format, kind, sha256, body }` whose `body` is the index as a
 * JSON string and `sha256` the SHA-256 of that string's UTF-8 bytes. The hash is over the exact
 * bytes written, so a flipped byte anywhere in the body is caught without canonical JSON.
 */
export function encodeBinlogFileIndex(index: BinlogFileIndex): Buffer {
  const body = JSON.stringify({
    timeline: index.timeline,
    file: index.file,
    writtenAt: index.writtenAt,
    objects: index.objects.map((o) => {
      // timeline, file and format are the index's own: not repeated per object
      const { format: _f, timeline: _t, file: _n, ...rest } = o.header;
      return { name: o.name, size: o.size, ...rest };
    }),
  });
  const sha256 = createHash('sha256').update(body, 'utf8').digest('hex');
  return Buffer.from(JSON.stringify({ format: BINLOG_FILE_INDEX_FORMAT, kind: KIND, sha256, body }), 'utf8');
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string | null => v === null || (isStr(v) && !Number.isNaN(Date.parse(v)));

/**
 * Decodes and checks an index read from `key`: its format, its SHA-256, and every entry's shape.
 *
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote it
 * @throws CorruptDataError (CORRUPT_DATA) for anything else that is wrong: not our JSON, a SHA-256
 *   that does not match the body, an entry that is not a valid header, or a timeline/file that is
 *   not the key's
 */
export function decodeBinlogFileIndex(data: Buffer, key: string): BinlogFileIndex {
  const bad = (what: string, cause?: unknown): CorruptDataError =>
    new CorruptDataError(
      key,
      undefined,
      `the binlog file index ${what}. Readers ignore it and read the segment headers instead; ` +
        `move it aside (nothing is lost: it only repeats the headers) and run \`mysql-pitr binlog compact\` to write it again`,
      cause === undefined ? undefined : { cause },
    );
  let envelope: unknown;
  try {
    envelope = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw bad('is not valid JSON', err);
  }
  if (typeof envelope !== 'object' || envelope === null) throw bad('is not a JSON object');
  const e = envelope as Record<string, unknown>;
  checkFormatVersion(e.format, BINLOG_FILE_INDEX_FORMAT, key, 'binlog file index');
  if (e.kind !== KIND || !isStr(e.body) || !isStr(e.sha256)) throw bad('lacks its kind, body or SHA-256');
  const sha = createHash('sha256').update(e.body, 'utf8').digest('hex');
  if (sha !== e.sha256) throw bad(`has SHA-256 ${sha}, not the recorded ${e.sha256}: it is damaged`);
  let body: unknown;
  try {
    body = JSON.parse(e.body);
  } catch (err) {
    throw bad('body is not valid JSON', err);
  }
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || !isStr(b.timeline) || !isStr(b.file) || !Array.isArray(b.objects)) {
    throw bad('lacks timeline, file or objects');
  }
  const expected = parseBinlogFileIndexKey(key);
  if (expected && (expected.timeline !== b.timeline || expected.file !== b.file)) {
    throw bad(`says ${b.timeline}/${b.file}, not what its key says`);
  }
  const objects: FileIndexEntry[] = [];
  for (const raw of b.objects as unknown[]) {
    const o = raw as Record<string, unknown> | null;
    if (!o || typeof o !== 'object') throw bad('has an entry that is not an object');
    if (!isStr(o.name) || !isInt(o.size)) throw bad('has an entry without name or size');
    if (!isInt(o.start) || !isInt(o.end) || o.end <= o.start) throw bad(`entry ${o.name} has no valid range`);
    if (!isStr(o.sha256) || !/^[0-9a-f]{64}$/.test(o.sha256)) throw bad(`entry ${o.name} lacks a SHA-256`);
    if (!isTime(o.firstCommit) || !isTime(o.lastCommit))
      throw bad(`entry ${o.name} has an invalid commit time`);
    if (!isInt(o.transactions) || !isInt(o.events)) throw bad(`entry ${o.name} lacks its counts`);
    if (typeof o.splitTransaction !== 'boolean' || typeof o.closesFile !== 'boolean') {
      throw bad(`entry ${o.name} lacks its flags`);
    }
    if (typeof o.gtids !== 'object' || o.gtids === null) throw bad(`entry ${o.name} lacks gtids`);
    for (const r of Object.values(o.gtids as Record<string, unknown>)) {
      const range = r as Record<string, unknown> | null;
      if (!range || !isStr(range.first) || !isStr(range.last))
        throw bad(`entry ${o.name} has a bad GTID range`);
    }
    if (o.gtidSet !== undefined && !isStr(o.gtidSet)) throw bad(`entry ${o.name} has a bad gtidSet`);
    if (o.nextFile !== undefined && !isStr(o.nextFile)) throw bad(`entry ${o.name} has a bad nextFile`);
    objects.push({
      name: o.name,
      size: o.size,
      header: {
        format: SEGMENT_FORMAT,
        timeline: b.timeline,
        file: b.file,
        start: o.start,
        end: o.end,
        sha256: o.sha256,
        firstCommit: o.firstCommit,
        lastCommit: o.lastCommit,
        gtids: o.gtids as Record<string, DomainGtidRange>,
        gtidSet: (o.gtidSet as string | undefined) ?? '',
        transactions: o.transactions,
        events: o.events,
        splitTransaction: o.splitTransaction,
        closesFile: o.closesFile,
        ...(isStr(o.nextFile) ? { nextFile: o.nextFile } : {}),
        ...(isInt(o.leaseEpoch) ? { leaseEpoch: o.leaseEpoch } : {}),
      },
    });
  }
  return {
    timeline: b.timeline,
    file: b.file,
    writtenAt: isStr(b.writtenAt) ? b.writtenAt : '',
    objects,
  };
}
