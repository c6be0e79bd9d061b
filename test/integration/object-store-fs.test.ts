import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FsObjectStore } from '../../src/storage/index.js';
import { objectStoreContract } from '../support/object-store-contract.js';

/** Total size of the regular files under `dir` (objects and temporary files). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

objectStoreContract('FsObjectStore', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pitr-fs-contract-'));
  let n = 0;
  return {
    newStore: async () => new FsObjectStore({ root: join(base, `store-${n++}`, 'repo') }),
    bytesReceived: () => treeBytes(base),
    // Each chunk is written before the next is read.
    maxReadAheadBytes: 4 * 1024 * 1024,
    close: () => rm(base, { recursive: true, force: true, maxRetries: 3 }),
  };
});
