/**
 * The delivery function's entry point, triggered by each export's delivery queue, and by
 * `test-export --stage` with a test invocation. Wiring only: the handler is
 * shared/handlers/delivery.ts, built once per container from the environment the stack sets.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { exportsByName } from '../shared/config/exportsByName.js';
import { createDeliveryHandler } from '../shared/handlers/delivery.js';
import {
  answerTestInvocation,
  isTestInvocation,
  type TestInvocation,
  type TestInvocationDeps,
  type TestInvocationResponse,
} from '../shared/pipeline/delivery/testDelivery.js';
import type { SecretResolver } from '../shared/secrets/resolvers.js';
import { exportLocator } from '../shared/sqs/queueNames.js';
import { defaultHttpClient } from '../shared/transport/http.js';
import { guardedHttpClient } from '../shared/transport/networkGuard.js';
import { type Runtime, runtimeFromEnvironment } from './runtime.js';
import { secretResolverFromEnvironment } from './secrets.js';

let runtime: Runtime | undefined;
let secrets: SecretResolver | undefined;

/** This container's secret resolver, built on first use. */
const containerSecrets = (): SecretResolver => {
  secrets ??= secretResolverFromEnvironment();
  return secrets;
};
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
    secrets: containerSecrets(),
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
      secrets: containerSecrets(),
      exportOfQueueArn: exportLocator(runtime.config, runtime.stage),
    });
  }
  return instance(event, context);
}

export { handler, handleTestInvocation };
