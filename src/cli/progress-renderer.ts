import type { RestoreProgress } from '../restore/index.js';
import { formatProgressLine, progressJson, type PhaseView } from './progress-line.js';
import { ProgressRate } from './progress-rate.js';

/**
 * `tty`: one bar per phase, redrawn in place; `plain`: a line per phase now and then, no escape
 * codes (logs, CI); `json`: `{"progress":{...}}` lines for automation.
 */
export type ProgressMode = 'tty' | 'plain' | 'json';

/** Options of ProgressRenderer. */
export interface ProgressRendererOptions {
  mode: ProgressMode;
  /** Where the output goes (stderr): called with whole lines, or with a redraw on a terminal. */
  write: (text: string) => void;
  /** Milliseconds; injected by tests (default Date.now). */
  now?: () => number;
  /** ANSI colours on a terminal (off for NO_COLOR). */
  color?: boolean;
  /** Terminal width: longer lines are cut so the redraw stays in place (default 100). */
  columns?: number;
  /** Least time between two redraws on a terminal (default 100 ms: at most ~10 a second). */
  ttyIntervalMs?: number;
  /** Time between two plain lines of a running phase (default 5 s). */
  plainIntervalMs?: number;
  /** Time between two JSON lines of a running phase (default 1 s). */
  jsonIntervalMs?: number;
  /** Window of the moving-average rate (default 5 s). */
  rateWindowMs?: number;
}

interface PhaseState {
  phase: RestoreProgress['phase'];
  done: number;
  total: number | undefined;
  transactions: number | undefined;
  startedAt: number;
  /** Time of the report that finished the phase. */
  finishedAt: number | undefined;
  /** Time of the last plain or JSON line about this phase. */
  printedAt: number;
  bytes: ProgressRate;
  trx: ProgressRate;
}

/* ANSI control sequences (ECMA-48): cursor up N lines, erase the line, erase to the end of the screen. */
const cursorUp = (n: number): string => `\x1b[${n}A`;
const ERASE_LINE = '\r\x1b[2K';
const ERASE_DOWN = '\r\x1b[0J';

/**
 * Turns RestoreProgress reports into what an operator or a script reads on stderr: bars with rate
 * and ETA on a terminal, plain lines elsewhere, JSON lines with `--json`. Steps report as often as
 * they like; this throttles. Pure apart from `write`, with an injectable clock.
 *
 * Call `tick()` now and then (a timer) so a stalled phase still shows its falling rate, and
 * `finish()` once at the end (also after a failure) to print the last state.
 */
export class ProgressRenderer {
  private readonly phases: PhaseState[] = [];
  private readonly now: () => number;
  /** Lines of bars on the terminal below which the cursor sits. */
  private drawn = 0;
  private drawnAt = Number.NEGATIVE_INFINITY;
  private finished = false;

