/**
 * The dead-letter function's entry point, triggered by each export's delivery dead-letter
 * queue. Wiring only: the handler is shared/handlers/deadLetters.ts, built once per container
 * from the environment the stack sets.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDlqHandler } from '../shared/handlers/deadLetters.js';
import { exportLocator } from '../shared/sqs/queueNames.js';
import { runtimeFromEnvironment } from './runtime.js';

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

export { handler };
