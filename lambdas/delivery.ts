/**
 * The delivery function, triggered by each export's delivery queue: renders, sends, and
 * retries or dead-letters, reporting partial batch failures. Thin: the work is `deliverRecord`
 * in shared/pipeline/deliver.ts.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { defaultHttpClient } from '../shared/http.js';
import { guardedHttpClient } from '../shared/networkGuard.js';
import {
  DeliveryDeferredError,
  type DeliveryDeps,
  deliverRecord,
} from '../shared/pipeline/deliver.js';
import { deliverBatch } from '../shared/pipeline/deliverBatch.js';
import { ExportGuards } from '../shared/pipeline/exportGuards.js';
import {
  answerTestInvocation,
  isTestInvocation,
  type TestInvocation,
  type TestInvocationDeps,
  type TestInvocationResponse,
} from '../shared/testDelivery.js';
import { exportLocator, exportsByName, type Runtime, runtimeFromEnvironment } from './runtime.js';
import { type HandlerObservability, observe, processRecords, sqsHandler } from './wiring.js';

interface DeliveryHandlerDeps extends Omit<DeliveryDeps, 'notify'>, HandlerObservability {}

/**
 * The middy-wrapped delivery handler with its dependencies injected. Records of a batch are
 * delivered concurrently (a batch holds at most 10); the batch of an export with `batch` goes
 * to `deliverBatch` instead, which sends many events per request. Breakers and rate limiters
 * live as long as the handler: one set per container on Lambda.
 *
 * @example
 * const handler = createDeliveryHandler({ sqs, queues, exports, http, secrets, exportOfQueueArn });
 */
const createDeliveryHandler = (deps: DeliveryHandlerDeps) => {
  const { observability, notify } = observe('delivery', deps);
  const guards = deps.guards ?? new ExportGuards();
  const { logger } = observability;
  return sqsHandler(observability, async (event, context) => {
    const clock = { remainingMs: () => context.getRemainingTimeInMillis() };
    const first = event.Records[0];
    const exportName = first && deps.exportOfQueueArn(first.eventSourceARN);
    if (exportName !== undefined && deps.exports.get(exportName)?.batch !== undefined) {
      const failures = await deliverBatch(event.Records, { ...deps, notify, guards }, clock);
      return { batchItemFailures: failures };
    }
    const recordHandler = async (record: SQSRecord) => {
      try {
        await deliverRecord(record, { ...deps, notify, guards }, clock);
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
    return processRecords(event, recordHandler);
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
      // The SSRF guard: deployed deliveries refuse private addresses unless the export allows them.
      guardedHttp: guardedHttpClient(),
      secrets: runtime.secrets(),
      exportOfQueueArn: exportLocator(runtime.config, runtime.stage),
    });
  }
  return instance(event, context);
}

export type { DeliveryHandlerDeps };
export { createDeliveryHandler, handler, handleTestInvocation };
