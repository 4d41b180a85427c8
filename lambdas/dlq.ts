/**
 * The dead-letter function, triggered by each export's delivery dead-letter queue: raises one
 * `webhook.dlq` event per dead letter and archives it. Thin: the work is `handleDeadLetter` in
 * shared/pipeline/deadLetters.ts.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type DeadLetterDeps, handleDeadLetter } from '../shared/pipeline/deadLetters.js';
import { combineSinks, type NoticeSink } from '../shared/pipeline/notices.js';
import { createObservability, type Observability } from './observability.js';
import { exportLocator, runtimeFromEnvironment } from './runtime.js';

interface DlqHandlerDeps extends Omit<DeadLetterDeps, 'notify'> {
  readonly observability?: Observability;
  readonly notify?: NoticeSink;
}

/**
 * The middy-wrapped dead-letter handler with its dependencies injected.
 *
 * @example
 * const handler = createDlqHandler({ sqs, queues, exportOfQueueArn });
 */
const createDlqHandler = (deps: DlqHandlerDeps) => {
  const observability = deps.observability ?? createObservability({ functionName: 'dlq' });
  const notify = deps.notify
    ? combineSinks(observability.notify, deps.notify)
    : observability.notify;
  const { logger } = observability;
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(observability.metrics))
    .handler(async (event, context) => {
      const recordHandler = async (record: SQSRecord) => {
        try {
          await handleDeadLetter(record, { ...deps, notify });
        } catch (error) {
          logger.error('dead letter not handled; it returns to its queue', {
            message_id: record.messageId,
            error,
          });
          throw error;
        }
      };
      const processor = new BatchProcessor(EventType.SQS);
      return processPartialResponse(event, recordHandler, processor, {
        context,
        processInParallel: true,
        throwOnFullBatchFailure: false,
      });
    });
};

let instance: ReturnType<typeof createDlqHandler> | undefined;

/** The Lambda entry point; dependencies are built on the first invocation of a container. */
const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (!instance) {
    const runtime = runtimeFromEnvironment();
    instance = createDlqHandler({
      sqs: runtime.sqs,
      queues: runtime.queues,
      exportOfQueueArn: exportLocator(runtime.config, runtime.stage),
    });
  }
  return instance(event, context);
};

export type { DlqHandlerDeps };
export { createDlqHandler, handler };
