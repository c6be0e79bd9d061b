import { PitrError } from '../errors/index.js';
import type { IncompleteBackup } from './backup-catalog.js';
import { backupIdTime } from './backup-id.js';
import { backupManifestKey } from './backup-keys.js';
import { backupObjects, type BackupManifest } from './backup-manifest.js';
import type { CatalogTimeline } from './binlog-catalog.js';
import { compareBinlogFiles, gapKey, timelineKey } from './binlog-keys.js';
import { locateBackupTimeline } from './backup-timeline.js';

/** How long a backup folder without a manifest may exist before expire removes it (a dump may still be running). */
export const DEFAULT_INCOMPLETE_GRACE_MS = 24 * 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What to keep. At least one of `keepDays` and `keepBackups` must be set. */
export interface RetentionPolicy {
  /**
   * Keep every point in time of the last N days restorable: every backup started within N days of
   * `now`, plus the newest backup started before that cutoff (a restore to a point just after the
   * cutoff starts from it).
   */
  keepDays?: number | undefined;
  /** Keep the newest N complete backups. */
  keepBackups?: number | undefined;
  /** Backup folders without a manifest whose last write is older than this go (default 24 h). */
  incompleteGraceMs?: number | undefined;
}

/** What the policy reads: the repository's catalogs, binlog timelines read with segment headers. */
export interface RetentionCatalog {
  /** Complete backups (any order). */
  backups: readonly BackupManifest[];
  /** Backup folders without a usable manifest. */
  incomplete: readonly IncompleteBackup[];
  /** Timelines, oldest first, read with `headers: true` (used to place backups on a timeline). */
  timelines: readonly CatalogTimeline[];
}

/** A backup the policy keeps. */
export interface RetainedBackup {
  id: string;
  startedAt: string;
  /** Why it stays (the first rule that keeps it). */
  reason: string;
  /** The timeline holding its binlog coordinates; undefined when the archive does not hold them. */
  timeline: string | undefined;
}

/** A complete backup to delete: its manifest first, then its data. */
export interface ExpiredBackup {
  id: string;
  startedAt: string;
  /** Deleted first: from then on the backup is incomplete and never used. */
  manifestKey: string;
  /** Deleted after the manifest (the executor also removes anything else left in the folder). */
  dataKeys: string[];
  reason: string;
}

/** A backup folder without a usable manifest to delete. */
export interface ExpiredIncompleteBackup {
  id: string;
  /** Every object of the folder; a (damaged) manifest first. */
  keys: string[];
  reason: string;
}

/**
 * An object expire cannot account for: a backup manifest that exists but cannot be read (damaged,
 * or written by a newer mysql-pitr). Its backup may be complete and needed, so expire deletes
 * nothing at all while one exists.
 */
export interface RefusedObject {
  /** The backup id. */
  id: string;
  key: string;
  /** FORMAT_TOO_NEW or CORRUPT_DATA. */
  code: string;
  reason: string;
}

/** A segment to delete. */
export interface ExpiredSegment {
  key: string;
  file: string;
  start: number;
  /** From its header; undefined when the header was not read. */
  end: number | undefined;
  /** Stored bytes. */
  size: number;
}

/** What goes from one timeline, in deletion order: segments (oldest first), gap records, the record. */
export interface ExpiredBinlogs {
  timeline: string;
  /** True when the whole timeline goes (it lies wholly before the oldest retained backup). */
  whole: boolean;
  /** Oldest first: deleting in this order only ever moves the start of the archive. */
  segments: ExpiredSegment[];
  /** Gap records of the files that go. */
  gapKeys: string[];
  /** The timeline record, deleted last; only for a whole timeline whose record exists. */
  recordKey: string | undefined;
  reason: string;
}

/** Where restores can start once the plan is carried out. */
export interface RestorableStart {
  /** The oldest retained backup. */
  backup: string;
  timeline: string | undefined;
  file: string;
  position: number;
  /** The backup's `finishedAt`: any time from here on (up to the archive's end) can be restored. */
  time: string;
}

