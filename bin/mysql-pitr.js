#!/usr/bin/env node
// Entry point of the installed CLI: runs the compiled build (`npm run build` writes dist/), or,
// in a checkout without a build, the TypeScript sources through tsx (a dev dependency).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// `archive` runs for days: freeze V8's young generation at its initial size while the modules
// load (loading them is what grows it first); the archiver then sizes it for the events it sees
// (YoungGenerationSizer in src/archiver/binlog-archiver.ts) instead of V8's default 32 MiB. V8 reads
// the growth factor whenever it considers growing, so setting it here works; --max-semi-space-size
// would have to be on the node command line.
if (process.argv[2] === 'archive') setFlagsFromString('--semi-space-growth-factor=1');

const built = new URL('../dist/src/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(built)) {
  process.argv[1] = fileURLToPath(built);
  await import(built.href);
} else {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    process.stderr.write(
      'mysql-pitr: dist/ is missing and tsx is not installed; run `npm ci && npm run build` in the mysql-pitr checkout.\n',
    );
    process.exit(1);
  }
  process.argv[1] = fileURLToPath(source);
  await import(source.href);
}