  constructor(private readonly opts: ProgressRendererOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A RestoreProgressListener: takes one report. Reports after a phase finished are ignored. */
  readonly update = (p: RestoreProgress): void => {
    if (this.finished) return;
    const now = this.now();
    let s = this.phases.find((x) => x.phase === p.phase);
    if (!s) {
      s = {
        phase: p.phase,
        done: p.done,
        total: p.total,
        transactions: p.transactions,
        startedAt: now,
        finishedAt: undefined,
        printedAt: now,
        bytes: new ProgressRate(this.opts.rateWindowMs),
        trx: new ProgressRate(this.opts.rateWindowMs),
      };
      this.phases.push(s);
    }
    if (s.finishedAt !== undefined) return;
    s.done = p.done;
    s.total = p.total;
    if (p.transactions !== undefined) {
      s.transactions = p.transactions;
      s.trx.add(now, p.transactions);
    }
    s.bytes.add(now, p.done);
    if (p.total !== undefined && p.done >= p.total) s.finishedAt = now;
    if (this.opts.mode === 'tty') {
      if (s.finishedAt !== undefined || now - this.drawnAt >= (this.opts.ttyIntervalMs ?? 100))
        this.redraw(now);
    } else if (s.finishedAt !== undefined) {
      this.print(s, now);
    } else {
      this.printIfDue(s, now);
    }
  };

  /** Lets time pass without a report: refreshes the bars, or prints the lines that are due. */
  tick(): void {
    if (this.finished) return;
    const now = this.now();
    if (this.opts.mode === 'tty') {
      if (
        this.phases.some((s) => s.finishedAt === undefined) &&
        now - this.drawnAt >= (this.opts.ttyIntervalMs ?? 100)
      )
        this.redraw(now);
      return;
    }
    for (const s of this.phases) if (s.finishedAt === undefined) this.printIfDue(s, now);
  }

  /**
   * Writes `text` (whole lines, e.g. a log line) above the bars, so logging does not break the
   * redraw; elsewhere writes it as is.
   */
  writeAbove(text: string): void {
    if (this.opts.mode !== 'tty' || this.drawn === 0) {
      this.opts.write(text);
      return;
    }
    this.opts.write(`${cursorUp(this.drawn)}${ERASE_DOWN}${text}`);
    this.drawn = 0;
    this.redraw(this.now());
  }

  /** Prints the final state: the last bars, or a last line for each phase that did not finish. */
  finish(): void {
    if (this.finished) return;
    const now = this.now();
    if (this.opts.mode === 'tty') {
      if (this.phases.length > 0) this.redraw(now);
    } else {
      for (const s of this.phases) if (s.finishedAt === undefined) this.print(s, now);
    }
    this.finished = true;
  }

  /** What a line shows about `s` at `now`. */
  view(s: PhaseState, now: number): PhaseView {
    const end = s.finishedAt ?? now;
    const elapsed = Math.max(0, end - s.startedAt) / 1000;
    const whole = (n: number | undefined): number | undefined =>
      n === undefined || elapsed <= 0 ? undefined : n / elapsed;
    const finished = s.finishedAt !== undefined;
    const rate = finished ? whole(s.done) : s.bytes.rate(now);
    const left = s.total === undefined ? undefined : Math.max(0, s.total - s.done);
    return {
      phase: s.phase,
      done: s.done,
      total: s.total,
      rate,
      etaSeconds: finished
        ? 0
        : left !== undefined && rate !== undefined && rate > 0
          ? left / rate
          : undefined,
      transactions: s.transactions,
      transactionRate:
        s.transactions === undefined ? undefined : finished ? whole(s.transactions) : s.trx.rate(now),
      elapsedSeconds: elapsed,
      finished,
    };
  }

  private printIfDue(s: PhaseState, now: number): void {
    const every =
      this.opts.mode === 'json' ? (this.opts.jsonIntervalMs ?? 1000) : (this.opts.plainIntervalMs ?? 5000);
    if (now - s.printedAt >= every) this.print(s, now);
  }

  private print(s: PhaseState, now: number): void {
    s.printedAt = now;
    const v = this.view(s, now);
    this.opts.write(
      `${this.opts.mode === 'json' ? progressJson(v) : formatProgressLine(v, { bar: false })}\n`,
    );
  }

  private redraw(now: number): void {
    const width = Math.max(20, (this.opts.columns ?? 100) - 1);
    let out = this.drawn > 0 ? cursorUp(this.drawn) : '';
    for (const s of this.phases) {
      const line = formatProgressLine(this.view(s, now), { bar: true });
      // cut before colouring, so escape codes never count against the width
      const cut = line.length > width ? line.slice(0, width) : line;
      out += `${ERASE_LINE}${this.opts.color ? colorBar(cut) : cut}\n`;
    }
    this.opts.write(out);
    this.drawn = this.phases.length;
    this.drawnAt = now;
  }
}

/** Colours the `#` run of a bar green (SGR 32, then reset). */
function colorBar(line: string): string {
  return line.replace(/\[(#+)/, '[\x1b[32m$1\x1b[0m');
}
