/**
 * A producer pushing audit events onto the ingest queue, either one event per message (as
 * `npm run push` does) or JSON arrays of events per message (as the local stack's demo does).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendMessages } from '../../shared/sqs/queues.js';
import { chunk } from '../format.js';
import { benchEvent } from './fixtures.js';

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
  // One SendMessageBatch (10 messages) at a time, each stamped just before it is sent.
  for (const group of chunk(chunk(indexes, options.perMessage), 10)) {
    const pushedAt = Date.now();
    const bodies = group.map((message) => {
      const events = message.map((index) => benchEvent(index, pushedAt));
      return options.perMessage === 1 ? JSON.stringify(events[0]) : JSON.stringify(events);
    });
    const outcome = await sendMessages(
      sqs,
      queueUrl,
      bodies.map((body, id) => ({ id: String(id), body })),
    );
    if (outcome.failed.length > 0) {
      throw new Error(`the ingest queue refused ${outcome.failed.length} message(s)`);
    }
  }
};

export { pushEvents };
