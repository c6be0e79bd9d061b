#!/usr/bin/env node
// Entry point of the installed CLI: runs the compiled build (`npm run build` writes dist/).
import { existsSync } from 'node:fs';
const built = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('mysql-pitr: dist/ is missing; run `npm run build` in the mysql-pitr checkout first.\n');
  process.exit(1);
}
process.argv[1] = built.pathname;
await import(built.href);
