/**
 * The dead-letter function, triggered by each export's delivery dead-letter queue: raises one
 * `webhook.dlq` event per dead letter and archives it. Thin: the work is `handleDeadLetter` in
 * shared/pipeline/deadLetters/raise.ts.
 */
import type { SQSRecord } from 'aws-lambda';
import { CopyLedger } from '../pipeline/copyLedger.js';
import { type DeadLetterDeps, handleDeadLetter } from '../pipeline/deadLetters/raise.js';
import type { AlertState } from '../pipeline/messages/index.js';
import { type HandlerObservability, observe, processRecords, sqsHandler } from './wiring.js';

interface DlqHandlerDeps extends Omit<DeadLetterDeps, 'notify'>, HandlerObservability {}

/**
 * The middy-wrapped dead-letter handler with its dependencies injected.
 *
 * @example
 * const handler = createDlqHandler({ sqs, queues, exportOfQueueArn });
 */
const createDlqHandler = (deps: DlqHandlerDeps) => {
  const { observability, notify } = observe('dlq', deps);
  const { logger } = observability;
  // One per handler: the dead letters this container archived (shared/pipeline/copyLedger.ts).
  const ledger = deps.ledger ?? new CopyLedger<AlertState>();
  return sqsHandler(observability, async (event) => {
    const recordHandler = async (record: SQSRecord) => {
      try {
        await handleDeadLetter(record, { ...deps, notify, ledger });
      } catch (error) {
        logger.error('dead letter not handled; it returns to its queue', {
          message_id: record.messageId,
          error,
        });
        throw error;
      }
    };
    return processRecords(event, recordHandler);
  });
};

export type { DlqHandlerDeps };
export { createDlqHandler };
