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
import type {
  FromWorker,
  PipelineSettings,
  PipelineWorkerData,
  ToWorker,
} from './pipelineWorker.js';

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
  /** Called when a delivery thread ends before `stop()`. @default a line on stderr */
  readonly onThreadDied?: (error: Error) => void;
}

/** The worker's module, beside this one (TypeScript run through tsx). */
const WORKER_MODULE = new URL('./pipelineWorker.ts', import.meta.url);

const loadsTsx = (argument: string): boolean => /(^|[/\\=\s])tsx([/\\\s]|$)/.test(argument);

/**
 * Flags for a worker that must load TypeScript when its thread did not say how: only tsx's, as
 * a worker refuses some flags of its process (`--expose-gc`, heap sizes). Undefined when the
 * thread already loads tsx (flags or `NODE_OPTIONS`), which a worker inherits.
 */
const workerExecArgv = (): string[] | undefined => {
  if (!WORKER_MODULE.pathname.endsWith('.ts')) return undefined;
  const told = process.execArgv.some(loadsTsx) || loadsTsx(process.env.NODE_OPTIONS ?? '');
  return told ? undefined : ['--import', 'tsx'];
};

/** A worker thread running a share, and how to talk to it. */
class ShareWorker {
  readonly #worker: Worker;
  readonly #counts = new Map<number, { resolve(calls: number): void; reject(e: Error): void }>();
  #nextCount = 1;
  /** Why the thread ended before it was stopped; undefined while it runs. */
  #ended: Error | undefined;
  #stopping: Promise<void> | undefined;
  #onEnd: (() => void) | undefined;

  private constructor(worker: Worker, notify: NoticeSink, onDied: (error: Error) => void) {
    this.#worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'notice') {
        try {
          notify(message.notice);
        } catch {
          // A sink's own failure is not the pipeline's (as in the delivery engine's safeDeps).
        }
      } else if (message.type === 'count') {
        this.#counts.get(message.id)?.resolve(message.sqsCalls);
        this.#counts.delete(message.id);
      }
    });
    const end = (error: Error) => {
      if (this.#ended !== undefined) return;
      this.#ended = error;
      for (const waiter of this.#counts.values()) waiter.reject(error);
      this.#counts.clear();
      if (this.#stopping === undefined) onDied(error);
      this.#onEnd?.();
    };
    worker.on('error', (error) => end(error));
    worker.on('exit', (code) => end(new Error(`the delivery thread exited (code ${code})`)));
  }

  /** Starts a worker and waits until its event sources poll; rejects if it cannot. */
  static start(
    data: PipelineWorkerData,
    notify: NoticeSink,
    onDied: (error: Error) => void,
  ): Promise<ShareWorker> {
    const execArgv = workerExecArgv();
    const worker = new Worker(WORKER_MODULE, {
      workerData: data,
      ...(execArgv === undefined ? {} : { execArgv }),
    });
    return new Promise((resolve, reject) => {
      let started = false;
      const share = new ShareWorker(worker, notify, (error) => {
        if (started) onDied(error);
        else reject(new Error(`a delivery thread failed to start: ${error.message}`));
      });
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'started') {
          started = true;
          resolve(share);
        } else if (message.type === 'failed') {
          void worker.terminate();
          reject(new Error(`a delivery thread failed to start: ${message.message}`));
        }
      });
    });
  }

  /** SQS requests the worker's client has made; rejects once the thread has ended. */
  sqsCalls(): Promise<number> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const id = this.#nextCount++;
    return new Promise((resolve, reject) => {
      this.#counts.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'count', id } satisfies ToWorker);
    });
  }

  /**
   * Stops polling (in-flight invocations finish) and ends the thread; at once for a thread
   * that has ended already. Safe to call again: every call waits for the same stop.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#ended === undefined) {
        const ended = new Promise<void>((resolve) => {
          this.#onEnd = resolve;
        });
        this.#worker.postMessage({ type: 'stop' } satisfies ToWorker);
        // The worker ends its thread itself once its invocations are over ('exit').
        await ended;
      }
      await this.#worker.terminate();
    })();
    return this.#stopping;
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
    const settings: PipelineSettings = {
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
      ...settings,
    });
    const exports = options.config.exports.map((exp) => exp.name);
    const threads = Math.max(
      1,
      Math.min(options.deliveryThreads ?? availableParallelism(), exports.length),
    );
    const workers: ShareWorker[] = [];
    // A thread that dies while the pipeline runs is said once, on the notice of this thread's
    // choosing, not left to be found by a stop that would wait for it forever.
    const onDied =
      options.onThreadDied ??
      ((error: Error) => {
        console.error(`tappass local pipeline: ${error.message}; its exports are not delivered`);
      });
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
              settings,
            },
            notify,
            onDied,
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

  /**
   * Stops every thread's event sources at once; each thread's in-flight invocations finish
   * first. Records one thread sends to another's queue after that thread stopped (a dead letter
   * from a delivery thread, say) stay queued for the next start, as any unfinished record does.
   */
  async stop(): Promise<void> {
    await Promise.all([this.main.stop(), ...this.workers.map((worker) => worker.stop())]);
  }
}

export type { ThreadedPipelineOptions };
export { ThreadedLocalPipeline };
