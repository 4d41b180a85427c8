/**
 * The topology of one stage, as data: every queue with its attributes and redrive, every event
 * source mapping with its batching and concurrency, every function with its timeout and memory.
 * `infra/` builds the CDK stack from it and `local/` the embedded queues and the event-source
 * emulator, so the two cannot drift apart; `test/integration/topologyParity.test.ts` compares
 * what each of them builds.
 *
 * ```
 * ingest ──redrive──▶ ingest-dlq        (the ingest function also parks invalid events there)
 * deliver-<export> ──redrive──▶ deliver-<export>-dlq ──redrive──▶ dead-letters (the archive)
 *
 * ingest ──ESM──▶ ingest λ    deliver-<export> ──ESM──▶ delivery λ    deliver-<export>-dlq ──ESM──▶ dlq λ
 * ```
 *
 * Pure: no CDK, no AWS SDK. Names come from `../queueNames.ts`, values and their reasons from
 * `../queueSettings.ts`; this module only says which queue, mapping and function gets which.
 * What only one side can express (encryption, the TLS-only policy and the redrive allow policy
 * on AWS; poll waits locally) stays with that side's builder.
 */
import type { ExportConfig, ObservabilityConfig } from '../config/types.js';
import { type FunctionRole, functionName, queueNames } from './queueNames.js';
import {
  batchingWindowSeconds,
  DEAD_LETTER_MAX_CONCURRENCY,
  DEAD_LETTER_RETENTION_SECONDS,
  DLQ_MAX_RECEIVE_COUNT,
  deliveryFunctionTimeoutSeconds,
  deliveryVisibilityTimeoutFor,
  eventSourceBatchSize,
  FUNCTION_MEMORY_MB,
  INGEST_BATCHING_WINDOW_SECONDS,
  INGEST_MAX_RECEIVE_COUNT,
  maxReceiveCountFor,
  PLAIN_BATCH_SIZE,
  PLAIN_FUNCTION_TIMEOUT_SECONDS,
  SOURCE_RETENTION_SECONDS,
  visibilityTimeoutFor,
} from './queueSettings.js';

/** What a queue is for in the pipeline. */
const QUEUE_ROLES = {
  /** Producers send audit events here; consumed by the ingest function. */
  ingest: 'ingest',
  /** Ingest records that failed too often, and invalid events the ingest function parks. */
  ingestDlq: 'ingestDlq',
  /** Dead-lettered deliveries, kept 14 days; no consumer (the CLI lists and redrives it). */
  archive: 'archive',
  /** One per export; consumed by the delivery function. */
  delivery: 'delivery',
  /** One per export; consumed by the dead-letter function, redrives into the archive. */
  deliveryDlq: 'deliveryDlq',
} as const;
type QueueRole = (typeof QUEUE_ROLES)[keyof typeof QUEUE_ROLES];

/**
 * What SQS (and the embedded server) use for an attribute that is not set. The CDK builder
 * leaves these out of the template, as the stack always has.
 */
const SQS_QUEUE_DEFAULTS = {
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
} as const;

/** Where SQS moves a message that has been received too often. */
interface QueueRedrive {
  /** Name of the dead-letter queue; it comes before this queue in {@link StageTopology.queues}. */
  readonly deadLetterQueue: string;
  /** Receives of one message before SQS moves it. */
  readonly maxReceiveCount: number;
}

/** One queue of a stage and its attributes. */
interface QueueTopology {
  /** Full queue name, from `queueNames(stage)`. */
  readonly name: string;
  readonly role: QueueRole;
  /** The export a delivery queue or delivery DLQ belongs to. */
  readonly exportName?: string;
  /**
   * How long a received message stays hidden: six times its consumer's timeout (plus the
   * batching window of a batched export), or SQS's default for a queue no function consumes.
   */
  readonly visibilityTimeoutSeconds: number;
  /** How long SQS keeps a message. */
  readonly retentionSeconds: number;
  /** Delay of every message sent to the queue (per-message delays come on top). */
  readonly delaySeconds: number;
  /** Where messages received too often go; absent for a queue that is a last stop. */
  readonly redrive?: QueueRedrive;
}

/** One event source mapping: a queue polled for one function. */
interface EventSourceTopology {
  /** Name of the queue it consumes. */
  readonly queueName: string;
  /** The function it invokes. */
  readonly functionRole: FunctionRole;
  /** The export of a delivery or delivery DLQ mapping. */
  readonly exportName?: string;
  /** Records per invocation at most (`BatchSize`). */
  readonly batchSize: number;
  /** How long to gather records for a batch (`MaximumBatchingWindowInSeconds`); 0 for none. */
  readonly maxBatchingWindowSeconds: number;
  /**
   * Concurrent invocations at most (`ScalingConfig.MaximumConcurrency`).
   * @default no limit: Lambda scales the pollers with the backlog
   */
  readonly maxConcurrency?: number;
  /** Handlers answer partial batch responses (`ReportBatchItemFailures`), always. */
  readonly reportBatchItemFailures: true;
}

