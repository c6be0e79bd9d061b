import { PitrError } from '../errors/index.js';

/**
 * The bytes are a well-formed binlog this reader cannot use: an unsupported binlog version, an
 * unknown checksum algorithm, a file that does not start with the binlog magic.
 */
export class BinlogFormatError extends PitrError {
  /** The file or stream name. */
  readonly object: string;
  /** Byte offset of the offending event or header, when known. */
  readonly offset: number | undefined;

  constructor(object: string, offset: number | undefined, detail: string, options?: ErrorOptions) {
    super(
      'BINLOG_FORMAT',
      `unsupported binlog format in ${object}${offset === undefined ? '' : ` at offset ${offset}`}: ${detail}. ` +
        'Check that this is a binary log of a supported server (MySQL 5.5+ or MariaDB 10+).',
      options,
    );
    this.object = object;
    this.offset = offset;
  }
}
