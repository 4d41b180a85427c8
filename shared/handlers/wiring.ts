/**
 * The middy wiring every handler shares: Powertools logger context, metrics written once per
 * invocation, and partial batch responses.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { combineSinks, type NoticeSink } from '../observability/notices.js';
import { createObservability, type Observability } from '../observability/observability.js';

/** What a handler factory accepts besides its core dependencies. */
interface HandlerObservability {
  readonly observability?: Observability;
  /** Extra notice sink (the local stack prints from it, tests record it). */
  readonly notify?: NoticeSink;
}

/** The observability of a handler and the sink its core reports to. */
const observe = (
  functionName: string,
  options: HandlerObservability,
): { observability: Observability; notify: NoticeSink } => {
  const observability = options.observability ?? createObservability({ functionName });
  const notify = options.notify
    ? combineSinks(observability.notify, options.notify)
    : observability.notify;
  return { observability, notify };
};

/** Writes the invocation's buffered metrics when it ends, whether it succeeded or not. */
const flushMetrics = (observability: Observability): MiddlewareObj<SQSEvent, SQSBatchResponse> => ({
  after: () => observability.flushMetrics(),
  onError: () => observability.flushMetrics(),
});

/**
 * A middy SQS handler with the shared middleware around `body`.
 *
 * @example
 * const handler = sqsHandler(observability, async (event) => fanOut(event.Records, deps));
 */
const sqsHandler = (
  observability: Observability,
  body: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
) =>
  // No early timeout: the delivery engine checks the time left itself before each send (a
  // record without time is deferred, not failed), and middy's early timeout is a timer and a
  // promise race per invocation (npm run bench, figure 7).
  middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(observability.logger))
    .use(flushMetrics(observability))
    .handler(body);

/**
 * Runs `recordHandler` on every record concurrently (a batch holds at most 10) and reports the
 * ones that threw as batch item failures: the partial batch response of Powertools' batch
 * processor (`processInParallel`, no throw on a full failure), without its per-invocation
 * processor object, whose bookkeeping cost more than the rest of the wrapper (npm run bench,
 * figure 7). Stateless, so concurrent invocations in one process cannot mix their records.
 */
const processRecords = async (
  event: SQSEvent,
  recordHandler: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> => {
  const outcomes = await Promise.allSettled(event.Records.map((record) => recordHandler(record)));
  return {
    batchItemFailures: event.Records.filter(
      (_record, index) => outcomes[index]?.status === 'rejected',
    ).map((record) => ({ itemIdentifier: record.messageId })),
  };
};

export type { HandlerObservability };
export { observe, processRecords, sqsHandler };
