/**
 * The delivery function, triggered by each export's delivery queue: renders, sends, and
 * retries or dead-letters, reporting partial batch failures. Thin: the work is `deliverRecord`
 * in shared/pipeline/deliver.ts.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { defaultHttpClient } from '../shared/http.js';
import {
  DeliveryDeferredError,
  type DeliveryDeps,
  deliverRecord,
} from '../shared/pipeline/deliver.js';
import { combineSinks, type NoticeSink } from '../shared/pipeline/notices.js';
import { createObservability, type Observability } from './observability.js';
import { exportLocator, exportsByName, runtimeFromEnvironment } from './runtime.js';

interface DeliveryHandlerDeps extends Omit<DeliveryDeps, 'notify'> {
  readonly observability?: Observability;
  readonly notify?: NoticeSink;
}

/**
 * The middy-wrapped delivery handler with its dependencies injected. Records of a batch are
 * delivered concurrently (a batch holds at most 10).
 *
 * @example
 * const handler = createDeliveryHandler({ sqs, queues, exports, http, secrets, exportOfQueueArn });
 */
const createDeliveryHandler = (deps: DeliveryHandlerDeps) => {
  const observability = deps.observability ?? createObservability({ functionName: 'delivery' });
  const notify = deps.notify
    ? combineSinks(observability.notify, deps.notify)
    : observability.notify;
  const { logger } = observability;
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(observability.metrics))
    .handler(async (event, context) => {
      const clock = { remainingMs: () => context.getRemainingTimeInMillis() };
      const recordHandler = async (record: SQSRecord) => {
        try {
          await deliverRecord(record, { ...deps, notify }, clock);
        } catch (error) {
          // Deferrals were already reported as notices; anything else is unexpected.
          if (!(error instanceof DeliveryDeferredError)) {
            logger.error('delivery failed; the record returns to its queue', {
              message_id: record.messageId,
              error,
            });
          }
          throw error;
        }
      };
      // One processor per invocation: its state must not be shared by concurrent invocations
      // (the local stack runs several in one process).
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(event, recordHandler, processor, {
        context,
        processInParallel: true,
        throwOnFullBatchFailure: false,
      });
    });
};

let instance: ReturnType<typeof createDeliveryHandler> | undefined;

/** The Lambda entry point; dependencies are built on the first invocation of a container. */
const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (!instance) {
    const runtime = runtimeFromEnvironment();
    instance = createDeliveryHandler({
      sqs: runtime.sqs,
      queues: runtime.queues,
      exports: exportsByName(runtime.config),
      http: defaultHttpClient(),
      secrets: runtime.secrets(),
      exportOfQueueArn: exportLocator(runtime.config, runtime.stage),
    });
  }
  return instance(event, context);
};

export type { DeliveryHandlerDeps };
export { createDeliveryHandler, handler };
