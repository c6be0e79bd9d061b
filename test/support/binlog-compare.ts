/**
 * Comparing binlog files fetched or streamed by mysql-pitr with the source's own files.
 *
 * The source keeps LOG_EVENT_BINLOG_IN_USE_F (0x01) set in the FORMAT_DESCRIPTION_EVENT flags of
 * its active binlog until it closes the file; the dump thread sends the event with the bit clear
 * (its CRC32 was computed with the bit clear, so both versions verify). A copy of the active file
 * therefore differs from the source's in exactly this bit and nowhere else.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LOG_EVENT_BINLOG_IN_USE_F, OFFSET_FLAGS } from '../../src/binlog/event-header.js';
import type { MariadbServer } from './mariadb-server.js';

/** File offset of the FDE's flags low byte (after the 4-byte magic). */
export const IN_USE_FLAG_OFFSET = 4 + OFFSET_FLAGS;

/** A row of SHOW BINARY LOGS. */
export interface BinaryLog {
  Log_name: string;
  File_size: string | number;
}

/** Byte offsets where a and b differ, at most `limit` of them (and -1 when the lengths differ). */
export function binlogDifferences(a: Buffer, b: Buffer, limit = Infinity): number[] {
  const out: number[] = [];
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n && out.length < limit; i++) if (a[i] !== b[i]) out.push(i);
  if (a.length !== b.length) out.push(-1);
  return out;
}

/**
 * Asserts that every source binlog (from the `from`-th on) was written into `dir` byte for byte,
 * the active one but its in-use bit.
 *
 * @returns how many files were compared
 */
export async function assertBinlogsIdentical(server: MariadbServer, dir: string, from = 0): Promise<number> {
  const logs = (await server.query<BinaryLog[]>('SHOW BINARY LOGS')).slice(from);
  const fetched = (await readdir(dir)).filter((f) => !f.endsWith('.partial')).sort();
  assert.deepEqual(fetched, logs.map((l) => l.Log_name).sort(), 'fetched files = source binlogs');
  for (const [i, log] of logs.entries()) {
    const source = await readFile(join(server.binlogDir, log.Log_name));
    const copy = await readFile(join(dir, log.Log_name));
    if (i < logs.length - 1) {
      assert.ok(
        copy.equals(source),
        `${log.Log_name} differs at ${binlogDifferences(copy, source, 10).join(',')}`,
      );
    } else {
      assert.equal(copy.length, source.length, `active ${log.Log_name} length`);
      const diff = binlogDifferences(copy, source, 10);
      assert.ok(
        diff.length === 0 || (diff.length === 1 && diff[0] === IN_USE_FLAG_OFFSET),
        `active ${log.Log_name} differs at ${diff}`,
      );
      if (diff.length === 1)
        assert.equal(source[IN_USE_FLAG_OFFSET]! ^ copy[IN_USE_FLAG_OFFSET]!, LOG_EVENT_BINLOG_IN_USE_F);
    }
  }
  return logs.length;
}
