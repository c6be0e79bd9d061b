import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MariadbGtidPos, MysqlGtidSet, parseMariadbGtid, parseMysqlGtid } from '../../src/gtid/index.js';
import { PitrError } from '../../src/errors/index.js';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '4f22ab58-82db-22f2-af44-d91bba53a673';

const invalid = (err: unknown): boolean => err instanceof PitrError && err.code === 'GTID_INVALID';

describe('MysqlGtidSet', () => {
  it('parses and prints the canonical form: sorted, merged, lowercase, singletons alone', () => {
    const s = MysqlGtidSet.parse(`${B.toUpperCase()}:7:1-3,\n ${A}:5-6:1-4:9-9`);
    assert.equal(s.toString(), `${A}:1-6:9,${B}:1-3:7`);
    assert.equal(s.size, 6 + 1 + 3 + 1);
    assert.equal(MysqlGtidSet.parse('').toString(), '');
    assert.ok(MysqlGtidSet.parse(' ').isEmpty);
    // uuid without dashes is accepted and normalised
    assert.equal(MysqlGtidSet.parse(`${A.replace(/-/g, '')}:1`).toString(), `${A}:1`);
  });

  it('handles tagged GTIDs (MySQL 8.3+): uuid:tag:n and tag switches inside one uuid', () => {
    const s = MysqlGtidSet.parse(`${A}:1-5:Tag_B:2:tag_a:1-3,${A}:tag_b:3`);
    assert.equal(s.toString(), `${A}:1-5:tag_a:1-3:tag_b:2-3`);
    assert.ok(s.contains(parseMysqlGtid(`${A}:tag_a:2`)));
    assert.ok(!s.contains(parseMysqlGtid(`${A}:tag_a:4`)));
    assert.ok(!s.contains(parseMysqlGtid(`${A}:other:1`)));
    assert.deepEqual(MysqlGtidSet.parse(s.toString()).entries(), s.entries());
  });

  it('union, subtract and contains', () => {
    const x = MysqlGtidSet.parse(`${A}:1-10,${B}:1-3`);
    const y = MysqlGtidSet.parse(`${A}:4-6:11-12,${B}:5`);
    assert.equal(x.union(y).toString(), `${A}:1-12,${B}:1-3:5`);
    assert.equal(x.subtract(y).toString(), `${A}:1-3:7-10,${B}:1-3`);
    assert.equal(y.subtract(x).toString(), `${A}:11-12,${B}:5`);
    assert.equal(x.subtract(x).toString(), '');
    assert.ok(x.contains(MysqlGtidSet.parse(`${A}:2-3:9,${B}:3`)));
    assert.ok(!x.contains(y));
    assert.ok(x.union(y).contains(x) && x.union(y).contains(y));
    assert.ok(x.contains(MysqlGtidSet.EMPTY));
    assert.ok(MysqlGtidSet.parse(`${A}:1-3`).equals(MysqlGtidSet.parse(`${A}:1:2:3`)));
    // subtracting a hole from the middle and at both edges
    assert.equal(
      MysqlGtidSet.parse(`${A}:1-20`)
        .subtract(MysqlGtidSet.parse(`${A}:1:5-6:20`))
        .toString(),
      `${A}:2-4:7-19`,
    );
  });

  it('rejects bad input with GTID_INVALID and says what is wrong', () => {
    for (const bad of [
      'nonsense',
      `${A}`,
      `${A}:`,
      `${A}:0`,
      `${A}:5-3`,
      `${A}:1-x`,
      `${A}:1,,${B}:1`,
      `zz11fa47-71ca-11e1-9e33-c80aa9429562:1`,
      `${A}:tag`,
      `${A}:1:9bad:2`,
      `${A}:${'t'.repeat(33)}:1`,
      `${A}:99999999999999999999`,
    ]) {
      assert.throws(() => MysqlGtidSet.parse(bad), invalid, bad);
    }
    assert.throws(() => MysqlGtidSet.parse(`${A}:5-3`), /ends before it starts/);
  });
});

describe('MariadbGtidPos', () => {
  it('parses, prints sorted by domain, and reads single GTIDs', () => {
    const p = MariadbGtidPos.parse(' 2-5-100, 0-1-42 ,1-1-7');
    assert.equal(p.toString(), '0-1-42,1-1-7,2-5-100');
    assert.deepEqual(parseMariadbGtid('0-1-42'), { domainId: 0, serverId: 1, seqNo: 42 });
    assert.equal(MariadbGtidPos.parse('').toString(), '');
    assert.equal(p.get(2)?.serverId, 5);
  });

  it('union keeps the later GTID per domain; contains and subtract compare sequence numbers', () => {
    const a = MariadbGtidPos.parse('0-1-10,1-2-5');
    const b = MariadbGtidPos.parse('0-3-12,2-1-1');
    assert.equal(a.union(b).toString(), '0-3-12,1-2-5,2-1-1');
    assert.ok(a.union(b).contains(a) && a.union(b).contains(b));
    assert.ok(a.contains(parseMariadbGtid('0-9-10')));
    assert.ok(!a.contains(parseMariadbGtid('0-1-11')));
    assert.ok(!a.contains(parseMariadbGtid('3-1-1')));
    assert.equal(a.union(b).subtract(a).toString(), '0-3-12,2-1-1');
    assert.equal(a.subtract(a.union(b)).toString(), '');
    assert.equal(a.advance(parseMariadbGtid('1-2-6')).toString(), '0-1-10,1-2-6');
    assert.equal(
      MariadbGtidPos.fromGtids([
        parseMariadbGtid('0-1-5'),
        parseMariadbGtid('0-2-9'),
        parseMariadbGtid('0-1-7'),
      ]).toString(),
      '0-2-9',
    );
  });

  it('rejects bad input with GTID_INVALID', () => {
    for (const bad of [
      '0-1',
      '0-1-2-3',
      'a-1-2',
      '0-1-2,0-2-3',
      '0-1-2,,1-1-1',
      '4294967296-1-1',
      '0-1-99999999999999999999',
    ]) {
      assert.throws(() => MariadbGtidPos.parse(bad), invalid, bad);
    }
    assert.throws(() => MariadbGtidPos.parse('0-1-2,0-2-3'), /domain 0 appears twice/);
  });
});
