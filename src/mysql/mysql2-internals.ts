// The few mysql2 internals the replication client relies on (mysql2 3.x, lib/base/connection.js and
// lib/commands/command.js). A "command" is any object with execute(packet, connection) -> done;
// mysql2 calls execute(undefined) when the command becomes active and then once per received
// packet (multi-packet payloads of 16 MiB and more already reassembled by its PacketParser).
import type { Socket } from 'node:net';
import type { Connection } from 'mysql2/promise';
import { PitrError } from '../errors/index.js';

/** A received packet: the payload is buffer[offset, end). The object is reused: copy what you keep. */
export interface Mysql2Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  sequenceId: number;
}

/** What connection.writePacket needs of an outgoing packet. */
export interface Mysql2OutgoingPacket {
  buffer: Buffer;
  length(): number;
  writeHeader(sequenceId: number): void;
}

/** A mysql2 command. execute returns true when the command is done. */
export interface Mysql2Command {
  execute(packet: Mysql2Packet | undefined, connection: Mysql2CoreConnection): boolean;
  /** Called by mysql2 with a connection-level error (socket closed, reset...). */
  onResult?(err: Error): void;
}

/** The core (callback) connection under a mysql2/promise connection. */
export interface Mysql2CoreConnection {
  addCommand(cmd: Mysql2Command): unknown;
  writePacket(packet: Mysql2OutgoingPacket): void;
  _resetSequenceId(): void;
  pause(): void;
  resume(): void;
  destroy(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  stream: Socket;
}

/** Wraps a payload (without the 4-byte header) as a packet for connection.writePacket. */
export function outgoingPacket(payload: Buffer): Mysql2OutgoingPacket {
  const buffer = Buffer.alloc(4 + payload.length);
  payload.copy(buffer, 4);
  return {
    buffer,
    length: () => buffer.length,
    writeHeader(sequenceId: number) {
      buffer.writeUIntLE(buffer.length - 4, 0, 3);
      buffer.writeUInt8(sequenceId & 0xff, 3);
    },
  };
}

/** The core connection of a mysql2/promise connection; throws if mysql2's shape changed. */
export function coreConnectionOf(conn: Connection): Mysql2CoreConnection {
  const core = (conn as unknown as { connection?: Partial<Mysql2CoreConnection> }).connection;
  if (
    !core ||
    typeof core.addCommand !== 'function' ||
    typeof core.writePacket !== 'function' ||
    typeof core._resetSequenceId !== 'function' ||
    typeof core.pause !== 'function' ||
    !core.stream
  ) {
    throw new PitrError(
      'INTERNAL',
      'the installed mysql2 does not expose the connection internals the replication client needs ' +
        '(addCommand, writePacket, pause); use the mysql2 version in package-lock.json',
    );
  }
  return core as Mysql2CoreConnection;
}
