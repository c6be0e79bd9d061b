import type { RestoreProgress } from '../restore/index.js';
import { formatBytes } from './format-bytes.js';

/** What one progress line shows about one phase: the latest report plus what the renderer measured. */
export interface PhaseView {
  phase: RestoreProgress['phase'];
  done: number;
  total: number | undefined;
  /** Bytes per second (moving average while running, whole-phase average once finished). */
  rate: number | undefined;
  /** Seconds left at `rate`; undefined when unknown. */
  etaSeconds: number | undefined;
  transactions: number | undefined;
  /** Transactions per second, like `rate`. */
  transactionRate: number | undefined;
  /** Seconds since the phase's first report. */
  elapsedSeconds: number;
  /** The phase reported `done >= total`. */
  finished: boolean;
}

/** How a line looks. */
export interface ProgressLineStyle {
  /** Draw a `[####....]` bar (terminal); plain lines show a percentage instead. */
  bar: boolean;
  /** Characters inside the bar (default 24). */
  barWidth?: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
/** Wide enough for the longest phase name, so bars line up. */
const LABEL_WIDTH = 'download'.length;

/** `0:07`, `12:34`, `1:02:03`: a duration in whole seconds (rounded up, so an ETA never shows 0:00 early). */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * `412.0/1024.0 MiB`: both numbers in one unit, the largest in which the larger number is still at
 * least 10 (so 1 GiB shows as 1024.0 MiB and the bar's progress stays visible in the digits).
 */
export function formatDoneOfTotal(done: number, total: number | undefined): string {
  const ref = Math.max(done, total ?? 0);
  let u = 0;
  while (ref >= 10 * 1024 ** (u + 1) && u < UNITS.length - 1) u += 1;
  const f = (n: number): string => (u === 0 ? String(n) : (n / 1024 ** u).toFixed(1));
  return total === undefined ? `${f(done)} ${UNITS[u]}` : `${f(done)}/${f(total)} ${UNITS[u]}`;
}

function formatRate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '-- B/s' : `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * One line about one phase, without a newline. Running, on a terminal:
 * `load     [#######.................]  412.0/1024.0 MiB  38.2 MiB/s  ETA 0:16`;
 * plain: `load     412.0/1024.0 MiB  40%  38.2 MiB/s  ETA 0:16`. `apply` adds the transactions and
 * their rate; a finished phase says `done in 0:27` with its average rate instead of an ETA.
 */
export function formatProgressLine(v: PhaseView, style: ProgressLineStyle): string {
  const parts: string[] = [v.phase.padEnd(LABEL_WIDTH)];
  const fraction = v.total ? v.done / v.total : v.finished ? 1 : undefined;
  if (style.bar) parts.push(bar(fraction ?? 0, style.barWidth ?? 24));
  parts.push(formatDoneOfTotal(v.done, v.total));
  if (!style.bar && fraction !== undefined) parts.push(`${Math.floor(fraction * 100)}%`);
  parts.push(formatRate(v.rate));
  if (v.transactions !== undefined) {
    parts.push(`${v.transactions} trx`);
    if (v.transactionRate !== undefined) parts.push(`${Math.round(v.transactionRate)} trx/s`);
  }
  if (v.finished) parts.push(`done in ${formatClock(v.elapsedSeconds)}`);
  else parts.push(`ETA ${v.etaSeconds === undefined ? '--:--' : formatClock(v.etaSeconds)}`);
  return parts.join('  ');
}

/** The `--json` form of a progress line: `{"progress":{...}}` (rates per second, rounded). */
export function progressJson(v: PhaseView): string {
  return JSON.stringify({
    progress: {
      phase: v.phase,
      done: v.done,
      total: v.total ?? null,
      rate: v.rate === undefined ? null : Math.round(v.rate),
      etaSeconds: v.etaSeconds === undefined ? null : Math.ceil(v.etaSeconds),
      ...(v.transactions !== undefined
        ? {
            transactions: v.transactions,
            transactionRate: v.transactionRate === undefined ? null : Math.round(v.transactionRate),
          }
        : {}),
      elapsedSeconds: Math.round(v.elapsedSeconds * 10) / 10,
      finished: v.finished,
    },
  });
}
