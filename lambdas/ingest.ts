/**
 * The ingest function, triggered by the ingest queue: validates audit events, parks invalid
 * ones with their reason, and enqueues one delivery message per (event, matching export).
 * Thin: the work is `fanOut` in shared/pipeline/fanOut.ts.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type FanOutDeps, fanOut } from '../shared/pipeline/fanOut.js';
import { runtimeFromEnvironment } from './runtime.js';
import { type HandlerObservability, observe, sqsHandler } from './wiring.js';

interface IngestHandlerDeps extends Omit<FanOutDeps, 'notify'>, HandlerObservability {}

/**
 * The middy-wrapped ingest handler with its dependencies injected.
 *
 * @example
 * const handler = createIngestHandler({ sqs, config, queues });
 */
const createIngestHandler = (deps: IngestHandlerDeps) => {
  const { observability, notify } = observe('ingest', deps);
  return sqsHandler(observability, async (event) => {
    const result = await fanOut(event.Records, { ...deps, notify });
    if (result.batchItemFailures.length > 0) {
      observability.logger.warn('records returned to the ingest queue for a retry', {
        message_ids: result.batchItemFailures.map((failure) => failure.itemIdentifier),
      });
    }
    return result;
  });
};

let instance: ReturnType<typeof createIngestHandler> | undefined;

/** The Lambda entry point; dependencies are built on the first invocation of a container. */
const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  instance ??= createIngestHandler(runtimeFromEnvironment());
  return instance(event, context);
};

export type { IngestHandlerDeps };
export { createIngestHandler, handler };
