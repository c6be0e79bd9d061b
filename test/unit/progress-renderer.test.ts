/**
 * Restore progress output (src/cli/progress-*): line formatting, the moving-average rate and ETA,
 * and the renderer's throttling in its three modes, with an injected clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatClock,
  formatDoneOfTotal,
  formatProgressLine,
  type PhaseView,
} from '../../src/cli/progress-line.js';
import { ProgressRate } from '../../src/cli/progress-rate.js';
import { ProgressRenderer, type ProgressMode } from '../../src/cli/progress-renderer.js';

const MiB = 1024 * 1024;
// eslint-disable-next-line no-control-regex
const ESC = /\x1b/;

function view(over: Partial<PhaseView>): PhaseView {
  return {
    phase: 'load',
    done: 0,
    total: undefined,
    rate: undefined,
    etaSeconds: undefined,
    transactions: undefined,
    transactionRate: undefined,
    elapsedSeconds: 0,
    finished: false,
    ...over,
  };
}

/** A renderer on a fake clock that collects what it writes. */
function harness(mode: ProgressMode, extra: { color?: boolean; columns?: number } = {}) {
  let t = 1_000_000;
  const out: string[] = [];
  const r = new ProgressRenderer({ mode, write: (s) => out.push(s), now: () => t, ...extra });
  return {
    r,
    out,
    advance(ms: number) {
      t += ms;
    },
    text: () => out.join(''),
  };
}

describe('progress line formatting', () => {
  it('formatClock rounds up and switches to hours', () => {
    assert.equal(formatClock(0), '0:00');
    assert.equal(formatClock(16), '0:16');
    assert.equal(formatClock(15.2), '0:16');
    assert.equal(formatClock(754), '12:34');
    assert.equal(formatClock(3723), '1:02:03');
    assert.equal(formatClock(-3), '0:00');
  });

  it('formatDoneOfTotal shows both numbers in the unit of the larger one', () => {
    assert.equal(formatDoneOfTotal(412 * MiB, 1024 * MiB), '412.0/1024.0 MiB');
    assert.equal(formatDoneOfTotal(512, 2048), '512/2048 B');
    assert.equal(formatDoneOfTotal(5120, 20480), '5.0/20.0 KiB');
    assert.equal(formatDoneOfTotal(30 * MiB, undefined), '30.0 MiB');
    assert.equal(formatDoneOfTotal(2 * 1024 * MiB, 40 * 1024 * MiB), '2.0/40.0 GiB');
  });

  it('a running load bar has the bar, MiB done of total, rate and ETA', () => {
    const line = formatProgressLine(
      view({ done: 412 * MiB, total: 1024 * MiB, rate: 38.2 * MiB, etaSeconds: 16 }),
      { bar: true },
    );
    assert.equal(line, `load      [##########..............]  412.0/1024.0 MiB  38.2 MiB/s  ETA 0:16`);
  });

  it('apply adds transactions and trx/s; unknown rate and ETA show dashes', () => {
    const line = formatProgressLine(
      view({
        phase: 'apply',
        done: 3 * MiB,
        total: 12 * MiB,
        rate: 1.5 * MiB,
        etaSeconds: 6,
        transactions: 1234,
        transactionRate: 410.4,
      }),
      { bar: true, barWidth: 8 },
    );
    assert.equal(line, 'apply     [##......]  3.0/12.0 MiB  1.5 MiB/s  1234 trx  410 trx/s  ETA 0:06');
    const early = formatProgressLine(view({ phase: 'download', done: 0, total: 100 }), { bar: false });
    assert.equal(early, 'download  0/100 B  0%  -- B/s  ETA --:--');
  });

  it('plain lines have a percentage and no bar; a finished phase says how long it took', () => {
    const line = formatProgressLine(
      view({ done: MiB, total: MiB, rate: 0.5 * MiB, elapsedSeconds: 2, finished: true }),
      { bar: false },
    );
    assert.equal(line, 'load      1024.0/1024.0 KiB  100%  512.0 KiB/s  done in 0:02');
    assert.doesNotMatch(line, ESC);
  });
});

