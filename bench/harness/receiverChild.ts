/**
 * Child process: webhook receivers (`local/receivers.ts`, real `node:http` servers on
 * 127.0.0.1) that count what arrives: requests, distinct delivery ids (the `Idempotency-Key`
 * header), TCP connections, and push-to-receipt latency for events that carry `pushed_at`.
 */
import { type Receiver, type RecordedRequest, startReceiver } from '../../local/receivers.js';
import { processUsage } from './measure.js';
import { serveParent } from './rpc.js';

/** How the receivers answer. */
interface ReceiverSpec {
  readonly count: number;
  readonly status: number;
  readonly body: string;
  readonly delayMs?: number;
}

interface ReceiverCounts {
  readonly url: string;
  readonly requests: number;
  readonly distinct: number;
  readonly connections: number;
}

interface ReceiverStats {
  readonly receivers: readonly ReceiverCounts[];
  readonly requests: number;
  readonly distinct: number;
  /** Requests whose delivery id had already arrived since the last mark. */
  readonly duplicates: number;
  /** `Date.now()` of the latest request since the last mark. */
  readonly lastReceivedAt: number;
}

/** The push timestamp (ms) the benchmark writes into each event; found in any body shape. */
const PUSHED_AT = /"pushed_at":(\d{13})/;

class CountingReceiver {
  requests = 0;
  connectionsAtMark = 0;
  distinct = new Set<string>();
  duplicates = 0;

  constructor(readonly receiver: Receiver) {}
}

const receivers: CountingReceiver[] = [];
let latencies: number[] = [];
let lastReceivedAt = 0;
const waiters = new Set<() => void>();

const totalDistinct = () => receivers.reduce((sum, r) => sum + r.distinct.size, 0);

const track = (target: CountingReceiver, request: RecordedRequest): void => {
  target.requests += 1;
  lastReceivedAt = Math.max(lastReceivedAt, request.receivedAt);
  const key = request.headers['idempotency-key'];
  if (typeof key === 'string') {
    if (target.distinct.has(key)) target.duplicates += 1;
    else target.distinct.add(key);
  }
  const pushedAt = PUSHED_AT.exec(request.body)?.[1];
  if (pushedAt !== undefined) latencies.push(request.receivedAt - Number(pushedAt));
  for (const wake of waiters) wake();
};

const stats = (): ReceiverStats => ({
  receivers: receivers.map((r) => ({
    url: r.receiver.url,
    requests: r.requests,
    distinct: r.distinct.size,
    connections: r.receiver.connectionCount - r.connectionsAtMark,
  })),
  requests: receivers.reduce((sum, r) => sum + r.requests, 0),
  distinct: totalDistinct(),
  duplicates: receivers.reduce((sum, r) => sum + r.duplicates, 0),
  lastReceivedAt,
});

serveParent({
  start: async (spec: ReceiverSpec) => {
    for (let i = 0; i < spec.count; i++) {
      const reply = {
        status: spec.status,
        headers: { 'content-type': 'application/json' },
        body: spec.body,
        ...(spec.delayMs === undefined ? {} : { delayMs: spec.delayMs }),
      };
      let target: CountingReceiver | undefined;
      const receiver = await startReceiver((_index, request) => {
        if (target) track(target, request);
        return reply;
      });
      target = new CountingReceiver(receiver);
      receivers.push(target);
    }
    return receivers.map((r) => r.receiver.url);
  },
  /** Starts a new measurement: counts, delivery ids and latencies from zero. */
  mark: () => {
    for (const r of receivers) {
      r.requests = 0;
      r.duplicates = 0;
      r.distinct = new Set();
      r.connectionsAtMark = r.receiver.connectionCount;
    }
    latencies = [];
    lastReceivedAt = 0;
    return stats();
  },
  stats,
  /** Resolves once `count` distinct deliveries have arrived since the mark. */
  waitForDistinct: ({ count, timeoutMs }: { count: number; timeoutMs: number }) =>
    new Promise<ReceiverStats>((resolve, reject) => {
      const check = () => {
        if (totalDistinct() < count) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(stats());
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${totalDistinct()} of ${count} deliveries arrived in ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    }),
  latencies: () => latencies,
  usage: () => processUsage(),
});

export type { ReceiverSpec, ReceiverStats };
