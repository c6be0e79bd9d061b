// Replication commands a replica sends to its source, as client->server packet payloads.
// MySQL:   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html
//          (COM_REGISTER_SLAVE, COM_BINLOG_DUMP, COM_BINLOG_DUMP_GTID)
// MariaDB: https://mariadb.com/kb/en/com_binlog_dump/ and https://mariadb.com/kb/en/com_register_slave/
//
// All integers are little-endian. A payload here is what follows the 4-byte packet header.

/** Command byte of COM_BINLOG_DUMP (dump from a file name and a 4-byte position). */
export const COM_BINLOG_DUMP = 0x12;
/** Command byte of COM_REGISTER_SLAVE (announce this replica to the source). */
export const COM_REGISTER_SLAVE = 0x15;
/** Command byte of COM_BINLOG_DUMP_GTID (MySQL 5.6+: 8-byte position and/or a GTID set). */
export const COM_BINLOG_DUMP_GTID = 0x1e;

/** COM_BINLOG_DUMP flag: send an EOF packet at the end of the last binlog instead of waiting for more. */
export const BINLOG_DUMP_NON_BLOCK = 0x01;
/**
 * MariaDB COM_BINLOG_DUMP flag: send ANNOTATE_ROWS events as they are in the file. Without it the
 * source leaves them out and the copy is not byte-identical.
 */
export const BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
/** MySQL COM_BINLOG_DUMP_GTID flag: the file name and position are used (not only the GTID set). */
export const BINLOG_THROUGH_POSITION = 0x02;
/** MySQL COM_BINLOG_DUMP_GTID flag: a GTID set follows (data-size and data fields are present). */
export const BINLOG_THROUGH_GTID = 0x04;

/** Largest position COM_BINLOG_DUMP can express (its position field is 4 bytes). */
export const MAX_DUMP_POSITION = 0xffffffff;

/** Fields of COM_REGISTER_SLAVE; the strings are what SHOW SLAVE HOSTS displays. */
export interface RegisterReplicaFields {
  serverId: number;
  hostname?: string;
  user?: string;
  password?: string;
  port?: number;
}

function lengthPrefixed(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) throw new RangeError(`COM_REGISTER_SLAVE ${field} is longer than 255 bytes`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/**
 * COM_REGISTER_SLAVE payload:
 *   1 command, 4 server_id, 1+n hostname, 1+n user, 1+n password, 2 port, 4 replication_rank (0), 4 master_id (0)
 */
export function encodeRegisterReplica(fields: RegisterReplicaFields): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(COM_REGISTER_SLAVE, 0);
  head.writeUInt32LE(fields.serverId >>> 0, 1);
  const tail = Buffer.alloc(10);
  tail.writeUInt16LE(fields.port ?? 0, 0);
  tail.writeUInt32LE(0, 2); // replication rank: ignored by the server
  tail.writeUInt32LE(0, 6); // master id: filled in by the server
  return Buffer.concat([
    head,
    lengthPrefixed(fields.hostname ?? '', 'hostname'),
    lengthPrefixed(fields.user ?? '', 'user'),
    lengthPrefixed(fields.password ?? '', 'password'),
    tail,
  ]);
}

/** Fields of COM_BINLOG_DUMP. */
export interface BinlogDumpFields {
  /** Binlog file name (ASCII), e.g. 'mysql-bin.000042'. */
  file: string;
  /** Start offset in the file; 4 is the first event. Must fit in 4 bytes. */
  position: number;
  /** BINLOG_DUMP_NON_BLOCK | BINLOG_SEND_ANNOTATE_ROWS_EVENT. */
  flags: number;
  /** The replica's server_id (must differ from the source's and from other replicas'). */
  serverId: number;
}

/**
 * COM_BINLOG_DUMP payload:
 *   1 command, 4 binlog_pos, 2 flags, 4 server_id, string[EOF] binlog filename
 */
export function encodeBinlogDump(fields: BinlogDumpFields): Buffer {
  if (!Number.isInteger(fields.position) || fields.position < 0 || fields.position > MAX_DUMP_POSITION) {
    throw new RangeError(
      `COM_BINLOG_DUMP cannot start at position ${fields.position}: the field is 4 bytes (max ${MAX_DUMP_POSITION})`,
    );
  }
  const name = Buffer.from(fields.file, 'latin1');
  const buf = Buffer.alloc(11 + name.length);
  buf.writeUInt8(COM_BINLOG_DUMP, 0);
  buf.writeUInt32LE(fields.position, 1);
  buf.writeUInt16LE(fields.flags, 5);
  buf.writeUInt32LE(fields.serverId >>> 0, 7);
  name.copy(buf, 11);
  return buf;
}

/** Fields of COM_BINLOG_DUMP_GTID (MySQL only). */
export interface BinlogDumpGtidFields {
  file: string;
  /** 8-byte position. */
  position: number;
  flags: number;
  serverId: number;
  /** The encoded GTID set (Gtid_set::encode); sent only with BINLOG_THROUGH_GTID (default: empty set). */
  gtidSet?: Buffer;
}

/**
 * COM_BINLOG_DUMP_GTID payload (MySQL 5.6+):
 *   1 command, 2 flags, 4 server_id, 4 name length, n name, 8 position,
 *   and only when flags has BINLOG_THROUGH_GTID: 4 data size, n encoded GTID set
 */
export function encodeBinlogDumpGtid(fields: BinlogDumpGtidFields): Buffer {
  if (!Number.isSafeInteger(fields.position) || fields.position < 0) {
    throw new RangeError(`COM_BINLOG_DUMP_GTID cannot start at position ${fields.position}`);
  }
  const name = Buffer.from(fields.file, 'latin1');
  const withSet = (fields.flags & BINLOG_THROUGH_GTID) !== 0;
  // An empty encoded GTID set is 8 bytes: n_sids = 0.
  const set = withSet ? (fields.gtidSet ?? Buffer.alloc(8)) : Buffer.alloc(0);
  const buf = Buffer.alloc(1 + 2 + 4 + 4 + name.length + 8 + (withSet ? 4 + set.length : 0));
  let o = 0;
  o = buf.writeUInt8(COM_BINLOG_DUMP_GTID, o);
  o = buf.writeUInt16LE(fields.flags, o);
  o = buf.writeUInt32LE(fields.serverId >>> 0, o);
  o = buf.writeUInt32LE(name.length, o);
  o += name.copy(buf, o);
  o = buf.writeBigUInt64LE(BigInt(fields.position), o);
  if (withSet) {
    o = buf.writeUInt32LE(set.length, o);
    set.copy(buf, o);
  }
  return buf;
}
