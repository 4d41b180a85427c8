/**
 * The whole pipeline on one machine: the queues the CDK stack creates, on an SQS-compatible
 * server, and the real three handlers driven by event source mappings with Lambda's semantics.
 * Both are built from the stage topology (`shared/sqs/topology.ts`), the description the CDK
 * stack is built from: same names, attributes, redrive policies, batch sizes, batching windows,
 * concurrency and function timeouts (`test/integration/topologyParity.test.ts` checks it).
 *
 * What the embedded server and the emulator do not model: SSE-SQS encryption (KMS), the
 * deny-unless-TLS queue policy and the redrive allow policies (IAM-side; nothing here
 * authenticates), the functions' memory, and Lambda scaling a mapping without a concurrency
 * limit (see `eventSource.ts`).
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
import { exportsByName } from '../shared/config/exportsByName.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { createDlqHandler } from '../shared/handlers/deadLetters.js';
import { createDeliveryHandler } from '../shared/handlers/delivery.js';
import { createIngestHandler } from '../shared/handlers/ingest.js';
import { ignoreNotices, type NoticeSink } from '../shared/observability/notices.js';
import { createObservability, METRICS_NAMESPACE } from '../shared/observability/observability.js';
import { ExportGuards, RATE_SCOPES } from '../shared/pipeline/flowControl/exportGuards.js';
import type { PresetOptions } from '../shared/request/presets/index.js';
import type { SecretResolver } from '../shared/secrets/resolvers.js';
import {
  exportLocator,
  type FunctionRole,
  type QueueDirectory,
  queueDirectory,
} from '../shared/sqs/queueNames.js';
import {
  type EventSourceTopology,
  type QueueTopology,
  type StageTopology,
  stageTopology,
} from '../shared/sqs/topology.js';
import { defaultHttpClient, type HttpClient } from '../shared/transport/http.js';
import {
  EventSourceMapping,
  type InvocationOutcome,
  LAMBDA_POLL_WAIT_SECONDS,
  type SqsBatchHandler,
} from './eventSource.js';

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
   * Visibility timeout of every queue a function consumes, instead of the topology's (6x the
   * function timeout). Tests shorten it so that a record of a failed invocation comes back
   * quickly.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait of the event sources, 0-20 s. @default {@link LAMBDA_POLL_WAIT_SECONDS} */
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
  /**
   * Changes the stage topology before anything is built from it. Tests only: e.g. to run the
   * delivery function with `recursiveLoop: 'Terminate'` and see what the deployed setting
   * prevents. @default the topology as the stack deploys it
   */
  readonly adjustTopology?: (topology: StageTopology) => StageTopology;
  /**
   * The event sources this pipeline runs, when it runs a share of them: its functions, and
   * for delivery, its exports. The other shares run in other threads
   * (`local/threadedPipeline.ts`). @default every event source
   */
  readonly share?: PipelineShare;
}

/** A share of a stage's event sources: by function, and delivery's by export. */
interface PipelineShare {
  readonly roles: readonly FunctionRole[];
  /** The exports whose delivery queues it polls. @default all of them */
  readonly deliveryExports?: readonly string[];
}

/** Whether an event source is in a share. */
const inShare = (share: PipelineShare | undefined, source: EventSourceTopology): boolean =>
  share === undefined ||
  (share.roles.includes(source.functionRole) &&
    (source.functionRole !== 'delivery' ||
      share.deliveryExports === undefined ||
      (source.exportName !== undefined && share.deliveryExports.includes(source.exportName))));

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

/** The queue's attributes as CreateQueue takes them; every one set, so a rerun resets it. */
const queueAttributes = (
  spec: QueueTopology,
  visibilityTimeoutSeconds: number,
  deadLetterTargetArn: string | undefined,
): Record<string, string> => ({
  VisibilityTimeout: String(visibilityTimeoutSeconds),
  MessageRetentionPeriod: String(spec.retentionSeconds),
  DelaySeconds: String(spec.delaySeconds),
  ...(spec.redrive && deadLetterTargetArn
    ? {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn,
          maxReceiveCount: spec.redrive.maxReceiveCount,
        }),
      }
    : {}),
});

/**
 * Creates every queue of a topology, in its order (dead-letter queues first), and returns
 * their URLs by name. `visibilityOverride` replaces the visibility timeout of the queues an
 * event source consumes (the others keep SQS's default, as on AWS).
 */
const createTopologyQueues = async (
  sqs: SQSClient,
  topology: StageTopology,
  visibilityOverride?: number,
): Promise<Map<string, string>> => {
  const consumed = new Set(topology.eventSources.map((source) => source.queueName));
  const redriveTargets = new Set(
    topology.queues.flatMap((queue) => queue.redrive?.deadLetterQueue ?? []),
  );
  const urls = new Map<string, string>();
  const arns = new Map<string, string>();
  for (const spec of topology.queues) {
    const target = spec.redrive?.deadLetterQueue;
    const targetArn = target === undefined ? undefined : arns.get(target);
    if (target !== undefined && targetArn === undefined) {
      throw new Error(
        `queue ${spec.name} redrives into ${target}, which the topology does not list before it`,
      );
    }
    const visibility =
      visibilityOverride !== undefined && consumed.has(spec.name)
        ? visibilityOverride
        : spec.visibilityTimeoutSeconds;
    const url = await createQueue(sqs, spec.name, queueAttributes(spec, visibility, targetArn));
    urls.set(spec.name, url);
    if (redriveTargets.has(spec.name)) arns.set(spec.name, await queueArn(sqs, url));
  }
  return urls;
};

