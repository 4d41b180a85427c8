/**
 * The delivery handler: renders, sends, and retries or dead-letters, reporting partial batch
 * failures. Thin: the work is `deliverRecords` in shared/pipeline/delivery/engine.ts. The
 * Lambda entry point is lambdas/delivery.ts; the local stack builds the same handler.
 */

import { CopyLedger } from '../pipeline/copyLedger.js';
import { deliverRecords } from '../pipeline/delivery/engine.js';
import type { DeliveryDeps, UnwrittenOutcome } from '../pipeline/delivery/types.js';
import { ExportGuards } from '../pipeline/flowControl/exportGuards.js';
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
  // One per handler, like the guards: the copies this container settled (copyLedger.ts).
  const ledger = deps.ledger ?? new CopyLedger<UnwrittenOutcome>();
  const { logger } = observability;
  return sqsHandler(observability, async (event, context) => {
    const clock = { remainingMs: () => context.getRemainingTimeInMillis() };
    const report = await deliverRecords(event.Records, { ...deps, notify, guards, ledger }, clock);
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

export type { DeliveryHandlerDeps };
export { createDeliveryHandler };
