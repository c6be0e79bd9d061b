// Copies a replication stream into binlog files in a directory, as `mariadb-binlog
// --read-from-remote-server --raw` and `mysqlbinlog --raw` do: one local file per source binlog,
// byte-identical to the source's (see the note on the in-use flag below).
import { basename, join } from 'node:path';
import { CorruptDataError } from '../errors/index.js';
import { BinlogFileWriter } from './binlog-file-writer.js';

/**
 * The part of a stream item copyBinlogStream needs (src/mysql's BinlogStreamEvent fits):
 * 'rotate-artificial' opens `file` at `position`, 'event' is appended, the rest is skipped.
 */
export interface CopyableStreamItem {
  kind: 'rotate-artificial' | 'format-description-resend' | 'heartbeat' | 'event';
  buffer: Buffer;
  file: string;
  position: number;
}

/** Options of copyBinlogStream. */
export interface CopyBinlogStreamOptions {
  /** fsync each file when it is complete, and the last one at the end (default false). */
  sync?: boolean;
  /** Called when a file is finished (the stream moved to the next one or ended). */
  onFileDone?(file: CopiedBinlogFile): void;
  /** Write buffer per file (BinlogFileWriter bufferBytes). */
  bufferBytes?: number;
}

/** One file copyBinlogStream wrote. */
export interface CopiedBinlogFile {
  /** The binlog file name, e.g. 'mysql-bin.000042'. */
  file: string;
  /** The local path. */
  path: string;
  /** Where this copy started writing (4, or the resume offset). */
  from: number;
  /** The file size when the copy stopped. */
  to: number;
}

/**
 * Appends every in-file event of `stream` to `dir/<binlog file>`, starting a new file at each
 * artificial ROTATE. A dump that starts past 4 resumes the existing local file at that offset
 * (anything beyond it is cut off); one that starts at 4 creates the file and refuses to overwrite
 * one already there. Returns when the stream ends (non-blocking dumps end at the source's last
 * event); rethrows the stream's error after closing the file being written.
 *
 * The active (last) binlog on the source has LOG_EVENT_BINLOG_IN_USE_F set in its
 * FORMAT_DESCRIPTION_EVENT; the source clears that bit in what it sends, so the copy of the active
 * file differs from the source's by that one bit (file offset 21) until the source closes it.
 *
 * @throws whatever the stream throws; CorruptDataError for an unsafe file name or an event before its
 *   file's ROTATE; PitrError('INTERNAL') / CorruptDataError from the writer (existing file, a position
 *   that does not fit).
 */
export async function copyBinlogStream(
  stream: AsyncIterable<CopyableStreamItem>,
  dir: string,
  options: CopyBinlogStreamOptions = {},
): Promise<CopiedBinlogFile[]> {
  const done: CopiedBinlogFile[] = [];
  let writer: BinlogFileWriter | undefined;
  let current: CopiedBinlogFile | undefined;

  const finish = async (): Promise<void> => {
    if (!writer || !current) return;
    current.to = writer.position;
    await writer.close({ sync: options.sync ?? false });
    done.push(current);
    options.onFileDone?.(current);
    writer = undefined;
    current = undefined;
  };

  try {
    for await (const item of stream) {
      if (item.kind === 'rotate-artificial') {
        if (current?.file === item.file) continue; // a repeat announcement of the same file
        await finish();
        if (basename(item.file) !== item.file || item.file === '' || item.file.startsWith('.')) {
          throw new CorruptDataError(
            'the binlog stream',
            undefined,
            `the source announced an unsafe binlog file name ${JSON.stringify(item.file)}`,
          );
        }
        const path = join(dir, item.file);
        const resumeAt = item.position > 4 ? item.position : undefined;
        writer = await BinlogFileWriter.open(path, { resumeAt, bufferBytes: options.bufferBytes });
        current = { file: item.file, path, from: writer.position, to: writer.position };
        continue;
      }
      if (item.kind !== 'event') continue;
      if (!writer || !current) {
        throw new CorruptDataError(
          item.file,
          item.position,
          'the stream sent this event before announcing the file (no artificial ROTATE)',
        );
      }
      await writer.append(item.buffer);
    }
    await finish();
    return done;
  } catch (err) {
    if (writer) await writer.close().catch(() => undefined);
    throw err;
  }
}
