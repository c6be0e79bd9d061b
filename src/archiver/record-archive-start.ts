import { hostname } from 'node:os';

import {
  TIMELINE_FORMAT,
  gapKey,
  serializeBinlogGap,
  serializeTimelineRecord,
  timelineKey,
  type TimelineRecord,
} from '../catalog/index.js';
import type { Logger } from '../log/index.js';
import type { SourceFacts } from '../mysql/index.js';
import { PreconditionFailedError, type ObjectStore } from '../storage/index.js';
import type { ArchiveStartPlan } from './archive-start-plan.js';
import { identityOf } from './source-state.js';

/** What {@link recordArchiveStart} writes with. */
export interface RecordArchiveStartDeps {
  store: ObjectStore;
  logger: Logger;
  /** The source as printed (`mysql://repl@db1:3306`), for the records and messages. */
  address: string;
  /** The lease fence, called before each write; throws once the archiver may no longer write. */
  fence(what: string): void;
}

/**
 * Carries out the start of a session as planArchiveStart decided it: writes the new timeline's
 * record (put-if-absent), or a gap record for every file purged on the source before it was
 * archived (the first record of a gap stays), and logs it. Returns the timeline to stream into.
 *
 * @throws LeaseHeldError from the fence; PreconditionFailedError when the new timeline's record
 *   already exists (another archiver started it); StorageError when a record cannot be written
 */
export async function recordArchiveStart(
  plan: ArchiveStartPlan,
  facts: SourceFacts,
  deps: RecordArchiveStartDeps,
): Promise<string> {
  const { store, logger } = deps;
  if (plan.kind === 'new-timeline') {
    deps.fence('start a timeline');
    const record: TimelineRecord = {
      format: TIMELINE_FORMAT,
      timeline: plan.timeline,
      createdAt: new Date().toISOString(),
      source: { ...identityOf(facts), version: facts.version, address: deps.address },
      firstFile: plan.file,
      ...(plan.parent ? { parent: plan.parent } : {}),
      ...(plan.forkGtid ? { forkGtid: plan.forkGtid } : {}),
      startedBy: `archiver on ${hostname()} pid ${process.pid}`,
      reason: plan.reason,
    };
    await store.put(timelineKey(plan.timeline), Buffer.from(serializeTimelineRecord(record)), {
      ifAbsent: true,
      contentType: 'application/json',
    });
    const log = plan.parent ? logger.warn.bind(logger) : logger.info.bind(logger);
    log(`starting timeline ${plan.timeline}: ${plan.reason}`, {
      timeline: plan.timeline,
      file: plan.file,
      parent: plan.parent,
      forkGtid: plan.forkGtid,
    });
    return plan.timeline;
  }
  for (const gap of plan.gaps) {
    deps.fence('record a gap');
    await store
      .put(
        gapKey(plan.timeline, gap.file),
        Buffer.from(
          serializeBinlogGap({
            timeline: plan.timeline,
            file: gap.file,
            from: gap.from,
            resumedAt: plan.file,
            detectedAt: new Date().toISOString(),
            reason: `the source ${deps.address} no longer has ${gap.file} (purged before it was archived)`,
          }),
        ),
        { contentType: 'application/json', ifAbsent: true },
      )
      .catch((err: unknown) => {
        // recorded by an earlier run: the first record stays
        if (!(err instanceof PreconditionFailedError)) throw err;
      });
    logger.error(
      `binlog gap on timeline ${plan.timeline}: ${gap.file} from offset ${gap.from} was purged on the source before ` +
        'it was archived. Point-in-time restores cannot cross this gap: take a new full backup now',
      { timeline: plan.timeline, file: gap.file, from: gap.from },
    );
  }
  logger.debug('resume plan', { timeline: plan.timeline, detail: plan.detail });
  return plan.timeline;
}
