// ERR_Packet: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
//   1 header 0xff, 2 error_code, then (with CLIENT_PROTOCOL_41) '#' + 5-byte sql_state, then the message.
import type { ServerErrorInfo } from './mysql-server-error.js';

/** First payload byte of an OK packet (and of every binlog event packet). */
export const OK_HEADER = 0x00;
/** First payload byte of an EOF packet (end of a non-blocking binlog dump). */
export const EOF_HEADER = 0xfe;
/** First payload byte of an ERR packet. */
export const ERR_HEADER = 0xff;
/** The '#' marker before the SQLSTATE. */
const SQL_STATE_MARKER = 0x23;

/** An Error that carries the server's errno, sqlState and sqlMessage, like mysql2's own. */
export type ServerError = Error & ServerErrorInfo;

/** Decodes an ERR packet payload into an Error carrying errno, sqlState and sqlMessage. */
export function decodeErrPacket(payload: Buffer): ServerError {
  const errno = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
  let offset = 3;
  let sqlState = '';
  if (payload[offset] === SQL_STATE_MARKER && payload.length >= offset + 6) {
    sqlState = payload.toString('latin1', offset + 1, offset + 6);
    offset += 6;
  }
  const sqlMessage = payload.toString('utf8', Math.min(offset, payload.length));
  return Object.assign(new Error(sqlMessage), { errno, sqlState, sqlMessage });
}
