import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { isPitrError } from '../../src/errors/index.js';
import { FsObjectStore, type ObjectInfo } from '../../src/storage/index.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;

async function keys(store: FsObjectStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix) as AsyncIterable<ObjectInfo>) out.push(info.key);
  return out;
}

/** Every file name under `dir`, recursively (temporary files included). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

function expectCode(code: string, ...patterns: RegExp[]): (err: unknown) => true {
  return (err) => {
    assert.ok(isPitrError(err), `expected a PitrError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  };
}

/** Mounts a tmpfs of `size` at a new directory; undefined when this process may not mount. */
async function mountTmpfs(base: string, name: string, options: string): Promise<string | undefined> {
  const dir = join(base, name);
  await mkdir(dir);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    return dir;
  } catch {
    return undefined;
  }
}

describe('FsObjectStore: filesystem faults and housekeeping', () => {
  let base: string;
  const mounts: string[] = [];

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'pitr-fs-faults-'));
  });
  after(async () => {
    for (const dir of mounts) await run('umount', [dir]).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });

  it('a full filesystem: STORAGE_NO_SPACE saying to free space, nothing partial left; space comes back', async (t) => {
    const dir = await mountTmpfs(base, 'tiny', 'size=1m');
    if (dir === undefined) {
      t.skip('cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)');
      return;
    }
    mounts.push(dir);
    const store = new FsObjectStore({ root: join(dir, 'repo') });
    await store.put('small', Buffer.from('fits'));
    const noSpace = expectCode(
      'STORAGE_NO_SPACE',
      /no space left on the filesystem holding/,
      /ENOSPC/,
      /Free space on that filesystem or move the repository/,
    );
    await assert.rejects(store.put('big-buffer', randomBytes(2 * MIB)), noSpace);
    await assert.rejects(
      store.put('big/stream', Readable.from([randomBytes(MIB), randomBytes(MIB)])),
      noSpace,
    );
    // The temporary files were removed, so the space is free again and nothing half-written shows.
    assert.deepEqual(await filesUnder(join(dir, 'repo')), ['small']);
    assert.deepEqual(await keys(store), ['small']);
    await store.put('after', randomBytes(512 * 1024));
    assert.equal((await store.head('after')).size, 512 * 1024);
  });

  it('a read-only filesystem: STORAGE_ACCESS_DENIED on writes, reads still work', async (t) => {
    const dir = await mountTmpfs(base, 'ro', 'size=1m');
    if (dir === undefined) {
      t.skip('cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)');
      return;
    }
    mounts.push(dir);
    const store = new FsObjectStore({ root: join(dir, 'repo') });
    await store.put('kept', Buffer.from('x'));
    await run('mount', ['-o', 'remount,ro', dir]);
    const denied = expectCode(
      'STORAGE_ACCESS_DENIED',
      /read-only filesystem on .* during put new/,
      /read and write access/,
    );
    await assert.rejects(store.put('new', Buffer.from('y')), denied);
    await assert.rejects(store.delete(['kept']), expectCode('STORAGE_ACCESS_DENIED', /read-only filesystem/));
    assert.equal((await store.get('kept')).toString(), 'x');
    await assert.rejects(store.get('missing'), expectCode('OBJECT_NOT_FOUND'));
  });

  it('permission denied (as an unprivileged user): STORAGE_ACCESS_DENIED naming the path and uid', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to run the check as another user');
      return;
    }
    const root = join(base, 'locked');
    await mkdir(join(root, 'objects'), { recursive: true });
    await writeFile(join(root, 'objects', 'secret'), 'x');
    await chmod(join(root, 'objects', 'secret'), 0o600);
    // Run the store in a child process as "nobody", which may read /work but not write `root`.
    const script = `
      import { FsObjectStore } from ${JSON.stringify(new URL('../../src/storage/index.ts', import.meta.url).href)};
      const store = new FsObjectStore({ root: ${JSON.stringify(root)} });
      const out = {};
      for (const [name, call] of [['put', () => store.put('objects/new', Buffer.from('x'))], ['get', () => store.get('objects/secret')]]) {
        try { await call(); out[name] = 'ok'; } catch (err) { out[name] = { code: err.code, message: err.message }; }
      }
      console.log(JSON.stringify(out));
    `;
    let stdout: string;
    try {
      ({ stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: process.cwd(),
        env: { ...process.env, HOME: '/tmp', TSX_TSCONFIG_PATH: join(process.cwd(), 'tsconfig.json') },
      }));
    } catch (err) {
      t.skip(`cannot run node as uid 65534 here: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<
      string,
      { code: string; message: string }
    >;
    assert.equal(out.put?.code, 'STORAGE_ACCESS_DENIED');
    assert.match(out.put!.message, /permission denied on .*objects.* during put objects\/new/);
    assert.match(out.put!.message, /uid 65534/);
    assert.equal(out.get?.code, 'STORAGE_ACCESS_DENIED');
  });

  it('a key that is also a "directory" of another key fails with INTERNAL, explaining why', async () => {
    const store = new FsObjectStore({ root: join(base, 'conflict') });
    await store.put('a/b', Buffer.from('x'));
    const conflict = expectCode('INTERNAL', /cannot be both an object and a prefix of other keys/);
    await assert.rejects(store.put('a', Buffer.from('y')), conflict);
    await store.put('c', Buffer.from('y'));
    await assert.rejects(store.put('c/d', Buffer.from('z')), conflict);
    assert.deepEqual(await keys(store), ['a/b', 'c']);
  });

  it('delete prunes emptied directories; cleanTempFiles removes only stale temporary files', async () => {
    const root = join(base, 'housekeeping');
    const store = new FsObjectStore({ root });
    await store.put('x/y/z', Buffer.from('1'));
    await store.put('x/keep', Buffer.from('2'));
    await store.delete(['x/y/z']);
    assert.deepEqual(await readdir(join(root, 'x')), ['keep']);

    const stale = join(root, 'x', '.pitr-tmp-keep-aaaaaaaaaaaa');
    const fresh = join(root, 'x', '.pitr-tmp-keep-bbbbbbbbbbbb');
    await writeFile(stale, 'left by a crash');
    await writeFile(fresh, 'a put in progress');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(stale, old, old);
    assert.deepEqual(await keys(store), ['x/keep'], 'temporary files are never listed');
    assert.equal(await store.cleanTempFiles({ olderThanMs: 600_000 }), 1);
    assert.deepEqual((await readdir(join(root, 'x'))).sort(), ['.pitr-tmp-keep-bbbbbbbbbbbb', 'keep']);
  });

  it('a relative root is refused with CONFIG_INVALID', () => {
    assert.throws(
      () => new FsObjectStore({ root: 'relative/repo' }),
      expectCode('CONFIG_INVALID', /not absolute/),
    );
  });
});
