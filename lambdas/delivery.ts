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
import { guardedHttpClient } from '../shared/networkGuard.js';
import {
  DeliveryDeferredError,
  type DeliveryDeps,
  deliverRecord,
} from '../shared/pipeline/deliver.js';
import { combineSinks, type NoticeSink } from '../shared/pipeline/notices.js';
import {
  answerTestInvocation,
  isTestInvocation,
  type TestInvocation,
  type TestInvocationDeps,
  type TestInvocationResponse,
} from '../shared/testDelivery.js';
import { createObservability, type Observability } from './observability.js';
import { exportLocator, exportsByName, type Runtime, runtimeFromEnvironment } from './runtime.js';

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

let runtime: Runtime | undefined;
let instance: ReturnType<typeof createDeliveryHandler> | undefined;

/**
 * A test invocation (`npm run test-export -- --stage <name>`): sends one event to one export
 * from here, with this stage's secrets and network path, and returns the masked report. Apart
 * from the batch path: no queue, no retry, no dead letter.
 *
 * @example
 * await handleTestInvocation({ tappass_test_export: { export: 'pagerduty-alerts' } });
 */
const handleTestInvocation = (
  payload: TestInvocation,
  deps?: TestInvocationDeps,
): Promise<TestInvocationResponse> => {
  if (deps) return answerTestInvocation(payload, deps);
  runtime ??= runtimeFromEnvironment();
  return answerTestInvocation(payload, {
    exports: exportsByName(runtime.config),
    secrets: runtime.secrets(),
    http: defaultHttpClient(),
    // Deployed deliveries refuse private addresses unless the export allows them.
    guardedHttp: guardedHttpClient(),
  });
};

/** The Lambda entry point; dependencies are built on the first invocation of a container. */
function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
function handler(event: TestInvocation, context: Context): Promise<TestInvocationResponse>;
function handler(
  event: SQSEvent | TestInvocation,
  context: Context,
): Promise<SQSBatchResponse | TestInvocationResponse> {
  if (isTestInvocation(event)) return handleTestInvocation(event);
  if (!instance) {
    runtime ??= runtimeFromEnvironment();
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
}

export type { DeliveryHandlerDeps };
export { createDeliveryHandler, handler, handleTestInvocation };
