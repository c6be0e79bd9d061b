/**
 * Every option a command reads is one it declares, read by its declared type: the commands read
 * their options through `ctx.options` (OptionValues checked against their OptionSpecs at run time);
 * this test checks the same statically over the source, so a typo'd key or a reader of the wrong
 * type fails here even on a code path no other test runs. And no command goes back to casts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { COMMANDS } from '../../src/cli/commands.js';
import { GLOBAL_OPTIONS } from '../../src/cli/main.js';
import { CONFIG_FILE_OPTION, type OptionSpec, type OptionType } from '../../src/config/index.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli');

/** The OptionSpec types each OptionValues reader accepts (as src/config/option-values.ts). */
const READER_TYPES: Record<string, readonly OptionType[]> = {
  string: ['string'],
  optionalString: ['string'],
  choice: ['string'],
  number: ['integer', 'number', 'duration'],
  optionalNumber: ['integer', 'number', 'duration'],
  boolean: ['boolean'],
  list: ['list'],
  has: ['string', 'integer', 'number', 'duration', 'boolean', 'list'],
};

/** `o.string('repo')`, `options.boolean('json')`, `ctx.options.list('file')`: reads with a literal key. */
const READ = /\b(?:o|options|ctx\.options)\.(\w+)\(\s*'(\w+)'/g;

interface Read {
  file: string;
  reader: string;
  key: string;
}

function readsIn(file: string): Read[] {
  const text = readFileSync(join(CLI, file), 'utf8');
  return [...text.matchAll(READ)]
    .filter((m) => m[1]! in READER_TYPES)
    .map((m) => ({ file, reader: m[1]!, key: m[2]! }));
}

/** Command file -> its command's specs, from `import('./FILE.js')).EXPORT` in commands.ts. */
async function commandFiles(): Promise<Map<string, OptionSpec[]>> {
  const text = readFileSync(join(CLI, 'commands.ts'), 'utf8');
  const byFile = new Map<string, OptionSpec[]>();
  const files = [...text.matchAll(/import\('\.\/([\w-]+)\.js'\)\)\.\w+/g)].map((m) => `${m[1]}.ts`);
  assert.equal(files.length, COMMANDS.length, 'commands.ts: one lazy import per command');
  for (const [i, c] of COMMANDS.entries()) {
    const command = await c.load();
    byFile.set(files[i]!, [CONFIG_FILE_OPTION, ...GLOBAL_OPTIONS, ...command.options]);
  }
  return byFile;
}

function problems(reads: Read[], specs: readonly OptionSpec[], scope: string): string[] {
  const out: string[] = [];
  for (const r of reads) {
    const declared = specs.filter((s) => s.key === r.key);
    if (declared.length === 0)
      out.push(`${r.file}: ${r.reader}('${r.key}'): ${r.key} is not declared by ${scope}`);
    else if (!declared.some((s) => READER_TYPES[r.reader]!.includes(s.type)))
      out.push(
        `${r.file}: ${r.reader}('${r.key}'): ${scope} declares it as ${declared.map((s) => s.type).join('/')}`,
      );
  }
  return out;
}

describe('options read by the CLI', () => {
  it('each command file reads only options its command declares, by their declared types', async () => {
    const byFile = await commandFiles();
    const found: string[] = [];
    let count = 0;
    for (const [file, specs] of byFile) {
      const reads = readsIn(file);
      count += reads.length;
      found.push(...problems(reads, specs, `command ${file}`));
    }
    assert.ok(count > 80, `only ${count} reads found: is the scan broken?`);
    assert.deepEqual(found, []);
  });

  it('shared helpers read only options some command declares, by their declared types', async () => {
    const byFile = await commandFiles();
    const all = [...byFile.values()].flat();
    const helpers = readdirSync(CLI).filter((f) => f.endsWith('.ts') && !byFile.has(f));
    const reads = helpers.flatMap(readsIn);
    assert.ok(reads.length > 10, `only ${reads.length} helper reads found: is the scan broken?`);
    assert.deepEqual(problems(reads, all, 'any command'), []);
  });

  it('no command reads ctx.config.values or casts an option', () => {
    const cast = /\bas (?:string|number|boolean|readonly string\[\]|LogLevel)\b/g;
    const found: string[] = [];
    for (const file of readdirSync(CLI).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(CLI, file), 'utf8');
      for (const m of text.matchAll(cast))
        found.push(`${file}: ${text.slice(m.index!, m.index! + 40).split('\n')[0]}`);
      for (const m of text.matchAll(/config\.values\b|\bvalues\[|\bv\[['`]/g)) {
        // main.ts hands the resolved values to OptionValues, the one reader
        if (
          file === 'main.ts' &&
          /new OptionValues\(config\.values/.test(text.slice(m.index! - 20, m.index! + 40))
        )
          continue;
        found.push(`${file}: ${text.slice(m.index!, m.index! + 40).split('\n')[0]}`);
      }
    }
    assert.deepEqual(found, []);
  });
});
