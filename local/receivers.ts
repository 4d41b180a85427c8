/**
 * Programmable webhook receivers: real `node:http` servers on 127.0.0.1 (port 0) whose answer
 * to each request is a function of (request index, request). They record every request and
 * count TCP connections, so tests can assert what arrived and how (keep-alive reuse, no
 * redirect followed). The local stack's demo and the tests use them.
 */
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the receiver saw it. */
interface RecordedRequest {
  /** 0-based, in order of arrival of the complete request. */
  readonly index: number;
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Names in lower case (Node's parsing). */
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `Date.now()` when the request line arrived. */
  readonly receivedAt: number;
  /** Which TCP connection carried it: 1 for the first accepted connection, and so on. */
  readonly connectionId: number;
}

/** A normal answer, optionally after a delay. */
interface ReceiverReply {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: OutgoingHttpHeaders;
  /** @default '' */
  readonly body?: string | Buffer;
  /** Wait this long before answering. */
  readonly delayMs?: number;
}

/**
 * How the receiver treats one request:
 * - a {@link ReceiverReply}: answer it;
 * - `'hang'`: read it, never answer (until the receiver closes);
 * - `'reset'`: abort the connection with a TCP RST (client sees ECONNRESET);
 * - `'close'`: close the connection without answering (client sees "other side closed");
 * - `'huge-body'`: 200, then an endless body, written as fast as the client reads it;
 * - `'slow-drip'`: 200, then one byte of body every `dripIntervalMs`, forever;
 * - `{ hugeBody: {...} }` / `{ slowDrip: {...} }`: the same with a chosen status and pace.
 */
type ReceiverBehaviour =
  | ReceiverReply
  | 'hang'
  | 'reset'
  | 'close'
  | 'huge-body'
  | 'slow-drip'
  | { readonly hugeBody: { readonly status?: number; readonly chunkBytes?: number } }
  | { readonly slowDrip: { readonly status?: number; readonly intervalMs?: number } };

/** Decides each request's treatment; may be async (e.g. to wait for a test's signal). */
type ReceiverHandler = (
  index: number,
  request: RecordedRequest,
) => ReceiverBehaviour | Promise<ReceiverBehaviour>;

/** A running receiver. */
interface Receiver {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every complete request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** New TCP connections accepted so far (the server's `connection` events). */
  readonly connectionCount: number;
  /** Response body bytes handed to sockets so far (for bounded-read assertions). */
  readonly bodyBytesSent: number;
  /** Resolves once `count` requests have been recorded; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Destroys every connection (hanging ones included) and stops listening. */
  close(): Promise<void>;
}

/** Options of {@link startReceiver}. */
interface ReceiverOptions {
  /** Server keep-alive timeout. @default 5000 */
  readonly keepAliveTimeoutMs?: number;
  /** Pace of `'slow-drip'`. @default 50 */
  readonly dripIntervalMs?: number;
}

const HUGE_CHUNK_BYTES = 64 * 1024;

/** A handler that answers every request the same way. */
const always =
  (behaviour: ReceiverBehaviour): ReceiverHandler =>
  () =>
    behaviour;

/** A handler that follows a script, repeating its last entry once it runs out. */
const sequence =
  (...behaviours: readonly [ReceiverBehaviour, ...ReceiverBehaviour[]]): ReceiverHandler =>
  (index) =>
    behaviours[Math.min(index, behaviours.length - 1)] ?? behaviours[0];

/**
 * Starts a receiver on 127.0.0.1 with an OS-assigned port.
 *
 * @example
 * const receiver = await startReceiver((index) => (index === 0 ? { status: 503 } : { status: 200 }));
 * // ... send to receiver.url ...
 * expect(receiver.requests).toHaveLength(2);
 * await receiver.close();
 */
const startReceiver = async (
  handler: ReceiverHandler | ReceiverBehaviour = { status: 200 },
  options: ReceiverOptions = {},
): Promise<Receiver> => {
  const decide = typeof handler === 'function' ? handler : always(handler);
  const dripIntervalMs = options.dripIntervalMs ?? 50;
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  const connectionIds = new WeakMap<Socket, number>();
  let connectionCount = 0;
  let bodyBytesSent = 0;
  let closing = false;

  const later = (ms: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };

  const streamHugeBody = (res: ServerResponse, status: number, chunkBytes: number): void => {
    const chunk = Buffer.alloc(chunkBytes, 'x');
    res.writeHead(status, { 'content-type': 'text/plain' });
    // Respect backpressure, so what is "sent" is what the client actually pulled.
    const pump = (): void => {
      while (!closing && !res.destroyed) {
        bodyBytesSent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };

  const slowDrip = (res: ServerResponse, status: number, intervalMs: number): void => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    const drip = (): void => {
      if (closing || res.destroyed) return;
      bodyBytesSent += 1;
      res.write('.');
      later(intervalMs, drip);
    };
    drip();
  };

  const reply = (res: ServerResponse, answer: ReceiverReply): void => {
    const body = answer.body ?? '';
    bodyBytesSent += Buffer.byteLength(body);
    res.writeHead(answer.status ?? 200, { ...answer.headers });
    res.end(body);
  };

  const act = (req: IncomingMessage, res: ServerResponse, behaviour: ReceiverBehaviour): void => {
    if (closing) return;
    if (behaviour === 'hang') return;
    if (behaviour === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (behaviour === 'close') {
      req.socket.destroy();
      return;
    }
    if (behaviour === 'huge-body') {
      streamHugeBody(res, 200, HUGE_CHUNK_BYTES);
      return;
    }
    if (behaviour === 'slow-drip') {
      slowDrip(res, 200, dripIntervalMs);
      return;
    }
    if ('hugeBody' in behaviour) {
      const { status = 200, chunkBytes = HUGE_CHUNK_BYTES } = behaviour.hugeBody;
      streamHugeBody(res, status, chunkBytes);
      return;
    }
    if ('slowDrip' in behaviour) {
      const { status = 200, intervalMs = dripIntervalMs } = behaviour.slowDrip;
      slowDrip(res, status, intervalMs);
      return;
    }
    if (behaviour.delayMs !== undefined && behaviour.delayMs > 0) {
      later(behaviour.delayMs, () => {
        if (!closing && !res.destroyed) reply(res, behaviour);
      });
      return;
    }
    reply(res, behaviour);
  };

  const server = createServer((req, res) => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        index: requests.length,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt,
        connectionId: connectionIds.get(req.socket) ?? 0,
      };
      requests.push(recorded);
      for (const wake of waiters) wake();
      Promise.resolve(decide(recorded.index, recorded)).then(
        (behaviour) => act(req, res, behaviour),
        () => {
          if (!res.headersSent && !res.destroyed)
            reply(res, { status: 500, body: 'handler threw' });
        },
      );
    });
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5_000;
  server.on('connection', (socket: Socket) => {
    connectionCount += 1;
    connectionIds.set(socket, connectionCount);
    // A reset or a client hang-up must not surface as an unhandled 'error'.
    socket.on('error', () => {});
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const waitForRequests = (count: number, timeoutMs = 5_000) =>
    new Promise<readonly RecordedRequest[]>((resolve, reject) => {
      const check = (): boolean => {
        if (requests.length < count) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(requests);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    get bodyBytesSent() {
      return bodyBytesSent;
    },
    waitForRequests,
    close,
  };
};

/**
 * A URL on 127.0.0.1 where nothing listens: a port the OS just handed out, then released.
 * Connecting to it is refused (ECONNREFUSED).
 */
const closedPortUrl = async (): Promise<string> => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
};

export type {
  Receiver,
  ReceiverBehaviour,
  ReceiverHandler,
  ReceiverOptions,
  ReceiverReply,
  RecordedRequest,
};
export { always, closedPortUrl, sequence, startReceiver };
