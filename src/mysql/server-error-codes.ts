// Server error numbers this module gives advice for.
// MySQL:   https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html
// MariaDB: https://mariadb.com/kb/en/mariadb-error-code-reference/

/** ER_CON_COUNT_ERROR: too many connections. */
export const ER_CON_COUNT_ERROR = 1040;
/** ER_DBACCESS_DENIED_ERROR: access denied to a database. */
export const ER_DBACCESS_DENIED_ERROR = 1044;
/** ER_ACCESS_DENIED_ERROR: wrong user name or password (or no account for this host). */
export const ER_ACCESS_DENIED_ERROR = 1045;
/** ER_UNKNOWN_COM_ERROR: the server does not know the command (e.g. COM_BINLOG_DUMP_GTID on MariaDB). */
export const ER_UNKNOWN_COM_ERROR = 1047;
/** ER_SERVER_SHUTDOWN: the server is shutting down. */
export const ER_SERVER_SHUTDOWN = 1053;
/** ER_HOST_IS_BLOCKED: too many connection errors from this host. */
export const ER_HOST_IS_BLOCKED = 1129;
/** ER_HOST_NOT_PRIVILEGED: no account for this client host. */
export const ER_HOST_NOT_PRIVILEGED = 1130;
/** ER_SPECIFIC_ACCESS_DENIED_ERROR: a privilege such as REPLICATION SLAVE is missing. */
export const ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;
/** ER_MASTER_FATAL_ERROR_READING_BINLOG: the source cannot send the requested binlog. */
export const ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;
/** ER_ACCESS_DENIED_NO_PASSWORD_ERROR: MariaDB unix_socket/MySQL auth_socket account used over TCP. */
export const ER_ACCESS_DENIED_NO_PASSWORD_ERROR = 1698;
/**
 * ER_SLAVE_SAME_ID (MariaDB 10.4+): a replica with this server_id is already connected, so the
 * source refuses the new dump. (MySQL instead drops the older connection.)
 */
export const ER_SLAVE_SAME_ID = 4052;
/** ER_MASTER_HAS_PURGED_REQUIRED_GTIDS (MySQL): the GTIDs the replica needs were purged. */
export const ER_MASTER_HAS_PURGED_REQUIRED_GTIDS = 1789;
