/**
 * Shared parts of the reliability suites: the run size (small in `npm run test:reliability:small`,
 * which CI runs after `npm test`; large in `npm run test:reliability`), receivers that follow a
 * per-delivery script and count what they answered, the "nothing lost" tally, and a peak-RSS
 * sampler. Everything is on 127.0.0.1.
 */
import { createServer } from 'node:net';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import {
  type Receiver,
  type ReceiverBehaviour,
  type RecordedRequest,
  startReceiver,
} from '../helpers/receivers.js';

/** How big each suite runs. */
interface ReliabilityScale {
  readonly name: 'small' | 'large';
  /** Events pushed through the faulty-receivers pipeline (each goes to every export). */
  readonly faultyEvents: number;
  /** Delivery concurrency of each export in the faulty-receivers runs. */
  readonly faultyConcurrency: number;
  /** Events sent to the endless-body receiver in the memory run. */
  readonly endlessEvents: number;
  /** Events pushed before the SIGKILL. */
  readonly killEvents: number;
  /** Requests each receiver answers before the kill; later ones hang until the kill. */
  readonly killAnsweredBeforeKill: number;
  /** Times the bad-event corpus is pushed. */
  readonly badRounds: number;
  /** Valid events pushed alongside each round of bad ones. */
  readonly goodEventsPerRound: number;
  /** Run `validate` as a subprocess over every bad config (true) or over a sample. */
  readonly validateEveryConfigInSubprocess: boolean;
  /** Events sent through each case of the fault-injection suite. */
  readonly faultEvents: number;
}

const SCALES: Readonly<Record<ReliabilityScale['name'], ReliabilityScale>> = {
  small: {
    name: 'small',
    faultyEvents: 24,
    faultyConcurrency: 3,
    endlessEvents: 48,
    killEvents: 200,
    killAnsweredBeforeKill: 40,
    badRounds: 1,
    goodEventsPerRound: 40,
    validateEveryConfigInSubprocess: false,
    faultEvents: 3,
  },
  large: {
    name: 'large',
    faultyEvents: 400,
    faultyConcurrency: 5,
    endlessEvents: 400,
    killEvents: 2_000,
    killAnsweredBeforeKill: 400,
    badRounds: 10,
    goodEventsPerRound: 200,
    validateEveryConfigInSubprocess: true,
    faultEvents: 12,
  },
};

/**
 * The size chosen by `RELIABILITY_SCALE` (`small`, the default, or `large`).
 *
 * @example
 * const scale = reliabilityScale(); // large under `npm run test:reliability -- sigkill`
 */
const reliabilityScale = (env: NodeJS.ProcessEnv = process.env): ReliabilityScale => {
  const name = env.RELIABILITY_SCALE ?? 'small';
  if (name !== 'small' && name !== 'large') {
    throw new Error(`RELIABILITY_SCALE must be "small" or "large", got "${name}"`);
  }
  return SCALES[name];
};

/** The status a behaviour answers with, or undefined when it never answers. */
const statusOf = (behaviour: ReceiverBehaviour): number | undefined => {
  if (behaviour === 'hang' || behaviour === 'reset' || behaviour === 'close') return undefined;
  if (behaviour === 'huge-body' || behaviour === 'slow-drip') return 200;
  if ('hugeBody' in behaviour) return behaviour.hugeBody.status ?? 200;
  if ('slowDrip' in behaviour) return behaviour.slowDrip.status ?? 200;
  return behaviour.status ?? 200;
};

/** What a scripted receiver decides for one request. */
type DeliveryScript = (
  /** 1 for the first request carrying this delivery id, 2 for the next, … */
  attempt: number,
  /** The audit event in the request body (the default body), if it parses. */
  event: AuditEvent | undefined,
  request: RecordedRequest,
) => ReceiverBehaviour;

/** A receiver that follows a script per delivery id and counts its answers. */
interface ScriptedReceiver {
  readonly receiver: Receiver;
  /** 2xx answers per delivery id (the Idempotency-Key header). */
  readonly delivered: Map<string, number>;
  /** Requests per delivery id, whatever the answer. */
  readonly requests: Map<string, number>;
  /** Requests per kind of answer (`200`, `500`, `hang`, …). */
  readonly answers: Record<string, number>;
}

const increment = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

const parseEvent = (body: string): AuditEvent | undefined => {
  try {
    return JSON.parse(body) as AuditEvent;
  } catch {
    return undefined;
  }
};

