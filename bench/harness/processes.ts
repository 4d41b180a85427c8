/**
 * Typed handles on the benchmark's helper processes: the embedded SQS server and the webhook
 * receivers, each in its own process on 127.0.0.1.
 */
import type { ProcessUsage } from './measure.js';
import type { ReceiverSpec, ReceiverStats } from './receiverChild.js';
import { RpcChild } from './rpc.js';

/** The embedded SQS server, running in a child process. */
interface SqsServerProcess {
  readonly endpoint: string;
  usage(): Promise<ProcessUsage>;
  stop(): Promise<void>;
}

/** Webhook receivers, running in a child process. */
interface ReceiverProcess {
  readonly urls: readonly string[];
  /** Zeroes the counts, delivery ids and latencies; returns the counts before zeroing. */
  mark(): Promise<ReceiverStats>;
  stats(): Promise<ReceiverStats>;
  waitForDistinct(count: number, timeoutMs?: number): Promise<ReceiverStats>;
  /** Push-to-receipt latencies (ms) of the requests since the mark that carried `pushed_at`. */
  latencies(): Promise<number[]>;
  usage(): Promise<ProcessUsage>;
  stop(): Promise<void>;
}

/** A PagerDuty-like answer: 202 with a short JSON body. */
const ACCEPTED = {
  status: 202,
  body: '{"status":"success","message":"Event processed","dedup_key":"bench"}',
} as const;

/**
 * Starts the embedded SQS server in a child process.
 *
 * @example
 * const server = await startSqsServerProcess();
 * const sqs = localSqsClient(server.endpoint);
 */
const startSqsServerProcess = async (): Promise<SqsServerProcess> => {
  const child = RpcChild.fork('./sqsServerChild.ts', 'sqs server');
  const endpoint = await child.call<string>('start');
  return {
    endpoint,
    usage: () => child.call<ProcessUsage>('usage'),
    stop: () => child.stop(),
  };
};

/**
 * Starts `spec.count` receivers in one child process (default: one, answering 202 at once).
 *
 * @example
 * const receivers = await startReceiverProcess({ count: 3 });
 */
const startReceiverProcess = async (spec: Partial<ReceiverSpec> = {}): Promise<ReceiverProcess> => {
  const child = RpcChild.fork('./receiverChild.ts', 'receivers');
  const urls = await child.call<string[]>('start', { count: 1, ...ACCEPTED, ...spec });
  return {
    urls,
    mark: () => child.call<ReceiverStats>('mark'),
    stats: () => child.call<ReceiverStats>('stats'),
    waitForDistinct: (count, timeoutMs = 300_000) =>
      child.call<ReceiverStats>('waitForDistinct', { count, timeoutMs }),
    latencies: () => child.call<number[]>('latencies'),
    usage: () => child.call<ProcessUsage>('usage'),
    stop: () => child.stop(),
  };
};

export type { ReceiverProcess, SqsServerProcess };
export { ACCEPTED, startReceiverProcess, startSqsServerProcess };
