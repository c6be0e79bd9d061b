// BINLOG_CHECKPOINT_EVENT (type 161, MariaDB 10.0+): the oldest binlog file crash recovery may need.
// https://mariadb.com/kb/en/binlog_checkpoint_event/
//
// Post-header (4): file name length uint32. Body: the file name.

import type { BinlogEvent } from './binlog-event.js';

/** Decoded BINLOG_CHECKPOINT_EVENT. */
export interface BinlogCheckpointEventData {
  kind: 'binlog-checkpoint';
  /** Binlog file name, e.g. `mysql-bin.000003`. */
  file: string;
}

/** @throws CorruptDataError when the name runs past the body */
export function decodeBinlogCheckpointEvent(event: BinlogEvent): BinlogCheckpointEventData {
  const r = event.bodyReader('BINLOG_CHECKPOINT event');
  return { kind: 'binlog-checkpoint', file: r.string(r.u32()) };
}
