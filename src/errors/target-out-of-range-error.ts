import { PitrError } from './pitr-error.js';

/**
 * Why a restore target (or a timeline, file or backup asked for) is outside what the repository
 * holds. Callers match on this, never on the message.
 */
export type OutOfRangeReason =
  /** The repository holds no archived binlogs at all. */
  | 'no-archive'
  /** The timeline asked for has no archived binlogs (or does not exist). */
  | 'unknown-timeline'
  /** The binlog file asked for is not archived on the timeline. */
  | 'file-not-archived'
  /** The target is on another timeline than the one chosen. */
  | 'other-timeline'
  /** The target is after the newest archived transaction. */
  | 'after-archive'
  /** The target is before the archive starts. */
  | 'before-archive'
  /** The target is before the point a roll-forward starts from (`restore apply --from`). */
  | 'before-start'
  /** The target falls where nothing is archived (a gap, an unknown GTID, past a file's end). */
  | 'not-archived'
  /** The backup asked for does not exist, or is not on the timeline. */
  | 'unknown-backup'
  /** The backup asked for was taken after the target: a restore cannot go back in time. */
  | 'backup-after-target'
  /** The target is before the oldest backup of the timeline. */
  | 'before-oldest-backup'
  /** The timeline has no backup to start from. */
  | 'no-backup'
  /** The target lies on a parent timeline after the fork, or its history diverged. */
  | 'diverged';

/** What the out-of-range request named, for callers that act on it (each only when it applies). */
export interface OutOfRangeSubject {
  /** The timeline asked for, or the one searched. */
  timeline?: string | undefined;
  /** The binlog file asked for. */
  file?: string | undefined;
  /** The backup id asked for. */
  backup?: string | undefined;
  /** The GTIDs asked for that the archive does not hold. */
  gtids?: readonly string[] | undefined;
}

/** A target outside the repository's range (code TARGET_OUT_OF_RANGE), with why as a field. */
export class TargetOutOfRangeError extends PitrError {
  /** Why the target is out of range. */
  readonly reason: OutOfRangeReason;
  /** The timeline asked for or searched, when the error is about one. */
  readonly timeline: string | undefined;
  /** The binlog file asked for, when the error is about one. */
  readonly file: string | undefined;
  /** The backup id asked for, when the error is about one. */
  readonly backup: string | undefined;
  /** The GTIDs the archive does not hold, when the error is about GTIDs. */
  readonly gtids: readonly string[] | undefined;

  constructor(reason: OutOfRangeReason, message: string, options?: ErrorOptions & OutOfRangeSubject) {
    super('TARGET_OUT_OF_RANGE', message, options);
    this.reason = reason;
    this.timeline = options?.timeline;
    this.file = options?.file;
    this.backup = options?.backup;
    this.gtids = options?.gtids === undefined ? undefined : Object.freeze([...options.gtids]);
  }
}
