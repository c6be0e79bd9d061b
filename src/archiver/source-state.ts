import type { SourceIdentity } from '../catalog/index.js';
import type { SourceFacts } from '../mysql/index.js';
import type { SourceState } from './archive-start-plan.js';
import type { SourceSnapshot } from './source-port.js';

/** What planArchiveStart needs to know of the source, from what the source port read. Pure. */
export function sourceStateOf(facts: SourceSnapshot): SourceState {
  return {
    identity: identityOf(facts),
    binaryLogs: facts.binaryLogs ?? [],
    ...(facts.flavor === 'mariadb' ? { gtidBinlogPos: facts.gtidBinlogPos ?? '' } : {}),
    ...(facts.gtidBinlogState !== undefined ? { gtidBinlogState: facts.gtidBinlogState } : {}),
    ...(facts.fileStartGtidPos ? { fileStartGtidPos: facts.fileStartGtidPos } : {}),
    ...(facts.flavor === 'mysql' && facts.gtidMode === 'ON'
      ? { gtidExecuted: facts.gtidExecuted ?? '' }
      : {}),
  };
}

/** The identity recorded in timeline records. Pure. */
export function identityOf(facts: SourceFacts): SourceIdentity {
  return facts.flavor === 'mariadb'
    ? { flavor: 'mariadb', serverId: facts.serverId, gtidDomainId: facts.gtidDomainId ?? 0 }
    : {
        flavor: 'mysql',
        serverId: facts.serverId,
        ...(facts.serverUuid ? { serverUuid: facts.serverUuid } : {}),
      };
}
