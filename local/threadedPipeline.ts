/**
 * The local pipeline on several threads: ingest and the dead-letter function on this one, and
 * the delivery function in worker threads, each polling the delivery queues of a share of the
 * exports. On AWS every function runs in execution environments of its own, side by side; on
 * one thread, the local pipeline's webhook requests, handlers and SDK calls take turns on one
 * core (npm run bench, figure 8). Each share is built by the same `LocalPipeline.start`.
 *
 * What differs from one thread: notices from a worker reach `notify` a message later; an
 * export's rate limit and breaker live in the one thread that delivers it, so they stay whole;
 * secrets come from plain values (the worker cannot be handed a resolver), and the SSRF guard
 * and `onInvocation` are not offered.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { ignoreNotices, type NoticeSink } from '../shared/observability/notices.js';
import { EnvSecretResolver } from '../shared/secrets/resolvers.js';
import type { QueueDirectory } from '../shared/sqs/queueNames.js';
import { LocalPipeline, type LocalPipelineOptions } from './pipeline.js';
import type { FromWorker, PipelineWorkerData, ToWorker } from './pipelineWorker.js';

interface ThreadedPipelineOptions {
  /** This thread's SQS client (ingest, dead letters). */
  readonly sqs: SQSClient;
  /** The SQS server's endpoint, for the workers' own clients. */
  readonly endpoint: string;
  readonly config: ObservabilityConfig;
  /** @default 'local' */
  readonly stage?: string;
  /** Variable values for the exports' `${VAR}` references. */
  readonly variables: Readonly<Record<string, string | undefined>>;
  readonly notify?: NoticeSink;
  readonly logLevel?: LocalPipelineOptions['logLevel'];
  readonly pollWaitSeconds?: number;
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Delivery threads, at most one per export. @default the machine's CPUs
   * (`os.availableParallelism()`)
   */
  readonly deliveryThreads?: number;
}

/** The worker's module, beside this one (TypeScript run through tsx). */
const WORKER_MODULE = new URL('./pipelineWorker.ts', import.meta.url);

const loadsTsx = (argument: string): boolean => /(^|[/\\=])tsx([/\\]|$)/.test(argument);

/** A worker thread running a share, and how to talk to it. */
class ShareWorker {
  readonly #worker: Worker;
  readonly #counts = new Map<number, (calls: number) => void>();
  #nextCount = 1;
  #stopped: (() => void) | undefined;

  private constructor(worker: Worker, notify: NoticeSink) {
    this.#worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'notice') notify(message.notice);
      else if (message.type === 'count') this.#counts.get(message.id)?.(message.sqsCalls);
      else if (message.type === 'stopped') this.#stopped?.();
    });
  }

  /** Starts a worker and waits until its event sources poll. */
  static start(data: PipelineWorkerData, notify: NoticeSink): Promise<ShareWorker> {
    const worker = new Worker(WORKER_MODULE, {
      workerData: data,
      // A worker loads TypeScript the way its thread was told to (`npm start` and the bench
      // run under tsx); a test runner that transforms modules itself has not told it.
      ...(WORKER_MODULE.pathname.endsWith('.ts') && !process.execArgv.some(loadsTsx)
        ? { execArgv: [...process.execArgv, '--import', 'tsx'] }
        : {}),
    });
    const share = new ShareWorker(worker, notify);
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'started') resolve(share);
        if (message.type === 'failed') {
          reject(new Error(`a delivery thread failed to start: ${message.message}`));
          void worker.terminate();
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** SQS requests the worker's client has made. */
  sqsCalls(): Promise<number> {
    const id = this.#nextCount++;
    return new Promise((resolve) => {
      this.#counts.set(id, (calls) => {
        this.#counts.delete(id);
        resolve(calls);
      });
      this.#worker.postMessage({ type: 'count', id } satisfies ToWorker);
    });
  }

  /** Stops polling (in-flight invocations finish) and ends the thread. */
  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.#stopped = resolve;
    });
    this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
    await stopped;
    await this.#worker.terminate();
  }
}

/**
 * The running threaded pipeline.
 *
 * @example
 * const pipeline = await ThreadedLocalPipeline.start({ sqs, endpoint, config, variables: process.env });
 * // push events to pipeline.queues.ingest ...
 * await pipeline.stop();
 */
class ThreadedLocalPipeline {
  private constructor(
    readonly main: LocalPipeline,
    readonly workers: readonly ShareWorker[],
  ) {}

  get queues(): QueueDirectory {
    return this.main.queues;
  }

  /** Creates the queues, starts this thread's share and the delivery threads. */
  static async start(options: ThreadedPipelineOptions): Promise<ThreadedLocalPipeline> {
    const stage = options.stage ?? 'local';
    const notify = options.notify ?? ignoreNotices;
    const common = {
      ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
      ...(options.pollWaitSeconds === undefined
        ? {}
        : { pollWaitSeconds: options.pollWaitSeconds }),
      ...(options.visibilityTimeoutSeconds === undefined
        ? {}
        : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    };
    const main = await LocalPipeline.start({
      sqs: options.sqs,
      config: options.config,
      stage,
      secrets: new EnvSecretResolver(options.variables),
      notify,
      share: { roles: ['ingest', 'dlq'] },
      ...common,
    });
    const exports = options.config.exports.map((exp) => exp.name);
    const threads = Math.max(
      1,
      Math.min(options.deliveryThreads ?? availableParallelism(), exports.length),
    );
    const workers: ShareWorker[] = [];
    try {
      for (let thread = 0; thread < threads; thread++) {
        const deliveryExports = exports.filter((_, index) => index % threads === thread);
        workers.push(
          await ShareWorker.start(
            {
              endpoint: options.endpoint,
              config: options.config,
              stage,
              share: { roles: ['delivery'], deliveryExports },
              variables: { ...options.variables },
              ...common,
            },
            notify,
          ),
        );
      }
    } catch (error) {
      await Promise.all([main.stop(), ...workers.map((worker) => worker.stop())]);
      throw error;
    }
    return new ThreadedLocalPipeline(main, workers);
  }

  /** SQS requests the delivery threads have made (this thread's are its client's). */
  async workerSqsCalls(): Promise<number> {
    const counts = await Promise.all(this.workers.map((worker) => worker.sqsCalls()));
    return counts.reduce((sum, calls) => sum + calls, 0);
  }

  /** Stops every thread's event sources together; in-flight invocations finish first. */
  async stop(): Promise<void> {
    await Promise.all([this.main.stop(), ...this.workers.map((worker) => worker.stop())]);
  }
}

export type { ThreadedPipelineOptions };
export { ThreadedLocalPipeline };
