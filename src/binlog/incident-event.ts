// INCIDENT_EVENT (type 26): the source lost events here. It writes one when it could not log what
// a statement changed (the binary log cache overflowed on a non-transactional table, a write error),
// so the binlog no longer holds everything the source did; a replica stops on it.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Incident__event.html
// https://mariadb.com/kb/en/incident_event/ (Incident_log_event in sql/log_event.h)
//
// Post-header: incident number uint16. Body: message length (packed integer), message (up to the end).

import type { BinlogEvent } from './binlog-event.js';

/** Incident numbers (enum Incident in both servers). */
export const Incident = {
  /** No incident (never written). */
  NONE: 0,
  /** Events were lost: the binlog is missing changes the source made. */
  LOST_EVENTS: 1,
} as const;

const INCIDENT_NAMES = new Map<number, string>(Object.entries(Incident).map(([name, n]) => [n, name]));

/** Decoded INCIDENT_EVENT. */
export interface IncidentEventData {
  kind: 'incident';
  /** The incident number (1 = LOST_EVENTS). */
  incident: number;
  /** `LOST_EVENTS`, or `INCIDENT_<n>` for a number this reader does not know. */
  incidentName: string;
  /** The source's message, e.g. `error writing to the binary log`; '' when it wrote none. */
  message: string;
}

/** @throws CorruptDataError when the body is shorter than its incident number or message length */
export function decodeIncidentEvent(event: BinlogEvent): IncidentEventData {
  const r = event.bodyReader('INCIDENT event');
  const incident = r.u16();
  const length = r.remaining > 0 ? r.packedInt('message length') : 0;
  const message = r.string(length);
  return {
    kind: 'incident',
    incident,
    incidentName: INCIDENT_NAMES.get(incident) ?? `INCIDENT_${incident}`,
    message,
  };
}
