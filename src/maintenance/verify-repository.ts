import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  backupObjects,
  checkFileIndexes,
  findDivergedHistories,
  type DivergedHistory,
  mapLimit,
  readBackupCatalog,
  readBinlogCatalog,
  readSegmentHeader,
  timelineLink,
  verifySegmentBody,
  type BackupManifest,
  type IncompleteBackup,
  type ManifestObject,
} from '../catalog/index.js';
import { isPitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  checkChain,
  headedTimelines,
  type CheckedBackup,
  type CheckedSegment,
  type ChainRun,
  type RestorableWindow,
  type SourceRestart,
  type ExpireLeftover,
  type UnrestorableInterval,
  type VerifyProblem,
} from './verify-chain.js';

/** Error codes that mean the object's bytes are bad (not that storage failed). */
const DAMAGE_CODES = ['CORRUPT_DATA', 'TRUNCATED_DATA', 'CHECKSUM_MISMATCH'] as const;

/** Options of verifyRepository. */
export interface VerifyOptions {
  /** Objects checked in parallel (default 4). Each is streamed: memory stays bounded. */
  concurrency?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What verify found. */
export interface VerifyReport {
  /** The repository, for messages. */
  repository: string;
  /** True when there is no problem. */
  ok: boolean;
  problems: VerifyProblem[];
  /** Files ended by a source crash and restart: information, restores go on to the next file. */
  restarts: SourceRestart[];
  /** First files an interrupted `expire` left partly deleted, before every backup: information. */
  expireLeftovers: ExpireLeftover[];
  /**
   * Warnings, not problems: transactions a timeline's parent holds after the fork that the later
   * timeline lacks (lost in a failover, or errant on a returning old primary). The repository is
   * sound and restores on the later timeline are exact for its history; `ok` does not depend on them.
   */
  diverged: DivergedHistory[];
  /** Restorable windows, per timeline (going on through the timelines linked to it across failovers). */
  windows: RestorableWindow[];
  /** Intervals between the first and the newest archived commit that no restore can reach, with why. */
  unrestorable: UnrestorableInterval[];
  /** Sound, contiguous stretches of each timeline. */
  runs: ChainRun[];
  backups: { id: string; ok: boolean; binlog: string; finishedAt: string }[];
  /** Folders without a manifest (never used for a restore; expire removes them after a grace period). */
  incomplete: { id: string; reason: string }[];
  segments: { checked: number; ok: number; bytes: number };
}

/** Hashes and counts a stream without keeping it. */
function digestSink(): { sink: Writable; result: () => { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  return { sink, result: () => ({ sha256: hash.digest('hex'), bytes }) };
}

async function checkBackup(store: ObjectStore, m: BackupManifest): Promise<VerifyProblem | undefined> {
  for (const o of backupObjects(m)) {
    const problem = await checkBackupObject(store, m, o);
    if (problem) return problem;
  }
  return undefined;
}

async function checkBackupObject(
  store: ObjectStore,
  m: BackupManifest,
  o: ManifestObject,
): Promise<VerifyProblem | undefined> {
  const key = o.key;
  try {
    const { sink, result } = digestSink();
    await pipeline(await store.getStream(key), sink);
    const got = result();
    if (got.bytes !== o.size || got.sha256 !== o.sha256) {
      return {
        kind: 'backup-checksum',
        severity: 'data',
        object: key,
        backup: m.id,
        message:
          `backup ${m.id}: ${key} is ${got.bytes} bytes with SHA-256 ${got.sha256}, its manifest records ` +
          `${o.size} bytes and ${o.sha256}: the object is damaged. Do not restore from it; take a new backup`,
      };
    }
    return undefined;
  } catch (err) {
    if (isPitrError(err, 'OBJECT_NOT_FOUND')) {
      return {
        kind: 'backup-object-missing',
        severity: 'data',
        object: key,
        backup: m.id,
        message:
          `backup ${m.id}: its manifest exists but ${key} does not: the backup cannot be restored. ` +
          'Take a new backup; then `mysql-pitr expire` removes this one once the policy allows',
      };
    }
    throw err;
  }
}

async function checkSegment(
  store: ObjectStore,
  seg: { key: string; timeline: string; file: string; start: number },
): Promise<{ checked: CheckedSegment; problem?: VerifyProblem; bytes: number }> {
  const base = { key: seg.key, file: seg.file, start: seg.start };
  const corrupt = (detail: string, header: CheckedSegment['header']): ReturnType<typeof checkSegment> =>
    Promise.resolve({
      checked: { ...base, header, ok: false },
      bytes: 0,
      problem: {
        kind: 'segment-corrupt',
        severity: 'data',
        object: seg.key,
        timeline: seg.timeline,
        file: seg.file,
        offset: seg.start,
        message:
          `segment ${seg.key} (timeline ${seg.timeline} ${seg.file} @ ${seg.start}) is damaged: ${detail}. ` +
          'No restore can cross it: restore the object from a copy, or re-archive the file from the source if it ' +
          'still has it (delete the object and run `mysql-pitr archive`); otherwise take a new backup now',
      },
    });
  let header: CheckedSegment['header'];
  let frameLength: number;
  try {
    ({ header, frameLength } = await readSegmentHeader(store, seg.key));
  } catch (err) {
    if (isPitrError(err, 'OBJECT_NOT_FOUND')) {
      // deleted while we looked (a concurrent expire): the chain check treats it as absent
      return corrupt('it disappeared while being verified (a concurrent expire?)', undefined);
    }
    if (DAMAGE_CODES.some((c) => isPitrError(err, c))) return corrupt(messageOf(err), undefined);
    throw err;
  }
  if (header.timeline !== seg.timeline || header.file !== seg.file || header.start !== seg.start) {
    return corrupt(
      `its header says ${header.timeline}/${header.file} @ ${header.start}, not what its key says`,
      undefined,
    );
  }
  try {
    const bytes = await verifySegmentBody(
      await store.getStream(seg.key, { start: frameLength }),
      header,
      seg.key,
      {
        advice: '',
      },
    );
    return { checked: { ...base, header, ok: true }, bytes };
  } catch (err) {
    if (isPitrError(err, 'OBJECT_NOT_FOUND')) return corrupt('it disappeared while being verified', header);
    if (DAMAGE_CODES.some((c) => isPitrError(err, c))) return corrupt(messageOf(err), header);
    throw err;
  }
}

/**
 * Verifies a whole repository: every complete backup's dump object (streamed and hashed against the
 * manifest's size and SHA-256), every binlog segment (header, then the decompressed bytes against
 * the header's length and SHA-256), and the chain (`checkChain`): contiguous offsets within each
 * file, the file sequence (holes not explained by a gap record), and that each backup rolls
 * forward to the end of its timeline. Computes the restorable windows. Reads everything and
 * reports every problem; it throws only when the repository cannot be read at all.
 *
 * @throws StorageError for storage failures (access denied, unavailable...)
 */
export async function verifyRepository(store: ObjectStore, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const log = opts.logger ?? silentLogger;
  const limit = opts.concurrency ?? 4;
  const [backupCatalog, binlogCatalog] = await Promise.all([
    readBackupCatalog(store),
    readBinlogCatalog(store),
  ]);
  const problems: VerifyProblem[] = [];
  // A manifest that exists but cannot be read may be a complete backup: never "ignored".
  for (const i of backupCatalog.incomplete) {
    if (!i.unreadable) continue;
    problems.push({
      kind: 'backup-manifest-unreadable',
      severity: 'data',
      object: i.unreadable.key,
      backup: i.id,
      message:
        `backup ${i.id}: its manifest ${i.unreadable.key} cannot be read (${i.reason}). The backup is not used ` +
        'for restores and expire refuses to run until this is resolved: upgrade mysql-pitr if a newer one wrote ' +
        'it, restore the manifest from a copy, or move the folder aside once it is not needed',
    });
  }

  const backupProblems = await mapLimit(backupCatalog.complete, limit, (m) => checkBackup(store, m));
  const checkedBackups: CheckedBackup[] = backupCatalog.complete.map((manifest, i) => {
    const p = backupProblems[i];
    if (p) problems.push(p);
    return { manifest, ok: p === undefined };
  });
  log.info('backups verified', {
    backups: checkedBackups.length,
    damaged: checkedBackups.filter((b) => !b.ok).length,
  });

  let checkedCount = 0;
  let okCount = 0;
  let bytes = 0;
  const timelines = [];
  for (const t of binlogCatalog.timelines) {
    const results = await mapLimit(t.segments, limit, async (s) => {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      return checkSegment(store, s);
    });
    for (const r of results) {
      checkedCount += 1;
      if (r.checked.ok) okCount += 1;
      bytes += r.bytes;
      if (r.problem) problems.push(r.problem);
    }
    timelines.push({ id: t.id, record: t.record, segments: results.map((r) => r.checked), gaps: t.gaps });
    log.info('timeline verified', { timeline: t.id, segments: results.length });
  }

  // the per-file indexes: readable, and agreeing with the headers just read (readers trust them)
  const sizes = new Map(
    binlogCatalog.timelines.flatMap((t) => t.segments.map((s) => [s.key, s.size] as const)),
  );
  const read = new Map(
    timelines.flatMap((t) =>
      t.segments.map((s) => [s.key, { size: sizes.get(s.key) ?? -1, header: s.header }] as const),
    ),
  );
  for (const f of await checkFileIndexes(store, binlogCatalog.fileIndexes ?? [], read, limit)) {
    problems.push({
      kind: f.kind === 'mismatch' ? 'index-mismatch' : 'index-unreadable',
      severity: 'data',
      object: f.key,
      timeline: f.timeline,
      file: f.file,
      message: f.message,
    });
  }

  // how each timeline continues the one before it (by the same rule as restore planning)
  const headed = headedTimelines(timelines, false);
  const chain = checkChain(
    timelines.map((t, i) => {
      const r = timelineLink(headed, headed[i]!);
      return {
        ...t,
        ...(r && 'link' in r ? { link: r.link } : {}),
        ...(r && 'break' in r ? { break: r.break } : {}),
      };
    }),
    checkedBackups,
  );
  problems.push(...chain.problems);
  if (checkedBackups.length === 0) {
    problems.push({
      kind: 'no-backup',
      severity: 'chain',
      message:
        `${store.describe()} holds no complete backup: nothing can be restored from it. Check the --repo URL; ` +
        'take a backup with `mysql-pitr backup create` (while `mysql-pitr archive` runs)',
    });
  }
  return {
    repository: store.describe(),
    ok: problems.length === 0,
    problems,
    restarts: chain.restarts,
    expireLeftovers: chain.expireLeftovers,
    diverged: findDivergedHistories(headed),
    windows: chain.windows,
    unrestorable: chain.unrestorable,
    runs: chain.runs,
    backups: checkedBackups.map((b) => ({
      id: b.manifest.id,
      ok: b.ok,
      binlog: `${b.manifest.binlog.file}:${b.manifest.binlog.position}`,
      finishedAt: b.manifest.finishedAt,
    })),
    incomplete: backupCatalog.incomplete.map((i: IncompleteBackup) => ({ id: i.id, reason: i.reason })),
    segments: { checked: checkedCount, ok: okCount, bytes },
  };
}
