/**
 * The pure and local parts of the restore preflight and of `restore apply`'s GTID bookkeeping:
 * planRangeHoles finds every hole in a plan's segments, checkPrograms names each program that does
 * not run (missing, or failing `--version`), appliedGtids keeps every GTID domain of the plan.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appliedGtids } from '../../src/restore/apply/batch-roll-forward.js';
import { RestorePreflightError, checkPrograms, planRangeHoles } from '../../src/restore/restore-preflight.js';
import type { PlanFile, RestorePlan } from '../../src/restore/index.js';

const seg = (start: number, end: number): PlanFile['segments'][number] => ({
  key: `k${start}`,
  start,
  end,
  size: end - start,
});

describe('planRangeHoles', () => {
  it('finds nothing in contiguous segments from the first byte to the stop', () => {
    const files: PlanFile[] = [
      { file: 'mysql-bin.000001', from: 300, to: undefined, segments: [seg(4, 100), seg(100, 500)] },
      { file: 'mysql-bin.000002', from: 4, to: 250, segments: [seg(4, 200), seg(200, 300)] },
    ];
    assert.deepEqual(planRangeHoles({ files }), []);
  });

  it('names a missing first segment, a gap between segments, a stop past the last one, a file without segments', () => {
    const files: PlanFile[] = [
      { file: 'mysql-bin.000001', from: 300, to: undefined, segments: [seg(100, 500)] },
      { file: 'mysql-bin.000002', from: 4, to: undefined, segments: [seg(4, 200), seg(250, 300)] },
      { file: 'mysql-bin.000003', from: 4, to: 900, segments: [seg(4, 800)] },
      { file: 'mysql-bin.000004', from: 4, to: 10, segments: [] },
    ];
    assert.deepEqual(planRangeHoles({ files }), [
      'mysql-bin.000001:4..100',
      'mysql-bin.000002:200..250',
      'mysql-bin.000003:800..900',
      'mysql-bin.000004:4..10 (no segment)',
    ]);
  });
});

describe('checkPrograms', () => {
  it('passes when every program answers --version', async () => {
    await checkPrograms([{ program: process.execPath, purpose: 'runs JavaScript' }]);
  });

  it('names a program missing from PATH and one that fails --version, with the flag that chooses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'preflight-unit-'));
    try {
      const broken = join(dir, 'broken');
      await writeFile(broken, '#!/bin/sh\necho "cannot load libfoo" >&2\nexit 3\n');
      await chmod(broken, 0o755);
      const err = await checkPrograms([
        { program: 'mysql-pitr-no-such-program', flag: '--binlog-program', purpose: 'decodes the binlogs' },
        { program: broken, flag: '--client-program', purpose: 'applies' },
        { program: process.execPath, purpose: 'runs JavaScript' },
      ]).then(
        () => assert.fail('expected a RestorePreflightError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RestorePreflightError);
      assert.equal(err.code, 'RESTORE_TOOL_MISSING');
      assert.equal(err.check, 'program');
      assert.deepEqual(err.missing, ['mysql-pitr-no-such-program', broken]);
      assert.match(
        err.message,
        /mysql-pitr-no-such-program \(decodes the binlogs; chosen with --binlog-program\): not found in PATH/,
      );
      assert.match(err.message, /exited 3: cannot load libfoo/);
      assert.match(err.message, /Nothing was changed on the target/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a MySQL source gets the hint to use MySQL program names', async () => {
    await assert.rejects(
      checkPrograms([{ program: 'mysql-pitr-no-such-program', purpose: 'decodes' }], 5000, 'mysql'),
      /--binlog-program mysqlbinlog --client-program mysql/,
    );
  });
});

describe('appliedGtids (restore apply sets gtid_slave_pos over every domain)', () => {
  const plan = (expected: string | null): Pick<RestorePlan, 'expectedGtidPosition'> => ({
    expectedGtidPosition: expected,
  });

  it('keeps every domain of the plan, not only the last GTID applied', () => {
    const pos = appliedGtids(plan('0-1-50,1-1-7,2-5-3') as RestorePlan, '0-1-50');
    assert.equal(pos?.toString(), '0-1-50,1-1-7,2-5-3');
  });

  it('the last GTID applied counts when the plan does not know the position', () => {
    assert.equal(appliedGtids(plan(null) as RestorePlan, '1-2-9')?.toString(), '1-2-9');
    assert.equal(appliedGtids(plan(null) as RestorePlan, undefined), undefined);
    assert.equal(appliedGtids(plan(null) as RestorePlan, 'uuid:1-5'), undefined);
  });
});
