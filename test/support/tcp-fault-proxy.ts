/**
 * A TCP proxy between a client and a MySQL/MariaDB server that can misbehave on command, as a
 * network path does: stall the open connections (stop forwarding in both directions without
 * closing anything, so neither end notices), or move to another server (a virtual address that
 * fails over).
 */
import { createServer, connect, type Socket } from 'node:net';

/** One client connection and its upstream connection. */
interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

/** A running TCP proxy on 127.0.0.1. */
export interface TcpFaultProxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections open now (stalled ones included). */
  readonly open: number;
  /**
   * Stops forwarding on every open connection, in both directions, without closing it: bytes are
   * neither read nor written any more, so both ends wait forever. New connections are forwarded.
   * Returns how many connections were stalled.
   */
  stallOpenConnections(): number;
  /** New connections go to this port from now on (open ones keep their server). */
  retarget(port: number, host?: string): void;
  /** Closes every connection through the proxy at once (a reset), stalled ones too. */
  resetAll(): void;
  /** Closes the proxy and every connection through it. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 forwarding to `targetHost:targetPort`. */
export async function startTcpFaultProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpFaultProxy> {
  const pairs = new Set<Pair>();
  let target = { host: targetHost, port: targetPort };
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, stalled: false };
    pairs.add(pair);
    const close = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      // a stalled path does not carry the close either; the client's own destroy is local
      if (!pair.stalled) close();
      else pairs.delete(pair);
    });
    upstream.on('close', () => {
      if (!pair.stalled) close();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy has no TCP address');

  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: address.port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    stallOpenConnections() {
      let n = 0;
      for (const pair of pairs) {
        if (pair.stalled) continue;
        pair.stalled = true;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
        n++;
      }
      return n;
    },
    retarget(port, host = '127.0.0.1') {
      target = { host, port };
    },
    resetAll() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        pairs.clear();
      });
      return stopped;
    },
  };
}
