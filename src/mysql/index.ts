export { formatDefaultsFile } from './format-defaults-file.js';
export { type MysqlEndpoint } from './mysql-endpoint.js';
export { SYSTEM_SCHEMAS } from './system-schemas.js';
export { connectMysql, describeTarget, describeUrl, type MysqlConnectionOptions } from './connect-mysql.js';
export {
  readSourceFacts,
  parseServerVersion,
  versionAtLeast,
  grantsHaveReplicationSlave,
  type SourceFacts,
  type MysqlFlavor,
  type ServerVersion,
  type BinaryLogFile,
  type BinlogCoordinates,
  type SqlConnection,
} from './source-facts.js';
export {
  checkSourcePrerequisites,
  type PrerequisiteOptions,
  type PrerequisiteReport,
} from './check-source-prerequisites.js';
export {
  openBinlogStream,
  DEFAULT_REPLICA_SERVER_ID,
  MARIADB_SLAVE_CAPABILITY_GTID,
  type BinlogDumpOptions,
} from './open-binlog-stream.js';
export {
  BinlogStream,
  FIRST_EVENT_POSITION,
  type BinlogStreamEvent,
  type BinlogStreamEventKind,
  type BinlogStreamStats,
  type BinlogStreamOptions,
  type DumpSourceInfo,
  type StreamControl,
} from './binlog-stream.js';
export {
  encodeBinlogDump,
  encodeBinlogDumpGtid,
  encodeRegisterReplica,
  COM_BINLOG_DUMP,
  COM_BINLOG_DUMP_GTID,
  COM_REGISTER_SLAVE,
  BINLOG_DUMP_NON_BLOCK,
  BINLOG_SEND_ANNOTATE_ROWS_EVENT,
  BINLOG_THROUGH_POSITION,
  BINLOG_THROUGH_GTID,
  MAX_DUMP_POSITION,
  type BinlogDumpFields,
  type BinlogDumpGtidFields,
  type RegisterReplicaFields,
} from './replication-packets.js';
export { decodeErrPacket, type ServerError } from './err-packet.js';
export { toMysqlError, adviceFor, isServerErrorInfo, type MysqlErrorContext } from './to-mysql-error.js';
export * from './server-error-codes.js';
export { MysqlServerError, type ServerErrorInfo } from './mysql-server-error.js';
export { BinlogUnavailableError } from './binlog-unavailable-error.js';
export { MysqlConnectionError } from './mysql-connection-error.js';
export { MysqlPrerequisiteError, type SourcePrerequisite } from './mysql-prerequisite-error.js';
export {
  rawQuery,
  enableMultiStatements,
  SERVER_MORE_RESULTS_EXISTS,
  type RawQueryResult,
} from './raw-query.js';
export {
  TLS_MODES,
  loadTlsSettings,
  atLeastTlsMode,
  mysql2SslOptions,
  tlsClientArgs,
  tlsVerifies,
  probeClientToolFlavor,
  describeTls,
  type TlsMode,
  type TlsSettings,
  type TlsSettingsInput,
  type ClientToolFlavor,
} from './tls-settings.js';
export {
  TlsCertificateError,
  tlsCertificateProblem,
  toTlsCertificateError,
  type TlsCertificateProblem,
} from './tls-certificate-error.js';
export { clientEnvironment } from './client-environment.js';
