import { PitrError } from './pitr-error.js';

/**
 * A binlog file encrypted at rest, which this reader cannot decrypt:
 * - `mysql`: MySQL 8.0.14+ with `binlog_encryption=ON`: the file starts with the magic `\xfdbin`
 *   and a 512-byte encryption header instead of `\xfebin`;
 * - `mariadb`: MariaDB 10.1.7+ with `encrypt_binlog=ON`: a START_ENCRYPTION_EVENT follows the
 *   FORMAT_DESCRIPTION_EVENT and every later event is encrypted.
 * Shared by src/binlog (the parser) and src/binlog-file (the file reader).
 */
export class BinlogEncryptedError extends PitrError {
  /** The file or stream name. */
  readonly object: string;
  /** Offset of the encryption header (0) or of the START_ENCRYPTION_EVENT. */
  readonly offset: number;
  /** Which server's encryption scheme the file uses. */
  readonly flavor: 'mysql' | 'mariadb';

  constructor(object: string, offset: number, flavor: 'mysql' | 'mariadb', options?: ErrorOptions) {
    const how =
      flavor === 'mysql'
        ? 'it starts with the magic 0xfd62696e of a MySQL 8.0.14+ encrypted binlog (binlog_encryption=ON)'
        : 'it holds a START_ENCRYPTION_EVENT (MariaDB encrypt_binlog=ON); the events after it are encrypted';
    super(
      'BINLOG_ENCRYPTED',
      `encrypted binlog: not supported: ${object} at offset ${offset}: ${how}. The file is not corrupt, ` +
        "but it cannot be read without the server's keyring. Read it through the server instead: the " +
        'replication stream (`mysql-pitr archive`, `mysqlbinlog`/`mariadb-binlog --read-from-remote-server`) ' +
        'carries decrypted events.',
      options,
    );
    this.object = object;
    this.offset = offset;
    this.flavor = flavor;
  }
}
