/**
 * One rule for "do the events after this FORMAT_DESCRIPTION carry a CRC32": the replication stream
 * and the file reader (fdeSaysEventsChecksummed) and the event parser (decodeFormatDescriptionEvent)
 * agree on every fixture, including an FDE whose version string is damaged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  decodeFormatDescriptionEvent,
  fdeSaysEventsChecksummed,
} from '../../src/binlog/format-description-event.js';
import { readFixture, resealEvent } from '../support/binlog-fixtures.js';

/** The first event (the FDE) of a binlog file's bytes. */
function fdeOf(file: string): Buffer {
  const bytes = readFixture(file);
  const size = bytes.readUInt32LE(4 + 9);
  return Buffer.from(bytes.subarray(4, 4 + size));
}

const CASES: [string, boolean][] = [
  ['mysql-8.0.45-gtid.000001', true],
  ['mysql-bin.checksum-crc32', true],
  ['mysql-bin.checksum-none', false],
  ['mysql-bin.sakila.gz', false],
  ['mariadb-incident.000001', true],
];

describe('the FORMAT_DESCRIPTION checksum rule', () => {
  for (const [file, checksummed] of CASES) {
    it(`${file}: events ${checksummed ? 'carry' : 'do not carry'} a CRC32, by both readers`, () => {
      const fde = fdeOf(file);
      assert.equal(fdeSaysEventsChecksummed(fde), checksummed);
      const decoded = decodeFormatDescriptionEvent(fde, file, 4);
      assert.equal(decoded.checksumAlgorithm === 'CRC32', checksummed);
    });
  }

  it('an unparseable version string: the CRC32-carrying FDE is still recognised by its content', () => {
    const fde = fdeOf('mysql-bin.checksum-crc32');
    fde.write('x.y', 19 + 2, 'latin1'); // "5.7.21" -> "x.y.21": splits as 0.0.0
    resealEvent(fde);
    assert.equal(fdeSaysEventsChecksummed(fde), true);
    assert.equal(decodeFormatDescriptionEvent(fde, 'edited', 4).checksumAlgorithm, 'CRC32');
  });

  it('says no for an event too short to be an FDE', () => {
    assert.equal(fdeSaysEventsChecksummed(Buffer.alloc(40)), false);
  });
});
