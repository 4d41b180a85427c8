/**
 * The whole pipeline on one machine: the queues the CDK stack creates (same names, redrive
 * policies and settings, from the same modules) on an SQS-compatible server, and the real three
 * handlers driven by event source mappings with Lambda's semantics.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createDeliveryHandler } from '../lambdas/delivery.js';
import { createDlqHandler } from '../lambdas/dlq.js';
import { createIngestHandler } from '../lambdas/ingest.js';
import { createObservability, METRICS_NAMESPACE } from '../lambdas/observability.js';
import { exportLocator, exportsByName } from '../lambdas/runtime.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { defaultHttpClient, type HttpClient } from '../shared/http.js';
import { ExportGuards, RATE_SCOPES } from '../shared/pipeline/exportGuards.js';
import { ignoreNotices, type NoticeSink } from '../shared/pipeline/notices.js';
import type { PresetOptions } from '../shared/presets/index.js';
import { type QueueDirectory, queueDirectory, queueNames } from '../shared/queueNames.js';
import {
  batchingWindowSeconds,
  DEAD_LETTER_RETENTION_SECONDS,
  DLQ_MAX_RECEIVE_COUNT,
  deliveryFunctionTimeoutSeconds,
  deliveryVisibilityTimeoutFor,
  eventSourceBatchSize,
  INGEST_MAX_RECEIVE_COUNT,
  maxReceiveCountFor,
  PLAIN_FUNCTION_TIMEOUT_SECONDS,
  SOURCE_RETENTION_SECONDS,
  visibilityTimeoutFor,
} from '../shared/queueSettings.js';
import type { SecretResolver } from '../shared/secrets.js';
import { EventSourceMapping, type InvocationOutcome } from './eventSource.js';

interface LocalPipelineOptions {
  readonly sqs: SQSClient;
  readonly config: ObservabilityConfig;
  readonly secrets: SecretResolver;
  /** @default 'local' */
  readonly stage?: string;
  readonly http?: HttpClient;
  /**
   * The SSRF guard, off by default locally: when set, exports without
   * `allow_private_network: true` send through it (`start --block-private-network`, tests),
   * as the deployed delivery function does with `guardedHttpClient()`.
   */
  readonly guardedHttp?: HttpClient;
  /** Receives every pipeline notice (console lines, test assertions). */
  readonly notify?: NoticeSink;
  /** Called after every handler invocation. */
  readonly onInvocation?: (outcome: InvocationOutcome) => void;
  /** Powertools log level of the handlers. @default 'SILENT' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /**
   * Visibility timeout of every queue, instead of 6x the function timeout. Tests shorten it so
   * that a record of a failed invocation comes back quickly.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait of the event sources. @default 1 */
  readonly pollWaitSeconds?: number;
  /** Concurrency of each delivery event source instead of the export's `max_concurrency`. */
  readonly deliveryConcurrency?: number;
  /**
   * First wait after a failure of our own infrastructure (the secret store), passed to the
   * delivery step; tests shorten it. @default 10
   */
  readonly infraRetrySeconds?: number;
  /**
   * How destination presets are chosen; tests pass a local host as a Slack host (they cannot
   * reach hooks.slack.com). @default the production Slack hosts
   */
  readonly presets?: PresetOptions;
}

const queueArn = async (sqs: SQSClient, queueUrl: string): Promise<string> => {
  const response = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = response.Attributes?.QueueArn;
  if (!arn) throw new Error(`the SQS server returned no ARN for ${queueUrl}`);
  return arn;
};

/**
 * Creates a queue, or brings an existing one (kept in a `--data-dir` from an earlier run with
 * other settings) to these attributes: CreateQueue refuses different attributes for a name.
 */
