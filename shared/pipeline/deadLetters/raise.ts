/**
 * The dead-letter step: for every dead-lettered delivery, raise exactly one `webhook.dlq` audit
 * event into the ingest queue (so exports route it like any event) and keep the dead letter in
 * the stage's dead-letter archive, where the CLI lists, shows and replays it for 14 days.
 *
 * A dead `webhook.dlq` delivery is archived but raises nothing: depth one, no loops.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { NoticeSink } from '../../observability/notices.js';
import type { QueueDirectory } from '../../sqs/queueNames.js';
import { sendMessage } from '../../sqs/queues.js';
import {
  type DeadLetter,
  type DeadLetterRead,
  DLQ_EVENT_KIND,
  deadLetterMessage,
  dlqEvent,
  malformedMessage,
  malformedRecord,
  readDeadLetter as readDeadLetterBody,
} from '../messages/index.js';

interface DeadLetterDeps {
  readonly sqs: SQSClient;
  readonly queues: QueueDirectory;
  readonly notify: NoticeSink;
  /** The export a dead-letter queue belongs to, from the record's queue ARN. */
  readonly exportOfQueueArn: (queueArn: string) => string | undefined;
  readonly now?: () => Date;
}

/** A record of a dead-letter queue that holds neither a dead letter nor a delivery message. */
class UnreadableDeadLetterError extends Error {
  constructor(
    messageId: string,
    readonly problem: string,
  ) {
    super(`dead letter ${messageId} cannot be read: ${problem}`);
    this.name = 'UnreadableDeadLetterError';
  }
}

const readRecord = (record: SQSRecord, deps: DeadLetterDeps, now: Date): DeadLetterRead =>
  readDeadLetterBody(record.body, {
    exportOfQueue: deps.exportOfQueueArn(record.eventSourceARN) ?? 'unknown',
    detail: `SQS moved the message after ${record.attributes.ApproximateReceiveCount} receive(s) without a result: the delivery function crashed, timed out or was throttled`,
    now,
  });

/**
 * Reads a record of a delivery dead-letter queue with the message codec. It is either a dead
 * letter the delivery function wrote (with its reason), or a delivery message SQS moved there
 * by itself after too many receives (crashes, timeouts, throttles), which becomes a dead letter
 * with reason `redrive`. Throws {@link UnreadableDeadLetterError} for anything else.
 */
const readDeadLetter = (record: SQSRecord, deps: DeadLetterDeps, now: Date): DeadLetter => {
  const read = readRecord(record, deps, now);
  if (!read.ok) throw new UnreadableDeadLetterError(record.messageId, read.problem);
  return read.deadLetter;
};

/**
 * Handles one record of a delivery dead-letter queue. Throws to leave the record for a retry;
 * a retried raise carries the same derived audit_id, so it is recognisable as a duplicate.
 *
 * @example
 * await handleDeadLetter(record, { sqs, queues, notify, exportOfQueueArn });
 */
const handleDeadLetter = async (record: SQSRecord, deps: DeadLetterDeps): Promise<void> => {
  const now = deps.now?.() ?? new Date();
  const read = readRecord(record, deps, now);
  if (!read.ok) {
    await archiveUnreadable(record, deps);
    return;
  }
  const { deadLetter } = read;
  const raise = deadLetter.event.event_kind !== DLQ_EVENT_KIND;
  if (raise) {
    const event = dlqEvent(deadLetter, now);
    await sendMessage(deps.sqs, deps.queues.ingest, { body: JSON.stringify(event) });
    deps.notify({
      type: 'dlq_event_raised',
      export: deadLetter.export,
      auditId: deadLetter.event.audit_id,
      dlqAuditId: event.audit_id,
    });
  }
  await sendMessage(deps.sqs, deps.queues.deadLetters, deadLetterMessage(deadLetter));
  deps.notify({
    type: 'dead_letter_archived',
    export: deadLetter.export,
    auditId: deadLetter.event.audit_id,
    raised: raise,
  });
};

/**
 * A record no reader can read (junk sent to a dead-letter queue, or a malformed delivery
 * message the delivery function parked whole): nothing to raise, but it is kept as it came, so
 * nothing is dropped.
 */
const archiveUnreadable = async (record: SQSRecord, deps: DeadLetterDeps): Promise<void> => {
  const exportName = deps.exportOfQueueArn(record.eventSourceARN) ?? 'unknown';
  // The reader's problem is not attached: the archive reads the body again and finds it.
  const kept = malformedRecord({
    body: record.body,
    sourceMessageId: record.messageId,
    export: exportName,
  });
  await sendMessage(deps.sqs, deps.queues.deadLetters, malformedMessage(kept));
  deps.notify({ type: 'dead_letter_archived', export: exportName, raised: false });
};

export type { DeadLetterDeps };
export { handleDeadLetter, readDeadLetter, UnreadableDeadLetterError };
