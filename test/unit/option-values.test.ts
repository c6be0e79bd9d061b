/** OptionValues: typed reads of loadConfig's values, without casts; a type mismatch is a loud INTERNAL error. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig, OptionValues, type OptionSpec } from '../../src/config/index.js';
import { isPitrError } from '../../src/errors/index.js';

const SPECS: OptionSpec[] = [
  { key: 'repo', flag: 'repo', type: 'string', description: 'r' },
  { key: 'flushInterval', flag: 'flush-interval', type: 'duration', default: 400, description: 'f' },
  { key: 'serverId', flag: 'server-id', type: 'integer', description: 's' },
  { key: 'untilCaughtUp', flag: 'until-caught-up', type: 'boolean', description: 'u' },
  { key: 'databases', flag: 'databases', type: 'list', description: 'd' },
];

describe('OptionValues', () => {
  it('reads each type as loadConfig resolved it', () => {
    const { values } = loadConfig(
      SPECS,
      ['--repo', 'file:///r', '--flush-interval', '2s', '--until-caught-up', '--databases', 'a,b'],
      {},
    );
    const o = new OptionValues(values);
    assert.equal(o.string('repo'), 'file:///r');
    assert.equal(o.number('flushInterval'), 2000);
    assert.equal(o.optionalNumber('serverId'), undefined);
    assert.equal(o.boolean('untilCaughtUp'), true);
    assert.deepEqual(o.list('databases'), ['a', 'b']);
  });

  it('unset: optional reads give undefined, booleans false, lists empty; a required read fails', () => {
    const o = new OptionValues(loadConfig(SPECS, [], {}).values);
    assert.equal(o.optionalString('repo'), undefined);
    assert.equal(o.boolean('untilCaughtUp'), false);
    assert.deepEqual(o.list('databases'), []);
    assert.throws(
      () => o.string('repo'),
      (e: unknown) => isPitrError(e, 'INTERNAL') && /repo/.test(String(e)),
    );
  });

  it('reading an option as another type than declared is an INTERNAL error naming it', () => {
    const o = new OptionValues(loadConfig(SPECS, ['--repo', 'x'], {}).values);
    assert.throws(
      () => o.number('repo'),
      (e: unknown) => isPitrError(e, 'INTERNAL') && /option repo holds string, not a number/.test(String(e)),
    );
    assert.throws(
      () => o.string('flushInterval'),
      (e: unknown) => isPitrError(e, 'INTERNAL'),
    );
  });
});

describe('OptionValues checked against the OptionSpecs', () => {
  const checked = (argv: string[] = []): OptionValues =>
    new OptionValues(loadConfig(SPECS, argv, {}).values, SPECS);

  it('reads every declared option by its type, as without specs', () => {
    const o = checked(['--repo', 'file:///r', '--server-id', '7', '--databases', 'a', '--databases', 'b']);
    assert.equal(o.string('repo'), 'file:///r');
    assert.equal(o.number('flushInterval'), 400);
    assert.equal(o.optionalNumber('serverId'), 7);
    assert.equal(o.boolean('untilCaughtUp'), false);
    assert.deepEqual(o.list('databases'), ['a', 'b']);
  });

  it('a key the command does not declare is an INTERNAL error naming it, even though nothing set it', () => {
    const o = checked();
    for (const read of [
      () => o.optionalString('repoo'),
      () => o.optionalNumber('serverID'),
      () => o.boolean('untilCaughtup'),
      () => o.list('database'),
    ]) {
      assert.throws(
        read,
        (e: unknown) =>
          isPitrError(e, 'INTERNAL') && /option \w+ is not declared by this command/.test(String(e)),
      );
    }
    assert.equal(o.has('repo'), true);
    assert.equal(o.has('repoo'), false);
    // without specs there is nothing to check against: every key counts as declared
    assert.equal(new OptionValues({}).has('anything'), true);
    assert.equal(new OptionValues({}).optionalString('anything'), undefined);
  });

  it('reading an unset option as another type than its OptionSpec declares fails too', () => {
    const o = checked();
    assert.throws(
      () => o.optionalNumber('repo'),
      (e: unknown) =>
        isPitrError(e, 'INTERNAL') && /option repo is declared as string, not a number/.test(String(e)),
    );
    assert.throws(
      () => o.boolean('serverId'),
      (e: unknown) =>
        isPitrError(e, 'INTERNAL') &&
        /option serverId is declared as integer, not true or false/.test(String(e)),
    );
    assert.throws(
      () => o.optionalString('databases'),
      (e: unknown) => isPitrError(e, 'INTERNAL') && /declared as list, not a string/.test(String(e)),
    );
    // every numeric type reads as a number
    assert.equal(o.number('flushInterval'), 400);
  });

  it('choice narrows a string option with choices to their union; other choices are INTERNAL', () => {
    const specs: OptionSpec[] = [
      {
        key: 'logLevel',
        flag: 'log-level',
        type: 'string',
        choices: ['debug', 'info'],
        default: 'info',
        description: 'l',
      },
    ];
    const levels: readonly ('debug' | 'info')[] = ['debug', 'info'];
    const o = new OptionValues(loadConfig(specs, ['--log-level', 'debug'], {}).values, specs);
    const level: 'debug' | 'info' = o.choice('logLevel', levels);
    assert.equal(level, 'debug');
    assert.throws(
      () => o.choice('logLevel', ['info']),
      (e: unknown) =>
        isPitrError(e, 'INTERNAL') && /option logLevel is "debug", not one of info/.test(String(e)),
    );
  });
});

describe('ill-typed and unknown settings keep their ConfigErrors (loadConfig, before any read)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'option-values-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const cases: { argv: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { argv: ['--server-id', 'abc'], message: /^--server-id: "abc" is not a whole number$/ },
    { argv: ['--flush-interval', '5x'], message: /^--flush-interval: "5x" is not a duration such as 500ms/ },
    {
      argv: [],
      env: { MYSQL_PITR_UNTIL_CAUGHT_UP: 'maybe' },
      message: /^environment variable MYSQL_PITR_UNTIL_CAUGHT_UP: "maybe" is not a boolean \(true\/false\)$/,
    },
    { argv: ['--repo'], message: /argument missing/ },
    { argv: ['--repository', 'x'], message: /Unknown option '--repository'/ },
  ];
  for (const c of cases) {
    it(`${[...c.argv, ...Object.keys(c.env ?? {})].join(' ')}: ${c.message.source}`, () => {
      assert.throws(
        () => loadConfig(SPECS, c.argv, c.env ?? {}),
        (e: unknown) => e instanceof ConfigError && c.message.test(e.message),
      );
    });
  }

  it('a config file with an ill-typed value, or an unknown key, is refused naming it', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ serverId: 'seven' }));
    assert.throws(
      () => loadConfig(SPECS, ['--config', bad], {}),
      (e: unknown) =>
        e instanceof ConfigError && e.message === `"serverId" in ${bad}: "seven" is not a whole number`,
    );
    const typo = join(tmp, 'typo.json');
    writeFileSync(typo, JSON.stringify({ serverID: 7 }));
    assert.throws(
      () => loadConfig(SPECS, ['--config', typo], {}),
      (e: unknown) => e instanceof ConfigError && /serverID/.test(e.message) && /serverId/.test(e.message),
    );
  });
});
