import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { BinlogEventParser, crc32, eventCrc32Matches } from '../../src/binlog/index.js';
import { crc32Js } from '../../src/binlog/binlog-checksum.js';
import { FIXTURES, readFixture } from '../support/binlog-fixtures.js';

const zlibCrc32 = (zlib as unknown as { crc32: (d: Uint8Array, v?: number) => number }).crc32;

describe('CRC32 (JavaScript slicing-by-8 for short events, zlib for the rest)', () => {
  it('gives the standard check values', () => {
    for (const f of [crc32Js, crc32]) {
      assert.equal(f(Buffer.from('123456789')), 0xcbf43926);
      assert.equal(f(Buffer.alloc(0)), 0);
      assert.equal(f(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
      assert.equal(f(Buffer.alloc(32, 0xff)), 0xff6cab0b);
      assert.equal(f(Buffer.alloc(32, 0)), 0x190a55ad);
    }
  });

  it('agrees with zlib on every length from 0 to 600 and every alignment, and when continued', () => {
    const data = randomBytes(1200);
    for (let len = 0; len <= 600; len++) {
      for (const at of [0, 1, 3, 7]) {
        const view = data.subarray(at, at + len);
        const want = zlibCrc32(view);
        assert.equal(crc32Js(view), want, `length ${len} at ${at}`);
        assert.equal(crc32(view), want, `length ${len} at ${at}`);
      }
    }
    // continuing from a previous value, across the JavaScript / zlib threshold
    const whole = zlibCrc32(data);
    for (const cut of [1, 100, 255, 256, 257, 1000]) {
      assert.equal(crc32Js(data.subarray(cut), crc32Js(data.subarray(0, cut))), whole);
      assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), whole);
    }
  });

  it('verifies every event of every fixture as zlib does, and catches any flipped bit', () => {
    let checked = 0;
    for (const fx of FIXTURES) {
      const parser = new BinlogEventParser({ object: fx.file, verifyChecksums: false });
      const events = parser.push(readFixture(fx.file));
      for (const e of events) {
        assert.equal(crc32Js(e.raw), zlibCrc32(e.raw), `${fx.file} at ${e.offset}`);
        assert.equal(crc32(e.raw), zlibCrc32(e.raw), `${fx.file} at ${e.offset}`);
        // with binlog_checksum=NONE only the FDE has a trailer; before MySQL 5.6.1 none has
        const isFde = e.typeName === 'FORMAT_DESCRIPTION';
        if (fx.checksum === undefined || (fx.checksum === 'OFF' && !isFde)) continue;
        assert.equal(eventCrc32Matches(e.raw, isFde), true, `${fx.file} at ${e.offset}`);
        // one flipped bit anywhere, in a short event (JavaScript) or a long one (zlib)
        const bad = Buffer.from(e.raw);
        const bit = (e.offset * 7) % (bad.length * 8);
        bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
        assert.equal(eventCrc32Matches(bad, false), false, `${fx.file} at ${e.offset}, bit ${bit}`);
        checked += 1;
      }
    }
    assert.ok(checked > 300, `only ${checked} checksummed events`);
  });
});
