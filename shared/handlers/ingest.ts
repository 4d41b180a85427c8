/**
 * The ingest handler: validates audit events, parks invalid ones with their reason, and
 * enqueues one delivery message per (event, matching export). Thin: the work is `fanOut` in
 * shared/pipeline/ingest.ts. The Lambda entry point is lambdas/ingest.ts; the local stack
 * builds the same handler with its own clients.
 */
import { type FanOutDeps, fanOut } from '../pipeline/ingest.js';
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
  return sqsHandler(observability, async (event, context) => {
    const result = await fanOut(
      event.Records,
      { ...deps, notify },
      {
        remainingMs: () => context.getRemainingTimeInMillis(),
      },
    );
    if (result.batchItemFailures.length > 0) {
      observability.logger.warn('records returned to the ingest queue for a retry', {
        message_ids: result.batchItemFailures.map((failure) => failure.itemIdentifier),
      });
    }
    return result;
  });
};

export type { IngestHandlerDeps };
export { createIngestHandler };
