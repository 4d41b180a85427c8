/**
 * The shapes of the messages that travel between the pipeline's queues, and the ids that make
 * at-least-once delivery safe to de-duplicate. No message ever carries a resolved secret: the
 * delivery message holds the event and the export name only.
 */
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../events.js';
import { SQS_LIMITS } from '../queues.js';

/** Version of the message format, so a future change can be told apart from this one. */
const MESSAGE_VERSION = 1;

/** The event kind raised for every dead-lettered delivery. */
const DLQ_EVENT_KIND = 'webhook.dlq';

/** One (event, export) pair waiting for delivery: the body of a delivery queue message. */
interface DeliveryMessage {
  readonly v: typeof MESSAGE_VERSION;
  /** Stable for an (audit_id, export) pair: the same on every attempt and every re-send. */
  readonly delivery_id: string;
  readonly export: string;
  readonly event: AuditEvent;
  /** HTTP attempts already made; 0 when first enqueued. */
  readonly attempts: number;
  readonly first_attempt_at?: string;
  readonly last_attempt_at?: string;
  readonly last_status?: number;
  readonly last_error_class?: string;
  /**
   * Earliest time of the next attempt, for backoffs longer than SQS's 15-minute message delay:
   * a message received before it is hidden again for the rest of the wait.
   */
  readonly not_before?: string;
}

/** Why a delivery ended in the dead-letter queue. */
const DEAD_LETTER_REASONS = {
  /** Every attempt failed with a retryable error. */
  exhausted: 'exhausted',
  /** A permanent failure: a 4xx other than 408/429, a redirect, a bad URL. */
  permanent: 'permanent',
  /** The body template failed to render or rendered invalid JSON. */
  render: 'render',
  /** A variable the export needs is not set (configuration, not the receiver). */
  configuration: 'configuration',
  /** SQS moved the message after too many receives: crashes, timeouts or throttles. */
  redrive: 'redrive',
  /** The message could not be read as a delivery message. */
  malformed: 'malformed',
  /** Older than the export's `max_event_age_seconds` when its turn came; never sent. */
  expired: 'expired',
} as const;

type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[keyof typeof DEAD_LETTER_REASONS];

/** A failed delivery with everything an operator needs to understand it. Secrets redacted. */
interface DeadLetter {
  readonly v: typeof MESSAGE_VERSION;
  readonly kind: 'dead_letter';
  readonly delivery_id: string;
  readonly export: string;
  readonly reason: DeadLetterReason;
  /** Human explanation, e.g. "HTTP 503 from receiver after 5 attempts". */
  readonly detail: string;
  readonly attempts: number;
  readonly first_attempt_at?: string;
  readonly last_attempt_at?: string;
  readonly last_status?: number;
  readonly error_class?: string;
  /** First 1 KiB of the last response body. */
  readonly response_snippet?: string;
  readonly dead_lettered_at: string;
  readonly event: AuditEvent;
}

/** Largest response excerpt kept in a dead letter. */
const RESPONSE_SNIPPET_BYTES = 1024;

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
  };
};

/** Cuts a UTF-8 string to at most `maxBytes` bytes without splitting a character. */
const truncateUtf8 = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Decoding a cut-off prefix yields U+FFFD for a split character; drop it.
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
};

/**
 * The `audit_id` of the `webhook.dlq` event for a dead letter: derived from the original
 * audit_id and the export, so a retried raise is recognisable as a duplicate.
 */
const dlqAuditId = (originalAuditId: string, exportName: string): string =>
  `${originalAuditId}:dlq:${exportName}`;

/**
 * The `webhook.dlq` audit event raised for a dead letter. It carries no secret: the dead letter
 * was redacted when it was written.
 */
const dlqEvent = (deadLetter: DeadLetter, now: Date): AuditEvent => {
  const original = deadLetter.event;
  return {
    audit_id: dlqAuditId(original.audit_id, deadLetter.export),
    timestamp: now.toISOString(),
    event_kind: DLQ_EVENT_KIND,
    severity: 'error',
    ...(original.agent_id === undefined ? {} : { agent_id: original.agent_id }),
    export: deadLetter.export,
    reason: deadLetter.reason,
    detail: deadLetter.detail,
    attempts: deadLetter.attempts,
    first_attempt_at: deadLetter.first_attempt_at,
    last_attempt_at: deadLetter.last_attempt_at,
    last_status: deadLetter.last_status,
    error_class: deadLetter.error_class,
    response_snippet: deadLetter.response_snippet,
    delivery_id: deadLetter.delivery_id,
    original_event: original,
  };
};

export type { AttemptOutcome, DeadLetter, DeadLetterReason, DeliveryMessage };
export {
  DEAD_LETTER_REASONS,
  DLQ_EVENT_KIND,
  deliveryId,
  dlqAuditId,
  dlqEvent,
  MESSAGE_VERSION,
  newDeliveryMessage,
  nextAttemptMessage,
  RESPONSE_SNIPPET_BYTES,
  truncateUtf8,
};