const answerName = (behaviour: ReceiverBehaviour): string => {
  if (typeof behaviour === 'string') return behaviour;
  if ('hugeBody' in behaviour) return `huge-body ${behaviour.hugeBody.status ?? 200}`;
  if ('slowDrip' in behaviour) return `slow-drip ${behaviour.slowDrip.status ?? 200}`;
  return String(behaviour.status ?? 200);
};

/**
 * Starts a receiver whose answer to each request is `script(attempt, event, request)`, where
 * `attempt` counts the requests of one delivery id. A 2xx answer counts as delivered.
 *
 * @example
 * const flaky = await startScriptedReceiver((attempt) => (attempt === 1 ? { status: 500 } : {}));
 */
const startScriptedReceiver = async (script: DeliveryScript): Promise<ScriptedReceiver> => {
  const delivered = new Map<string, number>();
  const requests = new Map<string, number>();
  const answers: Record<string, number> = {};
  const receiver = await startReceiver((_index, request) => {
    const id = String(request.headers['idempotency-key'] ?? 'missing');
    increment(requests, id);
    const behaviour = script(requests.get(id) ?? 1, parseEvent(request.body), request);
    const status = statusOf(behaviour);
    if (status !== undefined && status >= 200 && status <= 299) increment(delivered, id);
    const name = answerName(behaviour);
    answers[name] = (answers[name] ?? 0) + 1;
    return behaviour;
  });
  return { receiver, delivered, requests, answers };
};

/** The outcome of every expected (event, export) pair. */
interface Tally {
  /** Pairs expected. */
  readonly pairs: number;
  /** Pairs answered 2xx at least once. */
  readonly delivered: number;
  /** Pairs with a dead letter. */
  readonly deadLettered: number;
  /** 2xx answers and dead letters beyond one per pair (at-least-once repeats). */
  readonly duplicates: number;
  /** Labels of pairs neither delivered nor dead-lettered. */
  readonly lost: readonly string[];
  /** Delivery ids seen that no pushed pair explains. */
  readonly unknown: readonly string[];
}

/**
 * Counts every expected pair (delivery id → label) as delivered, dead-lettered or lost.
 *
 * @example
 * const tally = tallyPairs(expected, [receiver.delivered], archive.map((m) => m.json as DeadLetter));
 */
const tallyPairs = (
  expected: ReadonlyMap<string, string>,
  deliveredMaps: readonly ReadonlyMap<string, number>[],
  deadLetters: readonly DeadLetter[],
): Tally => {
  const delivered = new Map<string, number>();
  for (const map of deliveredMaps) {
    for (const [id, count] of map) delivered.set(id, (delivered.get(id) ?? 0) + count);
  }
  const dead = new Map<string, number>();
  for (const letter of deadLetters) increment(dead, letter.delivery_id);
  const both = [...dead.keys()].filter((id) => delivered.has(id)).length;
  const duplicates =
    [...delivered.values(), ...dead.values()].reduce((sum, count) => sum + count - 1, 0) + both;
  return {
    pairs: expected.size,
    delivered: [...expected.keys()].filter((id) => delivered.has(id)).length,
    deadLettered: [...expected.keys()].filter((id) => dead.has(id)).length,
    duplicates,
    lost: [...expected]
      .filter(([id]) => !delivered.has(id) && !dead.has(id))
      .map(([, label]) => label),
    unknown: [...new Set([...delivered.keys(), ...dead.keys()])].filter((id) => !expected.has(id)),
  };
};

/** Samples this process's resident set size until stopped. */
interface RssSampler {
  /** Bytes at the start. */
  readonly baseline: number;
  /** Stops sampling; returns the highest RSS seen, in bytes. */
  stop(): number;
}

/**
 * Samples `process.memoryUsage().rss` every `intervalMs`, keeping the peak.
 *
 * @example
 * const rss = sampleRss();
 * // ... work ...
 * const growth = rss.stop() - rss.baseline;
 */
const sampleRss = (intervalMs = 25): RssSampler => {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  return {
    baseline,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
};

/** A TCP port on 127.0.0.1 that was free a moment ago. */
const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
};

const MIB = 1024 * 1024;

/** Bytes as MiB with one decimal, for the printed reports. */
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

export type { DeliveryScript, ReliabilityScale, RssSampler, ScriptedReceiver, Tally };
export {
  freePort,
  MIB,
  mib,
  reliabilityScale,
  sampleRss,
  startScriptedReceiver,
  statusOf,
  tallyPairs,
};
