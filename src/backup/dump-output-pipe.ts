import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createPrivateTempDir, removePrivateTempDir } from '../storage/index.js';

const execFileAsync = promisify(execFile);

/** Bytes of the one buffer every read of the pipe fills (a FIFO holds 64 KiB). */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * What a chunk handler returns: nothing to read on at once, or a promise to wait for first (its
 * rejection ends the read with that error).
 */
export type DumpChunkResult = Promise<void> | undefined;

/**
 * The dump tool's stdout as a named pipe (FIFO) read into ONE reused buffer.
 *
 * Node's `stdio: 'pipe'` is a socket pair read into a new 64 KiB buffer per read: at ~300 MB of SQL
 * that is thousands of allocations, their page faults and the garbage collection of them (on the
 * concurrent-marking threads too). Here libuv reads into one buffer (`net.Socket`'s `onread`), so
 * the reader costs a fraction of that (bench/README.md, backup-create). The FIFO lives in a private
 * temporary folder only while both ends are opened, then the folder is removed.
 *
 * Contract of `read`: each chunk is a view of the reused buffer, valid only during the call; a
 * handler keeps nothing of it without copying.
 */
export class DumpOutputPipe {
  #writeFd: number | undefined;
  #readFd: number | undefined;
  #socket: Socket | undefined;

  private constructor(readFd: number, writeFd: number) {
    this.#readFd = readFd;
    this.#writeFd = writeFd;
  }

  /**
   * Opens a FIFO (`mkfifo`, coreutils, in a 0700 folder); undefined where that fails, so that the
   * caller reads the tool's stdout as a plain pipe instead.
   */
  static async open(): Promise<DumpOutputPipe | undefined> {
    let dir: string | undefined;
    let readFd: number | undefined;
    try {
      dir = await createPrivateTempDir('dumppipe');
      const path = join(dir, 'stdout');
      await execFileAsync('mkfifo', ['-m', '600', path]);
      // the read end first, non-blocking, so that opening the write end does not wait for a reader
      readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(path, constants.O_WRONLY);
      return new DumpOutputPipe(readFd, writeFd);
    } catch {
      if (readFd !== undefined) closeSync(readFd);
      return undefined;
    } finally {
      if (dir) await removePrivateTempDir(dir).catch(() => undefined);
    }
  }

  /** The write end, for the child's stdout (`spawn`'s `stdio`); call `closeWriteEnd()` after spawning. */
  get writeFd(): number {
    if (this.#writeFd === undefined) throw new Error('the write end of the dump pipe is closed');
    return this.#writeFd;
  }

  /** Closes this process's copy of the write end: the read then ends when the child's does. */
  closeWriteEnd(): void {
    if (this.#writeFd === undefined) return;
    closeSync(this.#writeFd);
    this.#writeFd = undefined;
  }

  /**
   * Reads the pipe to its end (every writer closed it). `onChunk` gets every read as a view of the
   * one reused buffer; while the promise it returns is pending nothing more is read (the tool then
   * blocks on its full pipe). Rejects with the handler's error (thrown or its promise's).
   */
  read(onChunk: (chunk: Buffer) => DumpChunkResult): Promise<void> {
    const fd = this.#readFd;
    if (fd === undefined) return Promise.reject(new Error('the dump pipe was already read or closed'));
    this.#readFd = undefined;
    const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        if (err === undefined) resolve();
        else {
          socket.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      // `onread` is typed for connect() only; the constructor reads it too (Node >= 12.2)
      const options: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd,
        readable: true,
        writable: false,
        onread: {
          buffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            if (settled) return false;
            let wait: DumpChunkResult;
            try {
              wait = onChunk(Buffer.from(buf.buffer, buf.byteOffset, n));
            } catch (err) {
              finish(err);
              return false;
            }
            if (wait === undefined) return true;
            wait.then(
              () => {
                if (!settled) socket.resume();
              },
              (err: unknown) => finish(err),
            );
            return false; // paused until the handler's promise settles
          },
        },
      };
      const socket = new Socket(options);
      this.#socket = socket;
      socket.once('end', () => finish());
      socket.once('error', (err) => finish(err));
      socket.once('close', () => finish(new Error('the dump pipe was closed before its end')));
    });
  }

  /** Closes both ends (whatever is still open); a read in progress fails. */
  destroy(): void {
    this.closeWriteEnd();
    if (this.#readFd !== undefined) closeSync(this.#readFd);
    this.#readFd = undefined;
    this.#socket?.destroy();
  }
}
