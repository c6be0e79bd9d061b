// Imported first by main.ts (and so by bin/mysql-pitr.js, the container entry and npx), before
// any other module loads: V8 heap settings must be in place before loading the modules grows the
// young generation. Side effect only; nothing to import from here.
import { setFlagsFromString } from 'node:v8';

/**
 * Freezes V8's young generation at its initial size for `archive`, which runs for days: loading
 * the modules would otherwise grow it to 8 MiB first, and V8's default lets it reach 32 MiB during
 * a catch-up, keeping spent socket reads alive between collections (+20-25 MiB of peak RSS on a
 * 1 GiB transaction; bench/README.md). The archiver then sizes it for the events it sees
 * (`YoungGenerationSizer` in src/archiver/young-generation-sizer.ts). V8 reads the growth factor whenever
 * it considers growing, so setting it here works; `--max-semi-space-size` would have to be on the
 * node command line.
 *
 * @param argv the command line words after `node script` (`process.argv.slice(2)`)
 * @returns true when a flag was set
 */
export function tuneHeapFor(argv: readonly string[]): boolean {
  if (argv[0] !== 'archive') return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}

tuneHeapFor(process.argv.slice(2));
