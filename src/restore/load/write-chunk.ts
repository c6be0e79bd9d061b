import type { Writable } from 'node:stream';

/**
 * Writes `chunk` and waits for the stream to drain when its buffer is full. Never throws: a child
 * process that exits early (the `mariadb` client stopping at an SQL error) closes its stdin with
 * EPIPE, and the caller learns what happened from the process's exit status and stderr instead.
 *
 * @returns false when the stream is closed or failed (stop writing)
 */
export async function writeChunk(w: Writable, chunk: Buffer): Promise<boolean> {
  if (w.destroyed || w.writableEnded) return false;
  if (!w.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        w.off('drain', done);
        w.off('close', done);
        w.off('error', done);
        resolve();
      };
      w.on('drain', done);
      w.on('close', done);
      w.on('error', done);
    });
  }
  return !w.destroyed;
}