/** The URL of a queue created by {@link createTopologyQueues}. */
const urlOf = (urls: ReadonlyMap<string, string>, name: string): string => {
  const url = urls.get(name);
  if (url === undefined) throw new Error(`the topology has no queue ${name}`);
  return url;
};

/** The stage's queue directory, from the URL of any of its queues. */
const directoryOf = (
  topology: StageTopology,
  urls: ReadonlyMap<string, string>,
): QueueDirectory => {
  const [first] = topology.queues;
  if (!first) throw new Error(`stage ${topology.stage} has no queues`);
  // The server's queue URLs differ only in the name: derive the base from one of them.
  return queueDirectory(urlOf(urls, first.name).slice(0, -first.name.length), topology.stage);
};

/**
 * Creates (or finds and updates) every queue of a stage, as the CDK stack builds them from the
 * same topology, and returns their URLs.
 *
 * @example
 * const queues = await createPipelineQueues(sqs, config, 'local');
 * queues.delivery('pagerduty-alerts'); // http://127.0.0.1:4566/000000000000/tappass-local-deliver-pagerduty-alerts
 */
const createPipelineQueues = async (
  sqs: SQSClient,
  config: ObservabilityConfig,
  stage: string,
  visibilityOverride?: number,
): Promise<QueueDirectory> => {
  const topology = stageTopology(stage, config);
  return directoryOf(topology, await createTopologyQueues(sqs, topology, visibilityOverride));
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
    /** What the pipeline was built from. */
    readonly topology: StageTopology,
    readonly queues: QueueDirectory,
    /** One per event source of the topology, in its order. */
    readonly mappings: readonly EventSourceMapping[],
  ) {}

  /** Creates the queues and starts polling them. */
  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    // Powertools Metrics would print EMF records to stdout at every invocation.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    const { sqs, config } = options;
    const stage = options.stage ?? 'local';
    const deployed = stageTopology(stage, config);
    const topology = options.adjustTopology ? options.adjustTopology(deployed) : deployed;
    const urls = await createTopologyQueues(sqs, topology, options.visibilityTimeoutSeconds);
    const queues = directoryOf(topology, urls);
    const notify = options.notify ?? ignoreNotices;
    const exportOfQueueArn = exportLocator(config, stage);
    const common = {
      sqs,
      waitTimeSeconds: options.pollWaitSeconds ?? LAMBDA_POLL_WAIT_SECONDS,
      ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
    };
    const sources = topology.eventSources.filter((source) => inShare(options.share, source));
    const runs = (role: FunctionRole) => sources.some((source) => source.functionRole === role);
    const ingest = () =>
      createIngestHandler({
        sqs,
        config,
        queues,
        notify,
        observability: localObservability('ingest', options.logLevel),
      });
    const delivery = () =>
      createDeliveryHandler({
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
    const dlq = () =>
      createDlqHandler({
        sqs,
        queues,
        exportOfQueueArn,
        notify,
        observability: localObservability('dlq', options.logLevel),
      });
    // Only the functions of the share: each holds per-container state (breakers, ledgers).
    const handlers: Partial<Record<FunctionRole, SqsBatchHandler>> = {
      ...(runs('ingest') ? { ingest: ingest() } : {}),
      ...(runs('delivery') ? { delivery: delivery() } : {}),
      ...(runs('dlq') ? { dlq: dlq() } : {}),
    };
    const handlerOf = (role: FunctionRole): SqsBatchHandler => {
      const handler = handlers[role];
      if (handler === undefined) throw new Error(`no ${role} handler in this share`);
      return handler;
    };
    const mappings = sources.map((source) =>
      EventSourceMapping.fromTopology({
        ...common,
        queueUrl: urlOf(urls, source.queueName),
        handler: handlerOf(source.functionRole),
        // Tests may run delivery at another concurrency than the export's.
        source:
          source.functionRole === 'delivery' && options.deliveryConcurrency !== undefined
            ? { ...source, maxConcurrency: options.deliveryConcurrency }
            : source,
        function: topology.functions[source.functionRole],
      }),
    );
    for (const mapping of mappings) mapping.start();
    return new LocalPipeline(topology, queues, mappings);
  }

  /**
   * Stops polling; in-flight invocations finish first, unfinished records stay queued. The
   * mappings stop together: one function sends to another's queue until its invocations end.
   */
  async stop(): Promise<void> {
    await EventSourceMapping.stopAll(this.mappings);
  }
}

export type { LocalPipelineOptions, PipelineShare };
export { createPipelineQueues, LocalPipeline };
