import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does to a request it picks:
 * - `http-500` / `http-503`: answers InternalError / ServiceUnavailable with an S3 XML error body.
 * - `slow-down`: answers 503 SlowDown (S3's throttling answer).
 * - `http-403`: answers 403 AccessDenied (a refused credential or policy).
 * - `reset`: closes the connection without answering.
 * - `cut-body`: forwards the request, then closes the connection halfway through the response body.
 * - `lose-answer`: forwards the request (the emulator acts on it), then closes the connection
 *   instead of passing the answer on: the client cannot tell whether its request took effect.
 * - `flip-body-byte`: forwards the request with one byte of its body inverted (a proxy, network
 *   card or memory damaging data on the way); headers, checksums included, are passed unchanged.
 */
export type FaultKind =
  | 'http-500'
  | 'http-503'
  | 'slow-down'
  | 'http-403'
  | 'reset'
  | 'cut-body'
  | 'lose-answer'
  | 'flip-body-byte';

/** Which requests get a fault, and for how long. */
export interface FaultRule {
  kind: FaultKind;
  /** Fault one in `every` matching requests, starting with the first (default 1: all). */
  every?: number;
  /** Stop after this many faults (default: until cleared). */
  times?: number;
  /** Only requests for which this returns true (default: all). */
  match?: (req: { method: string; url: string }) => boolean;
}

/** A running HTTP proxy between an S3 client and the emulator. */
export interface FaultProxy {
  /** Point the S3 client here instead of at the emulator. */
  readonly endpoint: string;
  /** Requests seen since start or the last `setFault`. */
  readonly requests: number;
  /** Faults injected since start or the last `setFault`. */
  readonly faults: number;
  /** Replaces the fault rule (undefined: forward everything) and resets the counters. */
  setFault(rule: FaultRule | undefined): void;
  /** Closes the proxy and every connection through it. Idempotent. */
  stop(): Promise<void>;
}

const ERRORS: Record<'http-500' | 'http-503' | 'slow-down' | 'http-403', [number, string, string]> = {
  'http-500': [500, 'InternalError', 'We encountered an internal error. Please try again.'],
  'http-503': [503, 'ServiceUnavailable', 'Service is unable to handle request.'],
  'slow-down': [503, 'SlowDown', 'Please reduce your request rate.'],
  'http-403': [403, 'AccessDenied', 'Access Denied'],
};

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards to `target` (`http://127.0.0.1:PORT`) and, on
 * command, answers a share of requests with S3 errors or breaks their connections. Deterministic:
 * with `every: 3` the 1st, 4th, 7th... matching requests fail, so tests are reproducible.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let rule: FaultRule | undefined;
  let matched = 0;
  let requests = 0;
  let faults = 0;

  const pick = (req: IncomingMessage): FaultKind | undefined => {
    requests++;
    if (rule === undefined) return undefined;
    if (rule.match && !rule.match({ method: req.method ?? '', url: req.url ?? '' })) return undefined;
    if (rule.times !== undefined && faults >= rule.times) return undefined;
    const every = rule.every ?? 1;
    if (matched++ % every !== 0) return undefined;
    faults++;
    return rule.kind;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    fault: 'cut-body' | 'lose-answer' | 'flip-body-byte' | undefined,
  ): void => {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        if (fault === 'lose-answer') {
          answer.resume();
          answer.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const length = Number(answer.headers['content-length'] ?? Number.NaN);
        if (fault !== 'cut-body' || !(length > 1)) {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        const half = Math.floor(length / 2);
        answer.on('data', (chunk: Buffer) => {
          if (sent >= half) return;
          const part = chunk.subarray(0, half - sent);
          sent += part.length;
          res.write(part);
          if (sent >= half) {
            // Let the bytes leave, then break the connection mid-body.
            res.socket?.end(() => res.socket?.destroy());
            answer.destroy();
          }
        });
      },
    );
    out.on('error', () => res.socket?.destroy());
    if (fault !== 'flip-body-byte') {
      req.pipe(out);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.length > 0) {
        const at = Math.floor(body.length / 2);
        body[at] = body[at]! ^ 0xff;
      }
      out.end(body);
    });
  };

  const server = createServer((req, res) => {
    const fault = pick(req);
    if (
      fault === undefined ||
      fault === 'cut-body' ||
      fault === 'lose-answer' ||
      fault === 'flip-body-byte'
    ) {
      forward(req, res, fault);
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    const [status, code, message] = ERRORS[fault];
    // Read the request body first, as S3 does, so the client sees the answer and not a broken pipe.
    req.resume();
    req.on('end', () => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address');

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get requests() {
      return requests;
    },
    get faults() {
      return faults;
    },
    setFault(next) {
      rule = next;
      matched = 0;
      requests = 0;
      faults = 0;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return stopped;
    },
  };
}