/**
 * Lambda's recursive loop detection setting of a function (`RecursiveLoop` of
 * `AWS::Lambda::Function`). Lambda follows a chain of invocations through the trace header the
 * SDK adds to what a function sends (the X-Ray `Lineage` field, no active tracing needed), and
 * under `Terminate` stops a function invoked more than {@link LAMBDA_RECURSION_LIMIT} times in
 * one chain: https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
 */
const RECURSIVE_LOOP = { allow: 'Allow', terminate: 'Terminate' } as const;
type RecursiveLoopSetting = (typeof RECURSIVE_LOOP)[keyof typeof RECURSIVE_LOOP];

/**
 * Invocations of one function in one chain that Lambda lets run under `Terminate`; it stops the
 * next one (the 17th) and sends the event to the dead-letter queue, if one is configured (for an
 * SQS trigger: the queue's redrive target). "16 recursive calls" in the launch note,
 * https://aws.amazon.com/about-aws/whats-new/2023/07/aws-lambda-detects-recursive-loops-lambda-functions/
 */
const LAMBDA_RECURSION_LIMIT = 16;

/**
 * Source queues a redrive allow policy (`byQueue`) can name: 10
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_sqs.RedriveAllowPolicy.html,
 * `sourceQueues`: "You can specify up to 10 source queues").
 */
const MAX_REDRIVE_SOURCES = 10;

/** One function of a stage. */
interface FunctionTopology {
  readonly role: FunctionRole;
  /** Full function name, from `functionName(stage, role)`. */
  readonly name: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /**
   * Lambda's recursive loop detection. `Allow` for the delivery function only: every retry and
   * every hold is a message it sends to its own trigger queue, so a delivery with more than 16
   * attempts (or a long pause) is a chain of more than 16 invocations by design. Our own guards
   * end real loops: `max_attempts`, `max_event_age_seconds`, the receive budget
   * (`maxReceiveCount`) and the one-level `webhook.dlq` rule. Ingest and the dead-letter
   * function keep `Terminate`.
   */
  readonly recursiveLoop: RecursiveLoopSetting;
}

/** Everything of one stage that both the CDK stack and the local stack build. */
interface StageTopology {
  readonly stage: string;
  /**
   * Every queue, each dead-letter queue before the queues that redrive into it: the ingest DLQ,
   * ingest, the archive, then per export (config order) its DLQ and its delivery queue.
   */
  readonly queues: readonly QueueTopology[];
  /** Ingest, then each export's delivery queue, then each export's DLQ (config order). */
  readonly eventSources: readonly EventSourceTopology[];
  readonly functions: Readonly<Record<FunctionRole, FunctionTopology>>;
}

const functionsOf = (
  stage: string,
  config: ObservabilityConfig,
): Readonly<Record<FunctionRole, FunctionTopology>> => {
  const fn = (role: FunctionRole, timeoutSeconds: number): FunctionTopology => ({
    role,
    name: functionName(stage, role),
    timeoutSeconds,
    memoryMb: FUNCTION_MEMORY_MB[role],
    recursiveLoop: role === 'delivery' ? RECURSIVE_LOOP.allow : RECURSIVE_LOOP.terminate,
  });
  return {
    ingest: fn('ingest', PLAIN_FUNCTION_TIMEOUT_SECONDS),
    // One function serves every export: its timeout covers the slowest webhook.
    delivery: fn('delivery', deliveryFunctionTimeoutSeconds(config)),
    dlq: fn('dlq', PLAIN_FUNCTION_TIMEOUT_SECONDS),
  };
};

/**
 * Whether the delivery DLQs redrive into the archive. SQS's native redrive there is a backstop
 * for dead letters the dead-letter function keeps failing on; the archive's redrive allow
 * policy must then name every DLQ, and it can name {@link MAX_REDRIVE_SOURCES}. Above that,
 * rather than let any queue of the account dead-letter into the archive (`allowAll`), the DLQs
 * have no redrive and the archive denies all: such a dead letter stays in its export's DLQ
 * (14 days, the archive's retention), retried by the dead-letter function, with the export's
 * dead-letters alarm on. The CLI's `dlq redrive` replays the archive with SendMessage, which
 * the allow policy does not govern.
 */
const deadLettersRedriveToArchive = (config: ObservabilityConfig): boolean =>
  config.exports.length <= MAX_REDRIVE_SOURCES;

