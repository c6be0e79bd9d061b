// newestCommitRestorable: the verify job's judgement behind the NewestCommitUnrestorable alarm
// (issue 14: "a CDK alarm fires when the newest commit is not restorable").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newestCommitRestorable } from '../../src/archiver/index.js';
import type { RestorableWindow, UnrestorableInterval } from '../../src/maintenance/verify-chain.js';

const window = (from: string, to: string, timeline = '000001'): RestorableWindow =>
  ({ timeline, backup: 'b1', from, to }) as RestorableWindow;
const hole = (from: string, to: string, kind: UnrestorableInterval['kind']): UnrestorableInterval => ({
  from,
  to,
  kind,
  reason: kind,
});

describe('newestCommitRestorable', () => {
  it('is true when a window ends at the newest archived commit', () => {
    assert.equal(
      newestCommitRestorable({
        windows: [window('2026-01-01T01:00:00Z', '2026-01-01T05:00:00Z')],
        unrestorable: [hole('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 'before-oldest-backup')],
      }),
      true,
    );
  });

  it('is false when the history broke after the last window (a failover without GTIDs, a gap)', () => {
    assert.equal(
      newestCommitRestorable({
        windows: [window('2026-01-01T01:00:00Z', '2026-01-01T03:00:00Z')],
        unrestorable: [hole('2026-01-01T03:00:00Z', '2026-01-01T05:00:00Z', 'break')],
      }),
      false,
    );
  });

  it('is false when commits are archived but no backup starts a window', () => {
    assert.equal(
      newestCommitRestorable({
        windows: [],
        unrestorable: [hole('2026-01-01T00:00:00Z', '2026-01-01T05:00:00Z', 'before-oldest-backup')],
      }),
      false,
    );
  });

  it('is true when a later timeline window reaches past an older break', () => {
    assert.equal(
      newestCommitRestorable({
        windows: [
          window('2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z'),
          window('2026-01-01T04:00:00Z', '2026-01-01T06:00:00Z', '000002'),
        ],
        unrestorable: [hole('2026-01-01T02:00:00Z', '2026-01-01T04:00:00Z', 'break')],
      }),
      true,
    );
  });

  it('is undefined when nothing is archived', () => {
    assert.equal(newestCommitRestorable({ windows: [], unrestorable: [] }), undefined);
  });
});
