#!/usr/bin/env node
// Entry point of the installed CLI: runs the compiled build (`npm run build` writes dist/), or,
// in a checkout without a build, the TypeScript sources through tsx (a dev dependency).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// V8 heap tuning for `archive` happens in src/cli/heap-tuning.ts, the first module main.js loads, so
// `node dist/src/cli/main.js archive` gets it too.

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
