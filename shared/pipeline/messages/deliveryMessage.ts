/**
 * The builders of delivery messages: the first one for an (event, export) pair, the copy that
 * carries the next attempt, and the fresh one that replays a dead letter. None carries a
 * resolved secret: a delivery message holds the event and the export name only.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../events/auditEvent.js';
import { SQS_LIMITS } from '../../sqs/queues.js';
import { MESSAGE_VERSION } from './constants.js';
import type { DeadLetter, DeliveryMessage } from './schemas.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The delivery id of an (audit_id, export) pair: stable across attempts, re-sends after a
 * retried ingest and replays, so receivers can de-duplicate on it.
 */
const deliveryId = (auditId: string, exportName: string): string =>
  `dlv_${sha256(`${auditId}\u0000${exportName}`).slice(0, 32)}`;

/** A fresh delivery message for an event and an export. */
const newDeliveryMessage = (event: AuditEvent, exportName: string): DeliveryMessage => ({
  v: MESSAGE_VERSION,
  delivery_id: deliveryId(event.audit_id, exportName),
  export: exportName,
  event,
  attempts: 0,
});

/** What an attempt left behind, for the copy that carries the next one. */
interface AttemptOutcome {
  readonly status?: number;
  readonly errorClass?: string;
}

/**
 * The copy of a delivery message that carries its next attempt: the attempt count raised, the
 * attempt times and last outcome recorded, and `not_before` when the backoff is longer than an
 * SQS message delay can be.
 */
const nextAttemptMessage = (
  message: DeliveryMessage,
  attemptsMade: number,
  outcome: AttemptOutcome,
  delaySeconds: number,
  now: Date,
): DeliveryMessage => {
  const nowIso = now.toISOString();
  return {
    v: MESSAGE_VERSION,
    delivery_id: message.delivery_id,
    export: message.export,
    event: message.event,
    attempts: attemptsMade,
    first_attempt_at: message.first_attempt_at ?? nowIso,
    last_attempt_at: nowIso,
    ...(outcome.status === undefined ? {} : { last_status: outcome.status }),
    ...(outcome.errorClass === undefined ? {} : { last_error_class: outcome.errorClass }),
    ...(delaySeconds > SQS_LIMITS.maxDelaySeconds
      ? { not_before: new Date(now.getTime() + delaySeconds * 1000).toISOString() }
      : {}),
    ...(message.replayed_at === undefined ? {} : { replayed_at: message.replayed_at }),
  };
};

/**
 * The identity of one copy of a delivery: its delivery_id, the attempts it carries and its
 * replay. Two copies with one identity are the same step of the same chain: one of them is a
 * duplicate (shared/pipeline/copyLedger.ts).
 */
const copyIdentity = (message: DeliveryMessage): string =>
  `${message.delivery_id}|${message.attempts}|${message.replayed_at ?? ''}`;

/**
 * The fresh delivery message that replays a dead letter: attempts 0, the same delivery_id (so
 * receivers see the replay as the same delivery), the same event, and when it was replayed
 * (a chain of its own).
 */
const replayMessage = (deadLetter: DeadLetter, now: Date): DeliveryMessage => ({
  v: MESSAGE_VERSION,
  delivery_id: deadLetter.delivery_id,
  export: deadLetter.export,
  event: deadLetter.event,
  attempts: 0,
  replayed_at: now.toISOString(),
});

export type { AttemptOutcome };
export { copyIdentity, deliveryId, newDeliveryMessage, nextAttemptMessage, replayMessage };