describe('ProgressRate (moving average)', () => {
  it('measures a steady rate', () => {
    const r = new ProgressRate(5000);
    assert.equal(r.rate(0), undefined);
    for (let t = 0; t <= 10_000; t += 50) r.add(t, t * 1000); // 1,000,000 units/s
    assert.ok(Math.abs(r.rate(10_000)! - 1_000_000) < 1, String(r.rate(10_000)));
  });

  it('gives no rate until its readings span a quarter of a second', () => {
    const r = new ProgressRate(5000);
    r.add(0, 0);
    r.add(100, 500);
    assert.equal(r.rate(100), undefined);
    assert.equal(r.rate(250), 2000);
  });

  it('follows a change of speed within the window, not at once', () => {
    const r = new ProgressRate(5000);
    let v = 0;
    for (let t = 0; t <= 10_000; t += 100) r.add(t, (v += 100)); // 1000/s
    for (let t = 10_100; t <= 11_000; t += 100) r.add(t, (v += 1000)); // 10000/s for 1 s
    const mixed = r.rate(11_000)!;
    assert.ok(mixed > 1000 && mixed < 10_000, String(mixed));
    for (let t = 11_100; t <= 17_000; t += 100) r.add(t, (v += 1000));
    assert.ok(Math.abs(r.rate(17_000)! - 10_000) < 1, String(r.rate(17_000)));
  });

  it('falls towards 0 when the counter stops, and is 0 after a whole window of nothing', () => {
    const r = new ProgressRate(5000);
    for (let t = 0; t <= 5000; t += 100) r.add(t, t);
    const running = r.rate(5000)!;
    const stalling = r.rate(7000)!;
    assert.ok(stalling < running, `${stalling} < ${running}`);
    assert.equal(r.rate(20_000), 0);
  });

  it('keeps few samples for a fast counter', () => {
    const r = new ProgressRate(5000);
    for (let t = 0; t < 60_000; t += 1) r.add(t, t);
    const samples = (r as unknown as { samples: unknown[] }).samples.length;
    assert.ok(samples <= 5000 / 100 + 3, String(samples));
  });
});

