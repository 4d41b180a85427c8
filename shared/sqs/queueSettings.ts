/**
 * Queue, event source and function settings derived from the config: the values (and their
 * reasons) that `sqs/topology.ts` assembles into a stage, which the CDK stack and the local
 * stack both build from.
 */
import type { ExportConfig, ObservabilityConfig } from '../config/types.js';
import type { FunctionRole } from './queueNames.js';

const DAY_SECONDS = 86_400;

/** Retention of messages waiting for delivery or ingestion. */
const SOURCE_RETENTION_SECONDS = 4 * DAY_SECONDS;
/**
 * Retention of dead letters: 14 days, SQS's maximum, and longer than their sources' (SQS keeps
 * a message's original enqueue time when it redrives it).
 */
const DEAD_LETTER_RETENTION_SECONDS = 14 * DAY_SECONDS;

/**
 * Receives of one copy of a delivery message beyond its attempts before SQS redrives it.
 * Deferrals (our SSM or SQS failing, an invocation out of time, a Lambda throttle, a long
 * backoff) spend receives but not attempts; this is their budget.
 */
const REDRIVE_HEADROOM = 5;

/** Longest `timeout_seconds` among the exports (the delivery function serves them all). */
const longestTimeoutSeconds = (config: ObservabilityConfig): number =>
  Math.max(0, ...config.exports.map((exportConfig) => exportConfig.webhook.timeout_seconds));

/**
 * Timeout of the delivery function: a batch is sent concurrently, so one webhook timeout plus
 * room for rendering, SSM and the SQS calls; never below 30 s.
 */
const deliveryFunctionTimeoutSeconds = (config: ObservabilityConfig): number =>
  Math.max(30, 2 * longestTimeoutSeconds(config) + 10);

/** Timeout of the ingest and dead-letter functions: SQS calls only. */
const PLAIN_FUNCTION_TIMEOUT_SECONDS = 30;

/**
 * Visibility timeout of a queue consumed by a function: six times the function timeout, as AWS
 * recommends, so a slow invocation's records never reappear while it is still working on them.
 */
const visibilityTimeoutFor = (functionTimeoutSeconds: number): number => 6 * functionTimeoutSeconds;

/** `maxReceiveCount` of an export's delivery queue: its attempts plus the deferral budget. */
const maxReceiveCountFor = (exportConfig: ExportConfig): number =>
  exportConfig.retry.max_attempts + REDRIVE_HEADROOM;

/**
 * Records per invocation of an export's event source: `batch.max_events` for a batched export
 * (up to 10,000, with a batching window), else `delivery.batch_size`.
 */
const eventSourceBatchSize = (exportConfig: ExportConfig): number =>
  exportConfig.batch?.max_events ?? exportConfig.delivery.batch_size;

/** The batching window of an export's event source in seconds; 0 for none. */
const batchingWindowSeconds = (exportConfig: ExportConfig): number =>
  exportConfig.batch?.max_wait_seconds ?? 0;

/**
 * Visibility timeout of an export's delivery queue: six times the function timeout, plus the
 * batching window (records are already received while the event source gathers the batch).
 */
const deliveryVisibilityTimeoutFor = (
  config: ObservabilityConfig,
  exportConfig: ExportConfig,
): number =>
  visibilityTimeoutFor(deliveryFunctionTimeoutSeconds(config)) +
  batchingWindowSeconds(exportConfig);

/** `maxReceiveCount` of the ingest queue: a record failing this often is parked as it is. */
const INGEST_MAX_RECEIVE_COUNT = 5;

/** Longest wait after a failure of our own infrastructure before a record is tried again. */
const MAX_INFRA_RETRY_SECONDS = 900;

/**
 * How long a record waits after its `receiveCount`-th receive failed on our own
 * infrastructure (a secret store outage for a delivery, an ingest queue that refuses the
 * `webhook.dlq` raise): `baseSeconds` doubling per receive, at most 15 minutes. The delivery
 * engine and the dead-letter step both back off by it.
 *
 * @example
 * infraRetryDelaySeconds(3, 10); // 40
 */
const infraRetryDelaySeconds = (receiveCount: number, baseSeconds: number): number => {
  const receives = Math.max(1, Number.isFinite(receiveCount) ? receiveCount : 1);
  return Math.min(baseSeconds * 2 ** (receives - 1), MAX_INFRA_RETRY_SECONDS);
};

/** Total wait of `receives` receives that all failed on our infrastructure, in seconds. */
const infraRetryBudgetSeconds = (receives: number, baseSeconds: number): number => {
  let total = 0;
  for (let receive = 1; receive < receives; receive += 1) {
    total += infraRetryDelaySeconds(receive, baseSeconds);
  }
  return total;
};

/** First wait of the dead-letter step after its `webhook.dlq` raise failed. */
const RAISE_RETRY_BASE_SECONDS = 10;

/**
 * `maxReceiveCount` of a delivery dead-letter queue before SQS moves its records to the archive
 * by itself. A record whose `webhook.dlq` raise fails is hidden with the infrastructure backoff,
 * so 100 receives ride out about 23 hours of ingest outage (infraRetryBudgetSeconds(100, 10));
 * 10 receives at the queue's 180 s visibility were half an hour. On its last receive the
 * dead-letter step archives the record itself, marked `alert: not_raised`, with an alarm, so
 * no dead letter reaches the archive silently (issue 16).
 */
const DLQ_MAX_RECEIVE_COUNT = 100;

/** Records per ingest and dead-letter invocation (SQS's largest batch without a long window). */
const PLAIN_BATCH_SIZE = 10;

/** The ingest event source waits this long to fill a batch: fewer, fuller SendMessageBatch calls. */
const INGEST_BATCHING_WINDOW_SECONDS = 1;

/**
 * Concurrent invocations per delivery DLQ event source. Dead letters are rare; two is plenty,
 * and Lambda's minimum for `MaximumConcurrency`.
 */
const DEAD_LETTER_MAX_CONCURRENCY = 2;

/** Memory of each function, in MB. Delivery sends a batch concurrently over TLS: more CPU. */
const FUNCTION_MEMORY_MB = { ingest: 256, delivery: 512, dlq: 256 } as const satisfies Record<
  FunctionRole,
  number
>;

export {
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
  infraRetryBudgetSeconds,
  infraRetryDelaySeconds,
  longestTimeoutSeconds,
  MAX_INFRA_RETRY_SECONDS,
  maxReceiveCountFor,
  PLAIN_BATCH_SIZE,
  PLAIN_FUNCTION_TIMEOUT_SECONDS,
  RAISE_RETRY_BASE_SECONDS,
  REDRIVE_HEADROOM,
  SOURCE_RETENTION_SECONDS,
  visibilityTimeoutFor,
};
