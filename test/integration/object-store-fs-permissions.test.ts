/**
 * A file:// repository is private whatever the umask: objects 0600, folders 0700 (a dump holds
 * every row, password hashes included). Run under a permissive umask (000) and an odd one that
 * would clear the owner's own bits (0477).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';

import { FsObjectStore } from '../../src/storage/index.js';

async function modes(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  out.set('.', (await stat(root)).mode & 0o777);
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out.set(relative(root, p) + (e.isDirectory() ? '/' : ''), (await stat(p)).mode & 0o777);
  }
  return out;
}

describe('FsObjectStore permissions', () => {
  const base = mkdtemp(join(tmpdir(), 'pitr-fs-perm-'));
  const saved = process.umask();
  after(async () => {
    process.umask(saved);
    await rm(await base, { recursive: true, force: true });
  });

  for (const umask of [0o000, 0o477]) {
    it(`objects are 0600 and folders 0700 under umask ${umask.toString(8).padStart(3, '0')}`, async () => {
      process.umask(umask);
      const root = join(await base, `u${umask.toString(8)}`, 'repo');
      const store = new FsObjectStore({ root });
      await store.put('backups/20261125T193000123Z-0a0b0c/dump.sql.zst', Buffer.from('secret rows'));
      await store.put(
        'binlogs/000001/mysql-bin.000001/00000000000000000000.zst',
        Readable.from([Buffer.from('x')]),
      );
      await store.put('timelines/000001.json', Buffer.from('{}'), { ifAbsent: true });
      await store.put('timelines/000001.json', Buffer.from('{"a":1}')); // replace keeps it private
      process.umask(saved);
      const got = await modes(root);
      const files = [...got].filter(([k]) => !k.endsWith('/') && k !== '.');
      const dirs = [...got].filter(([k]) => k.endsWith('/') || k === '.');
      assert.equal(files.length, 3);
      assert.ok(dirs.length >= 6);
      for (const [k, m] of files) assert.equal(m, 0o600, `${k} is ${m.toString(8)}`);
      for (const [k, m] of dirs) assert.equal(m, 0o700, `${k} is ${m.toString(8)}`);
      assert.equal((await store.get('timelines/000001.json')).toString(), '{"a":1}');
    });
  }
});
