/**
 * A worker thread running one share of a threaded local pipeline (./threadedPipeline.ts): its
 * own SQS client, HTTP client, handlers and event source mappings, built by the same
 * `LocalPipeline.start` as the single-threaded pipeline. Notices go to the parent thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ObservabilityConfig } from '../shared/config/types.js';
import type { PipelineNotice } from '../shared/observability/notices.js';
import { EnvSecretResolver } from '../shared/secrets/resolvers.js';
import { createHttpClient } from '../shared/transport/http.js';
import { LocalPipeline, type LocalPipelineOptions, type PipelineShare } from './pipeline.js';
import { localSqsClient } from './sqsServer.js';

/** What the parent gives a worker: plain data only, as a worker gets it by copy. */
interface PipelineWorkerData {
  readonly endpoint: string;
  readonly config: ObservabilityConfig;
  readonly stage: string;
  readonly share: PipelineShare;
  /** Variable values for the export's `${VAR}` references. */
  readonly variables: Readonly<Record<string, string | undefined>>;
  /** Settings every share of the pipeline runs with. */
  readonly settings: PipelineSettings;
}

/** What every share of a threaded pipeline is started with alike. */
type PipelineSettings = Pick<
  LocalPipelineOptions,
  'logLevel' | 'pollWaitSeconds' | 'visibilityTimeoutSeconds'
>;

/** Messages from the parent. */
type ToWorker = { readonly type: 'stop' } | { readonly type: 'count'; readonly id: number };

/** Messages to the parent. */
type FromWorker =
  | { readonly type: 'started' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'notice'; readonly notice: PipelineNotice }
  | { readonly type: 'count'; readonly id: number; readonly sqsCalls: number };

const post = (message: FromWorker): void => parentPort?.postMessage(message);

const run = async (data: PipelineWorkerData): Promise<void> => {
  const sqs = localSqsClient(data.endpoint);
  let sqsCalls = 0;
  sqs.middlewareStack.add(
    (next) => (args) => {
      sqsCalls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countSqsCalls' },
  );
  const http = createHttpClient();
  const pipeline = await LocalPipeline.start({
    sqs,
    config: data.config,
    stage: data.stage,
    secrets: new EnvSecretResolver(data.variables),
    http,
    share: data.share,
    notify: (notice) => post({ type: 'notice', notice }),
    ...data.settings,
  });
  let stopping = false;
  parentPort?.on('message', (message: ToWorker) => {
    if (message.type === 'count') {
      post({ type: 'count', id: message.id, sqsCalls });
      return;
    }
    if (stopping) return;
    stopping = true;
    // Whatever the stop meets, the thread ends (process.exit ends only this thread): the
    // parent waits for its exit.
    void pipeline
      .stop()
      .then(() => http.close())
      .then(
        () => 0,
        (error: unknown) => {
          console.error(`tappass delivery thread: stopping failed: ${String(error)}`);
          return 1;
        },
      )
      .then((code) => {
        sqs.destroy();
        process.exit(code);
      });
  });
  post({ type: 'started' });
};

run(workerData as PipelineWorkerData).catch((error: unknown) => {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
});

export type { FromWorker, PipelineSettings, PipelineWorkerData, ToWorker };
