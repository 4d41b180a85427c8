/**
 * The dead-letter step: for every dead-lettered delivery, raise exactly one `webhook.dlq` audit
 * event into the ingest queue (so exports route it like any event) and keep the dead letter in
 * the stage's dead-letter archive, where the CLI lists, shows and replays it for 14 days.
 *
 * A dead `webhook.dlq` delivery is archived but raises nothing: depth one, no loops.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { validateEvent } from '../events.js';
import type { QueueDirectory } from '../queueNames.js';
import { sendMessage, sqsText } from '../queues.js';
import {
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeliveryMessage,
  DLQ_EVENT_KIND,
  dlqEvent,
  MESSAGE_VERSION,
} from './messages.js';
import type { NoticeSink } from './notices.js';

interface DeadLetterDeps {
  readonly sqs: SQSClient;
  readonly queues: QueueDirectory;
  readonly notify: NoticeSink;
  /** The export a dead-letter queue belongs to, from the record's queue ARN. */
  readonly exportOfQueueArn: (queueArn: string) => string | undefined;
  readonly now?: () => Date;
}

/** A record of a dead-letter queue that carries no audit event at all. */
class UnreadableDeadLetterError extends Error {
  constructor(messageId: string) {
    super(`dead letter ${messageId} holds no audit event`);
    this.name = 'UnreadableDeadLetterError';
  }
}

const isDeadLetter = (value: Record<string, unknown>): boolean => value.kind === 'dead_letter';

/**
 * Reads a record of a delivery dead-letter queue. It is either a dead letter the delivery
 * function wrote (with its reason), or a delivery message SQS moved there by itself after too
 * many receives (crashes, timeouts, throttles), which becomes a dead letter with reason
 * `redrive`.
 */
const readDeadLetter = (record: SQSRecord, deps: DeadLetterDeps, now: Date): DeadLetter => {
  let value: unknown;
  try {
    value = JSON.parse(record.body);
  } catch {
    throw new UnreadableDeadLetterError(record.messageId);
  }
  if (typeof value !== 'object' || value === null) {
    throw new UnreadableDeadLetterError(record.messageId);
  }
  const body = value as Record<string, unknown>;
  if (isDeadLetter(body)) {
    if (!validateEvent(body.event).ok) throw new UnreadableDeadLetterError(record.messageId);
    return body as unknown as DeadLetter;
  }
  const message = body as unknown as DeliveryMessage;
  const validation = validateEvent(message.event);
  if (!validation.ok) throw new UnreadableDeadLetterError(record.messageId);
  const exportName =
    (typeof message.export === 'string' ? message.export : undefined) ??
    deps.exportOfQueueArn(record.eventSourceARN) ??
    'unknown';
  return {
    v: MESSAGE_VERSION,
    kind: 'dead_letter',
    delivery_id: message.delivery_id,
    export: exportName,
    reason: DEAD_LETTER_REASONS.redrive,
    detail: `SQS moved the message after ${record.attributes.ApproximateReceiveCount} receive(s) without a result: the delivery function crashed, timed out or was throttled`,
    attempts: typeof message.attempts === 'number' ? message.attempts : 0,
    ...(message.first_attempt_at === undefined
      ? {}
      : { first_attempt_at: message.first_attempt_at }),
    ...(message.last_attempt_at === undefined ? {} : { last_attempt_at: message.last_attempt_at }),
    ...(message.last_status === undefined ? {} : { last_status: message.last_status }),
    ...(message.last_error_class === undefined ? {} : { error_class: message.last_error_class }),
    dead_lettered_at: now.toISOString(),
    event: validation.event,
  };
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
  let deadLetter: DeadLetter;
  try {
    deadLetter = readDeadLetter(record, deps, now);
  } catch (error) {
    if (!(error instanceof UnreadableDeadLetterError)) throw error;
    await archiveUnreadable(record, deps);
    return;
  }
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
  await sendMessage(deps.sqs, deps.queues.deadLetters, {
    body: JSON.stringify(deadLetter),
    attributes: {
      export: deadLetter.export,
      audit_id: sqsText(deadLetter.event.audit_id.slice(0, 200)),
      reason: deadLetter.reason,
      delivery_id: deadLetter.delivery_id,
    },
  });
  deps.notify({
    type: 'dead_letter_archived',
    export: deadLetter.export,
    auditId: deadLetter.event.audit_id,
    raised: raise,
  });
};

/**
 * A record with no audit event in it (someone sent junk to a dead-letter queue): nothing to
 * raise, but it is kept as it came, so nothing is dropped.
 */
const archiveUnreadable = async (record: SQSRecord, deps: DeadLetterDeps): Promise<void> => {
  const exportName = deps.exportOfQueueArn(record.eventSourceARN) ?? 'unknown';
  await sendMessage(deps.sqs, deps.queues.deadLetters, {
    body: record.body.length > 0 ? record.body : '(empty)',
    attributes: {
      export: exportName,
      reason: DEAD_LETTER_REASONS.malformed,
      source_message_id: record.messageId,
    },
  });
  deps.notify({ type: 'dead_letter_archived', export: exportName, raised: false });
};

export type { DeadLetterDeps };
export { handleDeadLetter, readDeadLetter, UnreadableDeadLetterError };
