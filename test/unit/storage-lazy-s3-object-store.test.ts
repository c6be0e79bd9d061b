import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const STORAGE = pathToFileURL(join(ROOT, 'src/storage/index.ts')).href;

/**
 * Counts AWS SDK modules loaded in this process. The SDK's packages are CommonJS (dist-cjs), so
 * even when reached through `import` they land in the CommonJS module cache.
 */
const COUNT_SDK = `
import { createRequire } from 'node:module';
const sdkModules = () => Object.keys(createRequire(process.cwd() + '/x.js').cache)
  .filter((k) => k.includes('/@aws-sdk/') || k.includes('/@smithy/')).length;
`;

/** Runs ESM `code` (after COUNT_SDK) in a fresh `node --import tsx`; returns its stdout lines. */
async function inChild(code: string): Promise<string[]> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', COUNT_SDK + code],
    { cwd: ROOT, timeout: 60_000 },
  );
  return stdout.trim().split('\n');
}

describe('LazyS3ObjectStore: the AWS SDK is loaded only for s3:// repositories', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-lazy-s3-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a file:// repository opened through openObjectStore works without loading any AWS SDK module', async () => {
    const lines = await inChild(`
      const { openObjectStore } = await import(${JSON.stringify(STORAGE)});
      const store = openObjectStore(${JSON.stringify(pathToFileURL(dir).href)});
      await store.put('binlogs/a.zst', Buffer.from('hello'));
      console.log((await store.get('binlogs/a.zst')).toString());
      for await (const o of store.list('binlogs/')) console.log(o.key, o.size);
      console.log(sdkModules());
    `);
    assert.deepEqual(lines, ['hello', 'binlogs/a.zst 5', '0']);
  });

  it('an s3:// store loads the SDK on its first operation, not before, and maps errors as S3ObjectStore', async () => {
    // Port 9 (discard) on loopback: nothing listens, so the first request fails fast.
    const lines = await inChild(`
      const { openObjectStore } = await import(${JSON.stringify(STORAGE)});
      const store = openObjectStore('s3://lazy-bucket/pitr/', {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
        s3: { maxAttempts: 1, connectionTimeoutMs: 2000 },
      });
      console.log(store.describe(), store.supportsConditionalPut, sdkModules());
      const err = await store.exists('x').then(() => undefined, (e) => e);
      console.log(err?.code, sdkModules() > 0);
      store.destroy();
    `);
    assert.equal(lines[0], 's3://lazy-bucket/pitr true 0');
    assert.equal(lines[1], 'STORAGE_UNAVAILABLE true');
  });

  it('a put whose stream fails while the SDK is still loading rejects with the stream error, not an uncaught one', async () => {
    const lines = await inChild(`
      const { Readable } = await import('node:stream');
      const { openObjectStore } = await import(${JSON.stringify(STORAGE)});
      process.on('uncaughtException', (e) => { console.log('UNCAUGHT', e.message); process.exit(3); });
      const store = openObjectStore('s3://lazy-bucket/pitr', {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
        s3: { maxAttempts: 1 },
      });
      const body = new Readable({ read() {} });
      process.nextTick(() => body.destroy(new Error('source disk read failed')));
      const err = await store.put('binlogs/x.zst', body).then(() => undefined, (e) => e);
      console.log(err?.message, sdkModules() > 0);
      store.destroy();
    `);
    assert.deepEqual(lines, ['source disk read failed true']);
  });

  it('the CLI on a file:// repository (status) loads no AWS SDK module', async () => {
    const hook =
      'data:text/javascript,' +
      encodeURIComponent(
        COUNT_SDK + "process.on('exit', () => process.stderr.write('SDK_MODULES=' + sdkModules() + '\\n'));",
      );
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', hook, 'src/cli/main.ts', 'status', '--repo', pathToFileURL(dir).href],
      { cwd: ROOT, timeout: 60_000 },
    );
    assert.match(stdout, /archiver: not running/);
    assert.match(stderr, /^SDK_MODULES=0$/m);
  });
});
