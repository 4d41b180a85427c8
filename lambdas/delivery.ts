/**
 * The delivery function, triggered by each export's delivery queue: renders, sends, and
 * retries or dead-letters, reporting partial batch failures. Thin: the work is
 * `deliverRecords` in shared/pipeline/delivery/engine.ts.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { defaultHttpClient } from '../shared/http.js';
import { guardedHttpClient } from '../shared/networkGuard.js';
import { deliverRecords } from '../shared/pipeline/delivery/engine.js';
import type { DeliveryDeps } from '../shared/pipeline/delivery/types.js';
import { ExportGuards } from '../shared/pipeline/exportGuards.js';
import {
  answerTestInvocation,
  isTestInvocation,
  type TestInvocation,
  type TestInvocationDeps,
  type TestInvocationResponse,
} from '../shared/testDelivery.js';
import { exportLocator, exportsByName, type Runtime, runtimeFromEnvironment } from './runtime.js';
import { type HandlerObservability, observe, sqsHandler } from './wiring.js';

interface DeliveryHandlerDeps extends Omit<DeliveryDeps, 'notify'>, HandlerObservability {}

/**
 * The middy-wrapped delivery handler with its dependencies injected. The records of a batch
 * are delivered concurrently, each alone or, for an export with `batch`, many per request.
 * Breakers and rate limiters live as long as the handler: one set per container on Lambda.
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
    const report = await deliverRecords(event.Records, { ...deps, notify, guards }, clock);
    // Deferrals and holds were reported as notices; these are errors nobody expected.
    for (const { messageId, error } of report.unexpected) {
      logger.error('delivery failed; the record returns to its queue', {
        message_id: messageId,
        error,
      });
    }
    return { batchItemFailures: report.batchItemFailures };
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
