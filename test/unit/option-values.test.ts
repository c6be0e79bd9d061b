/** OptionValues: typed reads of loadConfig's values, without casts; a type mismatch is a loud INTERNAL error. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { loadConfig, OptionValues, type OptionSpec } from '../../src/config/index.js';
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