const createQueue = async (
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> => {
  let queueUrl: string | undefined;
  try {
    const response = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    queueUrl = response.QueueUrl;
  } catch (error) {
    // Real SQS answers QueueNameExists; some compatible servers prefix the legacy namespace.
    const exists =
      error instanceof QueueNameExists ||
      (error instanceof Error && error.name.endsWith('QueueNameExists'));
    if (!exists) throw error;
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    if (queueUrl) {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
    }
  }
  if (!queueUrl) throw new Error(`the SQS server returned no URL for queue ${name}`);
  return queueUrl;
};

const redrive = (deadLetterTargetArn: string, maxReceiveCount: number) =>
  JSON.stringify({ deadLetterTargetArn, maxReceiveCount });

/**
 * Creates (or finds: CreateQueue is idempotent for equal attributes) every queue of a stage,
 * with the redrive policies and settings of the CDK stack, and returns their URLs.
 */
const createPipelineQueues = async (
  sqs: SQSClient,
  config: ObservabilityConfig,
  stage: string,
  visibilityOverride?: number,
): Promise<QueueDirectory> => {
  const names = queueNames(stage);
  const visibility = (functionTimeout: number) =>
    String(visibilityOverride ?? visibilityTimeoutFor(functionTimeout));
  const retention = (seconds: number) => ({ MessageRetentionPeriod: String(seconds) });

  const archiveUrl = await createQueue(
    sqs,
    names.deadLetters,
    retention(DEAD_LETTER_RETENTION_SECONDS),
  );
  const archiveArn = await queueArn(sqs, archiveUrl);
  const ingestDlqUrl = await createQueue(
    sqs,
    names.ingestDlq,
    retention(DEAD_LETTER_RETENTION_SECONDS),
  );
  const ingestDlqArn = await queueArn(sqs, ingestDlqUrl);
  await createQueue(sqs, names.ingest, {
    ...retention(SOURCE_RETENTION_SECONDS),
    VisibilityTimeout: visibility(PLAIN_FUNCTION_TIMEOUT_SECONDS),
    RedrivePolicy: redrive(ingestDlqArn, INGEST_MAX_RECEIVE_COUNT),
  });
  for (const exportConfig of config.exports) {
    const dlqUrl = await createQueue(sqs, names.deliveryDlq(exportConfig.name), {
      ...retention(DEAD_LETTER_RETENTION_SECONDS),
      VisibilityTimeout: visibility(PLAIN_FUNCTION_TIMEOUT_SECONDS),
      RedrivePolicy: redrive(archiveArn, DLQ_MAX_RECEIVE_COUNT),
    });
    await createQueue(sqs, names.delivery(exportConfig.name), {
      ...retention(SOURCE_RETENTION_SECONDS),
      VisibilityTimeout: String(
        visibilityOverride ?? deliveryVisibilityTimeoutFor(config, exportConfig),
      ),
      RedrivePolicy: redrive(await queueArn(sqs, dlqUrl), maxReceiveCountFor(exportConfig)),
    });
  }
  // The server's queue URLs differ only in the name: derive the base from one of them.
  return queueDirectory(archiveUrl.slice(0, -names.deadLetters.length), stage);
};

/** Observability for a local function: Powertools at the chosen level, no EMF output. */
const localObservability = (functionName: string, logLevel: LocalPipelineOptions['logLevel']) => {
  const logger = new Logger({ serviceName: functionName, logLevel: logLevel ?? 'SILENT' });
  return createObservability({
    functionName,
    logger,
    // Metrics are for CloudWatch; locally the notices are the report. Its warnings go to the
    // logger, so that they follow the chosen level.
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: functionName, logger }),
  });
};

/**
 * The running local pipeline.
 *
 * @example
 * const pipeline = await LocalPipeline.start({ sqs, config, secrets: new EnvSecretResolver() });
 * // push events to pipeline.queues.ingest ...
 * await pipeline.stop();
 */
class LocalPipeline {
  private constructor(
    readonly queues: QueueDirectory,
    readonly mappings: readonly EventSourceMapping[],
  ) {}

  /** Creates the queues and starts polling them. */
  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    // Powertools Metrics would print EMF records to stdout at every invocation.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const { sqs, config } = options;
    const stage = options.stage ?? 'local';
    const queues = await createPipelineQueues(sqs, config, stage, options.visibilityTimeoutSeconds);
    const notify = options.notify ?? ignoreNotices;
    const exportOfQueueArn = exportLocator(config, stage);
    const common = {
      sqs,
      waitTimeSeconds: options.pollWaitSeconds ?? 1,
      ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
    };
    const ingest = createIngestHandler({
      sqs,
      config,
      queues,
      notify,
      observability: localObservability('ingest', options.logLevel),
    });
    const delivery = createDeliveryHandler({
      sqs,
      queues,
      exports: exportsByName(config),
      http: options.http ?? defaultHttpClient(),
      ...(options.guardedHttp === undefined ? {} : { guardedHttp: options.guardedHttp }),
      secrets: options.secrets,
      exportOfQueueArn,
      notify,
      // One process runs every invocation here: it enforces the whole rate limit, not a share.
      guards: new ExportGuards({ rateScope: RATE_SCOPES.process }),
      ...(options.infraRetrySeconds === undefined
        ? {}
        : { infraRetrySeconds: options.infraRetrySeconds }),
      ...(options.presets === undefined ? {} : { presets: options.presets }),
      observability: localObservability('delivery', options.logLevel),
    });
    const dlq = createDlqHandler({
      sqs,
      queues,
      exportOfQueueArn,
      notify,
      observability: localObservability('dlq', options.logLevel),
    });
    const mappings = [
      new EventSourceMapping({
        ...common,
        queueUrl: queues.ingest,
        handler: ingest,
        functionName: 'ingest',
        functionTimeoutMs: PLAIN_FUNCTION_TIMEOUT_SECONDS * 1000,
        maxConcurrency: 2,
      }),
      ...config.exports.flatMap((exportConfig) => [
        new EventSourceMapping({
          ...common,
          queueUrl: queues.delivery(exportConfig.name),
          handler: delivery,
          functionName: 'delivery',
          functionTimeoutMs: deliveryFunctionTimeoutSeconds(config) * 1000,
          batchSize: eventSourceBatchSize(exportConfig),
          maxBatchingWindowMs: batchingWindowSeconds(exportConfig) * 1000,
          maxConcurrency: options.deliveryConcurrency ?? exportConfig.delivery.max_concurrency,
        }),
        new EventSourceMapping({
          ...common,
          queueUrl: queues.deliveryDlq(exportConfig.name),
          handler: dlq,
          functionName: 'dlq',
          functionTimeoutMs: PLAIN_FUNCTION_TIMEOUT_SECONDS * 1000,
          maxConcurrency: 1,
        }),
      ]),
    ];
    for (const mapping of mappings) mapping.start();
    return new LocalPipeline(queues, mappings);
  }

  /** Stops polling; in-flight invocations finish first, unfinished records stay queued. */
  async stop(): Promise<void> {
    await Promise.all(this.mappings.map((mapping) => mapping.stop()));
  }
}

export type { LocalPipelineOptions };
export { createPipelineQueues, LocalPipeline };
