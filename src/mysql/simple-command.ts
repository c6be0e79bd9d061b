// A mysql2 command for the simple exchanges: send one payload, then one OK/EOF or ERR packet
// (COM_REGISTER_SLAVE, COM_SET_OPTION).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_register_slave.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_set_option.html
import { ERR_HEADER, decodeErrPacket } from './err-packet.js';
import {
  outgoingPacket,
  type Mysql2Command,
  type Mysql2CoreConnection,
  type Mysql2Packet,
} from './mysql2-internals.js';

/** Sends one command payload and settles on the server's answer: resolves on OK/EOF, rejects on ERR. */
export class SimpleCommand implements Mysql2Command {
  private started = false;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (err: Error) => void;

  constructor(private readonly payload: Buffer) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  execute(packet: Mysql2Packet | undefined, connection: Mysql2CoreConnection): boolean {
    if (!this.started) {
      this.started = true;
      connection._resetSequenceId();
      connection.writePacket(outgoingPacket(this.payload));
      return false;
    }
    if (!packet) return false;
    const payload = packet.buffer.subarray(packet.offset, packet.end);
    if (payload[0] === ERR_HEADER) this.reject(decodeErrPacket(payload));
    else this.resolve();
    return true;
  }

  onResult(err: Error): void {
    this.reject(err);
  }
}
