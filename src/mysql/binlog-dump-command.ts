// COM_BINLOG_DUMP as a mysql2 command: after the request the source sends one packet per binlog
// event (0x00 then the event), an EOF packet (0xfe) at the end in non-blocking mode, or an ERR
// packet (0xff). https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_binlog_dump.html
// https://mariadb.com/kb/en/com_binlog_dump/
import { EOF_HEADER, ERR_HEADER, OK_HEADER, decodeErrPacket, type ServerError } from './err-packet.js';
import {
  outgoingPacket,
  type Mysql2Command,
  type Mysql2CoreConnection,
  type Mysql2Packet,
} from './mysql2-internals.js';

/** Where the dump command delivers what it receives. */
export interface BinlogDumpSink {
  /**
   * One event (header, body, checksum): a view of the packet's bytes. mysql2 reuses the packet
   * object but not the bytes (each socket read is a fresh buffer; multi-packet payloads are
   * concatenated into a new one), so the view stays valid.
   */
  onEvent(event: Buffer): void;
  /** EOF: the non-blocking dump reached the end of the last binlog. */
  onEnd(): void;
  /** An ERR packet from the server. */
  onServerError(err: ServerError): void;
  /** Anything else: a broken connection or a packet that is none of the above. */
  onFailure(err: Error): void;
}

/** Sends a COM_BINLOG_DUMP (or COM_BINLOG_DUMP_GTID) payload, then streams what comes back to `sink`. */
export class BinlogDumpCommand implements Mysql2Command {
  private started = false;
  private finished = false;

  constructor(
    private readonly payload: Buffer,
    private readonly sink: BinlogDumpSink,
  ) {}

  execute(packet: Mysql2Packet | undefined, connection: Mysql2CoreConnection): boolean {
    if (!this.started) {
      this.started = true;
      connection._resetSequenceId();
      connection.writePacket(outgoingPacket(this.payload));
      return false;
    }
    if (!packet) return false;
    const { buffer, offset, end } = packet;
    if (buffer[offset] === OK_HEADER) {
      // the hot path: one view per event, no intermediate slice
      this.sink.onEvent(buffer.subarray(offset + 1, end));
      return false;
    }
    const payload = buffer.subarray(offset, end);
    switch (payload[0]) {
      case EOF_HEADER:
        this.finished = true;
        this.sink.onEnd();
        return true;
      case ERR_HEADER:
        this.finished = true;
        this.sink.onServerError(decodeErrPacket(payload));
        return true;
      default:
        this.finished = true;
        this.sink.onFailure(
          new Error(`unexpected packet in the binlog stream: first byte 0x${(payload[0] ?? 0).toString(16)}`),
        );
        return true;
    }
  }

  onResult(err: Error): void {
    if (!this.finished) this.sink.onFailure(err);
  }
}
