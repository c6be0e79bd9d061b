import {
  readBinlogCatalog,
  readSegmentHeader,
  type BinlogGap,
  type TimelineRecord,
} from '../catalog/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readLease, type LeaseRecord } from './lease.js';

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
  timelines: number;
  /** The archiver lease, if any, and whether it is still valid. */
  lease: (LeaseRecord & { valid: boolean }) | undefined;
}

/**
 * Reads the archive's state: the last durable position and commit time of the newest timeline,
 * gaps, and the lease holder. Reads one segment header, not all.
 *
 * @throws StorageError for storage failures; CorruptDataError for a damaged header or record
 */
export async function readArchiveStatus(
  store: ObjectStore,
  now: number = Date.now(),
): Promise<ArchiveStatus> {
  const catalog = await readBinlogCatalog(store);
  const withSegments = catalog.timelines.filter((t) => t.segments.length > 0);
  const t = withSegments.at(-1) ?? catalog.timelines.at(-1);
  let lastDurable: ArchiveStatus['lastDurable'];
  const lastSeg = t?.segments.at(-1);
  if (lastSeg) {
    const { header } = await readSegmentHeader(store, lastSeg.key);
    // the last segment may end no transaction (a split, a rotation); find the last commit nearby
    let lastCommit = header.lastCommit;
    for (let i = t!.segments.length - 2; lastCommit === null && i >= 0 && i >= t!.segments.length - 10; i--) {
      lastCommit = (await readSegmentHeader(store, t!.segments[i]!.key)).header.lastCommit;
    }
    lastDurable = {
      file: header.file,
      position: header.end,
      closesFile: header.closesFile,
      lastCommit,
      storedAt: lastSeg.lastModified.toISOString(),
      lagSeconds: lastCommit ? Math.max(0, (now - Date.parse(lastCommit)) / 1000) : undefined,
    };
  }
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
    timelines: catalog.timelines.length,
    lease: lease ? { ...lease, valid: Date.parse(lease.expiresAt) >= now } : undefined,
  };
}