const exportQueues = (
  stage: string,
  config: ObservabilityConfig,
  exportConfig: ExportConfig,
  archive: string,
): QueueTopology[] => {
  const names = queueNames(stage);
  const exportName = exportConfig.name;
  const deadLetters = names.deliveryDlq(exportName);
  return [
    {
      name: deadLetters,
      role: QUEUE_ROLES.deliveryDlq,
      exportName,
      visibilityTimeoutSeconds: visibilityTimeoutFor(PLAIN_FUNCTION_TIMEOUT_SECONDS),
      retentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      delaySeconds: SQS_QUEUE_DEFAULTS.delaySeconds,
      ...(deadLettersRedriveToArchive(config)
        ? { redrive: { deadLetterQueue: archive, maxReceiveCount: DLQ_MAX_RECEIVE_COUNT } }
        : {}),
    },
    {
      name: names.delivery(exportName),
      role: QUEUE_ROLES.delivery,
      exportName,
      visibilityTimeoutSeconds: deliveryVisibilityTimeoutFor(config, exportConfig),
      retentionSeconds: SOURCE_RETENTION_SECONDS,
      delaySeconds: SQS_QUEUE_DEFAULTS.delaySeconds,
      redrive: { deadLetterQueue: deadLetters, maxReceiveCount: maxReceiveCountFor(exportConfig) },
    },
  ];
};

const queuesOf = (stage: string, config: ObservabilityConfig): QueueTopology[] => {
  const names = queueNames(stage);
  return [
    {
      name: names.ingestDlq,
      role: QUEUE_ROLES.ingestDlq,
      visibilityTimeoutSeconds: SQS_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
      retentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      delaySeconds: SQS_QUEUE_DEFAULTS.delaySeconds,
    },
    {
      name: names.ingest,
      role: QUEUE_ROLES.ingest,
      visibilityTimeoutSeconds: visibilityTimeoutFor(PLAIN_FUNCTION_TIMEOUT_SECONDS),
      retentionSeconds: SOURCE_RETENTION_SECONDS,
      delaySeconds: SQS_QUEUE_DEFAULTS.delaySeconds,
      redrive: { deadLetterQueue: names.ingestDlq, maxReceiveCount: INGEST_MAX_RECEIVE_COUNT },
    },
    {
      name: names.deadLetters,
      role: QUEUE_ROLES.archive,
      visibilityTimeoutSeconds: SQS_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
      retentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      delaySeconds: SQS_QUEUE_DEFAULTS.delaySeconds,
    },
    ...config.exports.flatMap((exportConfig) =>
      exportQueues(stage, config, exportConfig, names.deadLetters),
    ),
  ];
};

const eventSourcesOf = (stage: string, config: ObservabilityConfig): EventSourceTopology[] => {
  const names = queueNames(stage);
  const ingest: EventSourceTopology = {
    queueName: names.ingest,
    functionRole: 'ingest',
    batchSize: PLAIN_BATCH_SIZE,
    maxBatchingWindowSeconds: INGEST_BATCHING_WINDOW_SECONDS,
    reportBatchItemFailures: true,
  };
  const deliveries = config.exports.map(
    (exportConfig): EventSourceTopology => ({
      queueName: names.delivery(exportConfig.name),
      functionRole: 'delivery',
      exportName: exportConfig.name,
      // A batched export takes batch.max_events records, gathered for up to max_wait_seconds.
      batchSize: eventSourceBatchSize(exportConfig),
      maxBatchingWindowSeconds: batchingWindowSeconds(exportConfig),
      maxConcurrency: exportConfig.delivery.max_concurrency,
      reportBatchItemFailures: true,
    }),
  );
  const deadLetters = config.exports.map(
    (exportConfig): EventSourceTopology => ({
      queueName: names.deliveryDlq(exportConfig.name),
      functionRole: 'dlq',
      exportName: exportConfig.name,
      batchSize: PLAIN_BATCH_SIZE,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: DEAD_LETTER_MAX_CONCURRENCY,
      reportBatchItemFailures: true,
    }),
  );
  return [ingest, ...deliveries, ...deadLetters];
};

/**
 * The topology of a stage for a loaded config (every default applied).
 *
 * @throws StageNameError when the stage cannot be part of resource names.
 *
 * @example
 * const topology = stageTopology('dev', config);
 * topology.queues.find((queue) => queue.role === 'ingest')?.visibilityTimeoutSeconds; // 180
 * topology.functions.delivery.timeoutSeconds; // 30 for webhooks of 10 s
 */
const stageTopology = (stage: string, config: ObservabilityConfig): StageTopology => ({
  stage,
  queues: queuesOf(stage, config),
  eventSources: eventSourcesOf(stage, config),
  functions: functionsOf(stage, config),
});

/**
 * Names of the queues that redrive into `queueName`, in topology order: the sources its
 * redrive allow policy names on AWS.
 */
const redriveSourcesOf = (topology: StageTopology, queueName: string): string[] =>
  topology.queues
    .filter((queue) => queue.redrive?.deadLetterQueue === queueName)
    .map((queue) => queue.name);

export type {
  EventSourceTopology,
  FunctionTopology,
  QueueRedrive,
  QueueRole,
  QueueTopology,
  RecursiveLoopSetting,
  StageTopology,
};
export {
  LAMBDA_RECURSION_LIMIT,
  MAX_REDRIVE_SOURCES,
  QUEUE_ROLES,
  RECURSIVE_LOOP,
  redriveSourcesOf,
  SQS_QUEUE_DEFAULTS,
  stageTopology,
};
