import {
  findDivergedHistories,
  type DivergedHistory,
  readBackupCatalog,
  readBinlogCatalog,
  timelineLink,
  type TimelineBreak,
  type TimelineLink,
  summarizeTimeline,
  type BinlogGap,
  type TimelineRecord,
  type UnclosedFileVerdict,
} from '../catalog/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readLease, type LeaseRecord } from '../archiver/lease.js';
import {
  checkChain,
  type RestorableWindow,
  type UnrestorableInterval,
  type VerifyProblem,
} from './verify-chain.js';

/** What `mysql-pitr status` reports. */
export interface ArchiveStatus {
  repository: string;
  /** The newest timeline with segments (or the newest record), if any. */
  timeline: { id: string; record: TimelineRecord | undefined; segments: number; files: number } | undefined;
  /** Last durable position of that timeline. */
  lastDurable:
    | {
        file: string;
        position: number;
        closesFile: boolean;
        /** Commit time of the last archived transaction (ISO), null when the last segment ends none. */
        lastCommit: string | null;
        /** When the last segment was stored. */
        storedAt: string;
        /** now - lastCommit, seconds: an upper bound of the archive's lag behind the source. */
        lagSeconds: number | undefined;
      }
    | undefined;
  /** Gaps of every timeline. */
  gaps: BinlogGap[];
  /**
   * Files that ended without ROTATE while their timeline went on with another file, each judged by
   * judgeUnclosedFileEnd: `source-restarted` is information (the source crashed and restarted,
   * nothing is missing); `missing-tail` and `undecided` are breaks no restore can cross.
   */
  unclosedFiles: {
    timeline: string;
    file: string;
    end: number;
    verdict: UnclosedFileVerdict;
    evidence: string;
  }[];
  timelines: number;
  /** How timelines continue each other across failovers (by GTID), and where they do not. */
  links: TimelineLink[];
  breaks: TimelineBreak[];
  /**
   * Transactions a timeline's parent holds after the fork that the later timeline lacks (lost in a
   * failover, or errant on a returning old primary), from the segment headers: information, restores
   * on the later timeline never apply them.
   */
  diverged: DivergedHistory[];
  /**
   * Restorable windows across the whole chain, by the rule restore and verify use, from the segment
   * headers and manifests (checksums are not read: `mysql-pitr verify` does that).
   */
  windows: RestorableWindow[];
  /** Intervals no restore can reach, with the reason (for alarms: the newest commit not restorable). */
  unrestorable: UnrestorableInterval[];
  /**
   * Holes in the archive that no gap record explains, judged from the listing and the segment
   * headers: a missing segment or a whole missing binlog file, or overlapping segments.
   */
  holes: VerifyProblem[];
  /** The archiver lease, if any, and whether it is still valid. */
  lease: (LeaseRecord & { valid: boolean }) | undefined;
}

/**
 * Reads the archive's state: the last durable position and commit time of the newest timeline,
 * gaps, files ended by a source crash (or missing their tail), and the lease holder. Reads every
 * segment header (one small ranged GET each; `binlog compact` keeps their number down).
 *
 * @throws StorageError for storage failures; CorruptDataError for a damaged header or record
 */
/** Chain problems that mean bytes are missing from (or doubled in) the archive. */
const HOLE_KINDS: ReadonlySet<VerifyProblem['kind']> = new Set([
  'segment-missing',
  'file-missing',
  'segment-overlap',
]);

export async function readArchiveStatus(
  store: ObjectStore,
  now: number = Date.now(),
): Promise<ArchiveStatus> {
  // every header: crash ends are judged by the GTIDs on both sides of them
  const catalog = await readBinlogCatalog(store, { headers: true, concurrency: 16 });
  const withSegments = catalog.timelines.filter((t) => t.segments.length > 0);
  const t = withSegments.at(-1) ?? catalog.timelines.at(-1);
  let lastDurable: ArchiveStatus['lastDurable'];
  const lastSeg = t?.segments.at(-1);
  if (lastSeg?.header) {
    const header = lastSeg.header;
    // the last segment may end no transaction (a split, a rotation); find the last commit before it
    const lastCommit =
      [...t!.segments].reverse().find((s) => s.header?.lastCommit)?.header?.lastCommit ?? null;
    lastDurable = {
      file: header.file,
      position: header.end,
      closesFile: header.closesFile,
      lastCommit,
      storedAt: lastSeg.lastModified.toISOString(),
      lagSeconds: lastCommit ? Math.max(0, (now - Date.parse(lastCommit)) / 1000) : undefined,
    };
  }
  const unclosedFiles = catalog.timelines.flatMap((tl) =>
    summarizeTimeline(tl).files.flatMap((f) =>
      f.unclosedEnd ? [{ timeline: tl.id, file: f.file, end: f.end, ...f.unclosedEnd }] : [],
    ),
  );
  const linked = catalog.timelines.map((tl) => timelineLink(catalog.timelines, tl));
  const backups = await readBackupCatalog(store);
  const chain = checkChain(
    catalog.timelines.map((tl, i) => {
      const r = linked[i];
      return {
        id: tl.id,
        record: tl.record,
        gaps: tl.gaps,
        segments: tl.segments.map((s) => ({
          key: s.key,
          file: s.file,
          start: s.start,
          header: s.header,
          ok: !!s.header,
        })),
        ...(r && 'link' in r ? { link: r.link } : {}),
        ...(r && 'break' in r ? { break: r.break } : {}),
      };
    }),
    backups.complete.map((manifest) => ({ manifest, ok: true })),
  );
  const lease = await readLease(store);
  return {
    repository: store.describe(),
    timeline: t
      ? {
          id: t.id,
          record: t.record,
          segments: t.segments.length,
          files: new Set(t.segments.map((s) => s.file)).size,
        }
      : undefined,
    lastDurable,
    gaps: catalog.timelines.flatMap((x) => x.gaps),
    unclosedFiles,
    timelines: catalog.timelines.length,
    links: linked.flatMap((r) => (r && 'link' in r ? [r.link] : [])),
    breaks: linked.flatMap((r) => (r && 'break' in r ? [r.break] : [])),
    diverged: findDivergedHistories(catalog.timelines),
    windows: chain.windows,
    unrestorable: chain.unrestorable,
    holes: chain.problems.filter((p) => HOLE_KINDS.has(p.kind)),
    lease: lease ? { ...lease, valid: Date.parse(lease.expiresAt) >= now } : undefined,
  };
}
