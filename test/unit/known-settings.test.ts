/**
 * Config typos are errors: an unknown key in a --config file or an unknown MYSQL_PITR_* variable
 * (exit 2, naming the nearest known one). The known lists (src/cli/known-settings.ts) must cover
 * every option of every command and every MYSQL_PITR_* name the code reads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/commands.js';
import { GLOBAL_OPTIONS } from '../../src/cli/main.js';
import { KNOWN_CONFIG_KEYS, KNOWN_ENV_NAMES } from '../../src/cli/known-settings.js';
import { exitCodeFor } from '../../src/errors/index.js';
import {
  CONFIG_FILE_OPTION,
  loadConfig,
  nearestName,
  specEnvNames,
  type OptionSpec,
} from '../../src/config/index.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name) && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the known settings', () => {
  it('are exactly the option keys of every command, and cover their MYSQL_PITR_* variables', async () => {
    const specs: OptionSpec[] = [CONFIG_FILE_OPTION, ...GLOBAL_OPTIONS];
    for (const c of COMMANDS) specs.push(...(await c.load()).options);
    assert.deepEqual([...new Set(specs.map((s) => s.key))].sort(), [...KNOWN_CONFIG_KEYS].sort());
    const missing = specEnvNames(specs).filter((n) => n.startsWith('MYSQL_PITR_') && !KNOWN_ENV_NAMES.has(n));
    assert.deepEqual([...new Set(missing)], [], 'add these to src/cli/known-settings.ts');
  });

  it('cover every MYSQL_PITR_* name written in src, lambdas, cdk and bin', () => {
    const found = new Set<string>();
    for (const f of [
      ...sourceFiles('src'),
      ...sourceFiles('lambdas'),
      ...sourceFiles('cdk'),
      ...sourceFiles('bin'),
    ]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bMYSQL_PITR_[A-Z0-9_]*[A-Z0-9]\b/g)) found.add(m[0]);
    }
    // placeholders in documentation comments, not variables
    for (const doc of ['MYSQL_PITR_ROLE_PASSWORD', 'MYSQL_PITR_NAME']) found.delete(doc);
    assert.ok(found.size > 20, `only ${found.size} names found: is the scan broken?`);
    assert.deepEqual([...found].filter((n) => !KNOWN_ENV_NAMES.has(n)).sort(), []);
  });
});

describe('config typos', () => {
  const specs: OptionSpec[] = [
    { key: 'keepDays', flag: 'keep-days', type: 'number', description: 'Keep days' },
    { key: 'keepBackups', flag: 'keep-backups', type: 'integer', description: 'Keep backups' },
  ];
  const file = (data: unknown): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'pitr-cfg-')), 'c.json');
    writeFileSync(path, JSON.stringify(data));
    return path;
  };
  const configError = (pattern: RegExp) => (e: Error & { code?: string }) =>
    e.code === 'CONFIG_INVALID' && exitCodeFor(e.code) === 2 && pattern.test(e.message);

  it('nearestName finds the close one and nothing for a stranger', () => {
    assert.equal(nearestName('keepDay', KNOWN_CONFIG_KEYS), 'keepDays');
    assert.equal(nearestName('keepbackups', KNOWN_CONFIG_KEYS), 'keepBackups');
    assert.equal(nearestName('MYSQL_PITR_SEGMENT_SIZ', KNOWN_ENV_NAMES), 'MYSQL_PITR_SEGMENT_SIZE');
    assert.equal(nearestName('colour', KNOWN_CONFIG_KEYS), undefined);
  });

  it('an unknown key in a --config file is an error naming it and the nearest known key', () => {
    const path = file({ keepBackups: 1, keepDay: 30 });
    assert.throws(
      () =>
        loadConfig(
          specs,
          ['--config', path],
          {},
          { knownKeys: KNOWN_CONFIG_KEYS, knownEnv: KNOWN_ENV_NAMES },
        ),
      configError(/unknown key "keepDay" \(did you mean "keepDays"\?\)/),
    );
    // without the union, the command's own keys are the known ones
    assert.throws(() => loadConfig(specs, ['--config', path], {}), configError(/"keepDay"/));
  });

  it("another command's key in the same file is accepted (one file serves every command)", () => {
    const path = file({ keepDays: 30, source: 'mysql://repl@db1', segmentSize: '16MiB' });
    const c = loadConfig(
      specs,
      ['--config', path],
      {},
      { knownKeys: KNOWN_CONFIG_KEYS, knownEnv: KNOWN_ENV_NAMES },
    );
    assert.equal(c.values['keepDays'], 30);
    assert.equal(c.values['source'], undefined);
  });

  it('an unknown MYSQL_PITR_* variable is an error naming the nearest known one; others pass', () => {
    const known = { knownKeys: KNOWN_CONFIG_KEYS, knownEnv: KNOWN_ENV_NAMES };
    assert.throws(
      () => loadConfig(specs, [], { MYSQL_PITR_KEEP_DAY: '30' }, known),
      configError(/unknown environment variable MYSQL_PITR_KEEP_DAY \(did you mean MYSQL_PITR_KEEP_DAYS\?\)/),
    );
    assert.throws(
      () => loadConfig(specs, [], { MYSQL_PITR_SORUCE_PASSWORD: 'x' }, known),
      configError(/MYSQL_PITR_SORUCE_PASSWORD \(did you mean MYSQL_PITR_SOURCE_PASSWORD\?\)/),
    );
    // variables of other commands and of the deployment, and unrelated ones, are fine
    const c = loadConfig(
      specs,
      [],
      {
        MYSQL_PITR_KEEP_DAYS: '7',
        MYSQL_PITR_SOURCE_PASSWORD: 'x',
        MYSQL_PITR_CLUSTER: 'orders',
        MYSQL_PITR_JOB: '{}',
        MYSQL_PWD: 'x',
        PATH: '/bin',
      },
      known,
    );
    assert.equal(c.values['keepDays'], 7);
  });
});
