/**
 * A producer pushing audit events onto the ingest queue in a fixed shape: one event per message,
 * or JSON arrays of `perMessage` events. It packs and sends with `sendPacked`, as `npm run push`
 * does; only the cap on events per message is the bench's, so each figure measures one shape.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendPacked } from '../../shared/sqs/queues.js';
import { chunk } from '../format.js';
import { benchEvent } from './fixtures.js';

/** Messages of one `SendMessageBatch`, the most SQS allows. */
const MESSAGES_PER_BATCH = 10;

/**
 * Pushes events `first` .. `first + count - 1`, each stamped with the time of its push.
 * Resolves when SQS has taken them all.
 *
 * @example
 * await pushEvents(producer, queues.ingest, { first: 0, count: 500, perMessage: 50 });
 */
const pushEvents = async (
  sqs: SQSClient,
  queueUrl: string,
  options: { readonly first: number; readonly count: number; readonly perMessage: number },
): Promise<void> => {
  const indexes = Array.from({ length: options.count }, (_, i) => options.first + i);
  // The events of one SendMessageBatch at a time, each stamped just before it is sent.
  for (const group of chunk(indexes, options.perMessage * MESSAGES_PER_BATCH)) {
    const pushedAt = Date.now();
    const outcome = await sendPacked(
      sqs,
      queueUrl,
      group.map((index) => {
        const event = benchEvent(index, pushedAt);
        return { name: `audit_id ${event.audit_id}`, json: JSON.stringify(event) };
      }),
      { maxItems: options.perMessage },
    );
    if (!outcome.ok) throw new Error(outcome.message);
    if (outcome.failed.length > 0) {
      throw new Error(`the ingest queue refused ${outcome.failed.length} message(s)`);
    }
  }
};

export { pushEvents };