/** Exactly what expire deletes and keeps, and why. Plain data (printed by `--dry-run`). */
export interface RetentionPlan {
  /** ISO time the plan was made for. */
  now: string;
  /** Retained backups, oldest first. */
  keep: RetainedBackup[];
  /** Backups to delete, oldest first. */
  expireBackups: ExpiredBackup[];
  expireIncomplete: ExpiredIncompleteBackup[];
  /** Binlog data to delete, oldest timeline first. */
  expireBinlogs: ExpiredBinlogs[];
  /** Binlog data from here on is kept: the start of the binlog file holding the oldest retained backup's position. */
  keepBinlogsFrom: { timeline: string; file: string; position: 0 } | undefined;
  /** The new restorable window start; undefined without complete backups. */
  windowStart: RestorableStart | undefined;
  /** Things the operator should know (why binlogs were left alone, ...). */
  notes: string[];
  /**
   * Objects expire cannot account for. When not empty the plan must not be carried out: the
   * executor deletes nothing and fails with EXPIRE_REFUSED.
   */
  refused: RefusedObject[];
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function validate(policy: RetentionPolicy): void {
  const { keepDays, keepBackups } = policy;
  if (keepDays === undefined && keepBackups === undefined) {
    throw new PitrError(
      'USAGE',
      'expire needs a policy: give --keep-days N (keep every point of the last N days restorable), ' +
        '--keep-backups N (keep the newest N backups), or both',
    );
  }
  if (keepDays !== undefined && !(Number.isFinite(keepDays) && keepDays >= 0)) {
    throw new PitrError('USAGE', `--keep-days ${keepDays} is not a number of days (0 or more)`);
  }
  if (keepBackups !== undefined && !(Number.isSafeInteger(keepBackups) && keepBackups >= 1)) {
    throw new PitrError(
      'USAGE',
      `--keep-backups ${keepBackups} is not a whole number of 1 or more (the newest backup is always kept)`,
    );
  }
}

/**
 * Decides what expire deletes. Pure: the same catalog, policy and `now` give the same plan.
 *
 * Rules:
 * - the newest complete backup is never deleted;
 * - a backup is kept when it is among the newest `keepBackups`, or started within `keepDays` of
 *   `now`, or is the newest backup started before that cutoff (so every point of the last
 *   `keepDays` days stays restorable); every other complete backup goes;
 * - binlog data is kept from the start of the binlog file that holds the oldest retained backup's
 *   position, on its timeline, onward, including every later timeline. A restore needs that whole
 *   file: its format description event, at offset 4, is needed to decode any event after it.
 *   Binlog files before it on that timeline go, with their gap records; earlier timelines go whole;
 * - when the oldest retained backup's position is not in the archive (the archiver has not reached
 *   it, or began after it), no binlog data goes: the plan cannot prove what is unneeded;
 * - folders without a manifest whose last write is older than `incompleteGraceMs` go;
 * - a folder whose manifest exists but cannot be read (damaged, newer format) is never deleted: it
 *   goes into `refused`, and a plan with refusals must not be carried out at all (the policy cannot
 *   know what that backup needs kept).
 *
 * @throws PitrError USAGE when the policy sets neither keepDays nor keepBackups, or a bad value
 */
export function planRetention(catalog: RetentionCatalog, policy: RetentionPolicy, now: Date): RetentionPlan {
  validate(policy);
  const nowMs = now.getTime();
  const grace = policy.incompleteGraceMs ?? DEFAULT_INCOMPLETE_GRACE_MS;
  const backups = [...catalog.backups].sort(byId);
  const notes: string[] = [];

  // --- which backups stay
  const reasons = new Map<string, string>();
  const keepIf = (b: BackupManifest | undefined, reason: string): void => {
    if (b && !reasons.has(b.id)) reasons.set(b.id, reason);
  };
  keepIf(backups.at(-1), 'the newest backup is always kept');
  if (policy.keepBackups !== undefined) {
    for (const b of backups.slice(-policy.keepBackups)) {
      keepIf(b, `one of the newest ${policy.keepBackups} (--keep-backups ${policy.keepBackups})`);
    }
  }
  if (policy.keepDays !== undefined) {
    const cutoff = nowMs - policy.keepDays * DAY_MS;
    const started = (b: BackupManifest): number => Date.parse(b.startedAt);
    for (const b of backups) {
      if (started(b) >= cutoff)
        keepIf(b, `started within ${policy.keepDays} days (--keep-days ${policy.keepDays})`);
    }
    keepIf(
      backups.filter((b) => started(b) < cutoff).at(-1),
      `the newest backup before the --keep-days ${policy.keepDays} cutoff ` +
        `(${new Date(cutoff).toISOString()}): restores to points just after the cutoff start from it`,
    );
  }
  const expireReason =
    [
      policy.keepDays !== undefined ? `not needed for the last ${policy.keepDays} days` : undefined,
      policy.keepBackups !== undefined ? `not among the newest ${policy.keepBackups}` : undefined,
    ]
      .filter((x) => x !== undefined)
      .join(' and ') || 'not retained';

  const keep: RetainedBackup[] = [];
  const expireBackups: ExpiredBackup[] = [];
  for (const b of backups) {
    const reason = reasons.get(b.id);
    if (reason !== undefined) {
      keep.push({
        id: b.id,
        startedAt: b.startedAt,
        reason,
        timeline: locateBackupTimeline(b, catalog.timelines),
      });
    } else {
      expireBackups.push({
        id: b.id,
        startedAt: b.startedAt,
        manifestKey: backupManifestKey(b.id),
        dataKeys: backupObjects(b).map((o) => o.key),
        reason: expireReason,
      });
    }
  }

  // --- incomplete backups past the grace period
  const expireIncomplete: ExpiredIncompleteBackup[] = [];
  const refused: RefusedObject[] = [];
  for (const i of [...catalog.incomplete].sort(byId)) {
    if (i.unreadable) {
      refused.push({ id: i.id, key: i.unreadable.key, code: i.unreadable.code, reason: i.reason });
      continue;
    }
    const times = [backupIdTime(i.id)?.getTime() ?? 0, ...i.objects.map((o) => o.lastModified.getTime())];
    const lastWrite = Math.max(...times);
    if (nowMs - lastWrite < grace) continue;
    const manifest = backupManifestKey(i.id);
    const keys = i.objects.map((o) => o.key).sort((a, b) => (a === manifest ? -1 : b === manifest ? 1 : 0));
    expireIncomplete.push({
      id: i.id,
      keys,
      reason: `${i.reason}; last written ${new Date(lastWrite).toISOString()}, more than ${Math.round(grace / 3_600_000)} h ago`,
    });
  }

  // --- binlogs
  const expireBinlogs: ExpiredBinlogs[] = [];
  let keepBinlogsFrom: RetentionPlan['keepBinlogsFrom'];
  let windowStart: RestorableStart | undefined;
  const anchor = keep[0];
  const anchorManifest = anchor ? backups.find((b) => b.id === anchor.id)! : undefined;
  const archived = catalog.timelines.some((t) => t.segments.length > 0);
  if (anchor && anchorManifest) {
    windowStart = {
      backup: anchor.id,
      timeline: anchor.timeline,
      file: anchorManifest.binlog.file,
      position: anchorManifest.binlog.position,
      time: anchorManifest.finishedAt,
    };
  }
  if (!anchor || !anchorManifest) {
    if (archived)
      notes.push('no complete backup: archived binlogs are kept (nothing can be restored without a backup)');
  } else if (anchor.timeline === undefined) {
    if (archived) {
      notes.push(
        `the oldest retained backup ${anchor.id} is at ${anchorManifest.binlog.file}:${anchorManifest.binlog.position}, ` +
          'which no timeline of the archive holds (the archiver has not reached it, or began after it): ' +
          'no binlog data is deleted. Check `mysql-pitr status` and `mysql-pitr verify`',
      );
    }
  } else {
    const keepTimeline = anchor.timeline;
    const keepFile = anchorManifest.binlog.file;
    keepBinlogsFrom = { timeline: keepTimeline, file: keepFile, position: 0 };
    for (const t of catalog.timelines) {
      if (t.id > keepTimeline) continue;
      const whole = t.id < keepTimeline;
      // Segments a compacted object covers (left by an interrupted `binlog compact`) go first: they
      // are redundant, and deleting the compacted object before them would bring them back into view.
      const segments = [...(t.covered ?? []), ...t.segments]
        .filter((s) => whole || compareBinlogFiles(s.file, keepFile) < 0)
        .map((s) => ({ key: s.key, file: s.file, start: s.start, end: s.header?.end, size: s.size }));
      const gaps = t.gaps.filter((g) => whole || compareBinlogFiles(g.file, keepFile) < 0);
      const recordKey = whole && t.record ? timelineKey(t.id) : undefined;
      if (segments.length === 0 && gaps.length === 0 && recordKey === undefined) continue;
      expireBinlogs.push({
        timeline: t.id,
        whole,
        segments,
        gapKeys: gaps.map((g) => gapKey(t.id, g.file)),
        recordKey,
        reason: whole
          ? `timeline ${t.id} ends before timeline ${keepTimeline} of the oldest retained backup ${anchor.id}`
          : `before ${keepFile}, the binlog file of the oldest retained backup ${anchor.id} ` +
            `(${keepFile}:${anchorManifest.binlog.position})`,
      });
    }
  }

  return {
    now: now.toISOString(),
    keep,
    expireBackups,
    expireIncomplete,
    expireBinlogs,
    keepBinlogsFrom,
    windowStart,
    notes,
    refused,
  };
}