describe('ProgressRenderer', () => {
  it('plain: one line per phase every 5 s and one at its end, no escape codes', () => {
    const h = harness('plain');
    const total = 120 * MiB;
    for (let ms = 0; ms <= 12_000; ms += 100) {
      h.r.update({ phase: 'load', done: Math.floor((total * ms) / 12_000), total });
      h.advance(100);
    }
    h.r.finish();
    const lines = h.text().trimEnd().split('\n');
    assert.equal(lines.length, 3, h.text());
    assert.match(lines[0]!, /^load {6}\d+\.\d\/120\.0 MiB {2}\d+% {2}10\.0 MiB\/s {2}ETA 0:0[67]$/);
    assert.match(lines[1]!, /^load {6}\d+\.\d\/120\.0 MiB {2}\d+% {2}10\.0 MiB\/s {2}ETA 0:0[12]$/);
    assert.match(lines[2]!, /^load {6}120\.0\/120\.0 MiB {2}100% {2}10\.0 MiB\/s {2}done in 0:12$/);
    assert.doesNotMatch(h.text(), ESC);
  });

  it('plain: a stalled phase still prints (from tick) with a falling rate; finish() prints the unfinished one', () => {
    const h = harness('plain');
    for (let ms = 0; ms < 3000; ms += 100) {
      h.r.update({ phase: 'apply', done: ms * 1000, total: 10_000_000, transactions: ms / 100 });
      h.advance(100);
    }
    for (let i = 0; i < 40; i++) {
      h.advance(250);
      h.r.tick();
    }
    h.r.finish();
    h.r.update({ phase: 'apply', done: 10_000_000, total: 10_000_000 });
    h.r.tick();
    const lines = h.text().trimEnd().split('\n');
    assert.equal(lines.length, 3, h.text());
    assert.match(lines[0]!, /^apply .* 29 trx {2}\d+ trx\/s {2}ETA /);
    assert.match(lines[2]!, /^apply .* 0 B\/s {2}29 trx {2}0 trx\/s {2}ETA --:--$/);
  });

  it('json: {"progress":...} lines every second and at the end, with rate and a steady ETA', () => {
    const h = harness('json');
    const total = 20 * MiB;
    // uneven chunks: 0 or 2 MiB every 100 ms, 10 MiB/s on average
    for (let i = 0; i <= 20; i++) {
      h.r.update({ phase: 'download', done: Math.min(total, Math.floor(i / 2) * 2 * MiB), total });
      h.advance(100);
    }
    const lines = h
      .text()
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            progress: {
              phase: string;
              done: number;
              total: number;
              rate: number | null;
              etaSeconds: number | null;
              finished: boolean;
            };
          },
      );
    assert.deepEqual(
      lines.map((l) => [l.progress.phase, l.progress.finished]),
      [
        ['download', false],
        ['download', true],
      ],
    );
    const [running, done] = lines.map((l) => l.progress);
    assert.ok(Math.abs(running!.rate! - 10 * MiB) < 1.2 * MiB, String(running!.rate));
    assert.ok(running!.etaSeconds! >= 1 && running!.etaSeconds! <= 2, String(running!.etaSeconds));
    assert.equal(done!.done, total);
    assert.equal(done!.etaSeconds, 0);
  });

  it('tty: at most ~10 redraws a second, one line per phase redrawn in place', () => {
    const h = harness('tty');
    for (let ms = 0; ms < 1000; ms += 5) {
      h.r.update({ phase: 'download', done: ms, total: 2000 });
      h.r.update({ phase: 'apply', done: ms, total: 2000, transactions: ms });
      h.advance(5);
    }
    assert.ok(h.out.length >= 9 && h.out.length <= 11, `${h.out.length} redraws`);
    // the first draw has both lines; later ones move up over them first
    assert.equal(h.out[0]!.split('\n').length - 1, 1, JSON.stringify(h.out[0]));
    assert.ok(h.out.slice(2).every((w) => w.startsWith('\x1b[2A') && w.split('\n').length - 1 === 2));
    // a phase that finishes is drawn at once, whatever the throttle says
    h.r.update({ phase: 'download', done: 2000, total: 2000 });
    assert.match(h.out.at(-1)!, /download {2}\[#{24}\] {2}2000\/2000 B .*done in 0:01/);
    h.r.finish();
    assert.match(h.out.at(-1)!, /apply .*ETA/);
  });

  it('tty: log lines go above the bars, which are drawn again below them', () => {
    const h = harness('tty');
    h.r.update({ phase: 'load', done: 10, total: 100 });
    h.r.writeAbove('applying binlog  (file=mysql-bin.000002)\n');
    const w = h.out.slice(1).join('');
    assert.ok(w.startsWith('\x1b[1A\r\x1b[0Japplying binlog  (file=mysql-bin.000002)\n'), JSON.stringify(w));
    assert.match(w, /\n\r\x1b\[2Kload {6}\[/); // eslint-disable-line no-control-regex
  });

  it('tty: colour only when asked (NO_COLOR), and lines are cut to the terminal width', () => {
    const colored = harness('tty', { color: true });
    colored.r.update({ phase: 'load', done: 50, total: 100 });
    assert.match(colored.text(), /\[\x1b\[32m#{12}\x1b\[0m\.{12}\]/); // eslint-disable-line no-control-regex
    const plain = harness('tty', { color: false, columns: 40 });
    plain.r.update({ phase: 'load', done: 50, total: 100 });
    assert.doesNotMatch(plain.text(), /\x1b\[32m/); // eslint-disable-line no-control-regex
    const line = plain.text().replace('\r\x1b[2K', '').trimEnd();
    assert.equal(line.length, 39, line);
  });

  it('plain and json write logs as they are; reports after a phase finished are ignored', () => {
    const h = harness('plain');
    h.r.writeAbove('a log line\n');
    h.r.update({ phase: 'load', done: 5, total: 5 });
    h.r.update({ phase: 'load', done: 5, total: 5 });
    h.r.update({ phase: 'load', done: 0, total: 5 });
    h.advance(10_000);
    h.r.tick();
    h.r.finish();
    assert.equal(h.out.length, 2, h.text());
    assert.equal(h.out[0], 'a log line\n');
    assert.match(h.out[1]!, /^load {6}5\/5 B {2}100%/);
  });
});
