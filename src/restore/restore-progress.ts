/**
 * One progress report of a restore step, for progress bars (TTY), plain progress lines and
 * `--json` output. Steps report often (at least every chunk); renderers throttle.
 */
export interface RestoreProgress {
  /**
   * `download`: stored (compressed) bytes read from the repository for the binlog range;
   * `load`: stored (compressed) bytes of the backup's dump read and handed to the target;
   * `apply`: binlog bytes applied to the target.
   */
  phase: 'download' | 'load' | 'apply';
  /** Bytes done so far in this phase. */
  done: number;
  /** Total bytes of this phase, when known. */
  total: number | undefined;
  /** Transactions applied so far (`apply` only). */
  transactions?: number;
}

/** Receives progress reports; must not throw and must return quickly. */
export type RestoreProgressListener = (progress: RestoreProgress) => void;
