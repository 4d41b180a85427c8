/**
 * The fixed values of the message formats: the version every body carries, the kinds a body
 * can be, and why a delivery ends as a dead letter.
 */

/** Version of the message format, so a future change can be told apart from this one. */
const MESSAGE_VERSION = 1;

/** The event kind raised for every dead-lettered delivery. */
const DLQ_EVENT_KIND = 'webhook.dlq';

/**
 * The `kind` a body names. A delivery message names none (it is the common case and predates
 * the field); the other bodies do, so a reader of a mixed queue can tell them apart.
 */
const MESSAGE_KINDS = {
  deadLetter: 'dead_letter',
  malformed: 'malformed',
} as const;

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

/**
 * Whether the `webhook.dlq` alert of an archived dead letter was raised: the archive's `alert`
 * attribute. A message SQS moved to the archive by itself carries none (see the archive reader).
 */
const ALERT_STATES = {
  /** Its `webhook.dlq` event went to the ingest queue. */
  raised: 'raised',
  /** The raise kept failing until the last receive; an alarm fired instead. */
  notRaised: 'not_raised',
  /** Nothing to raise: a dead `webhook.dlq` delivery (depth one), or a malformed record. */
  none: 'none',
} as const;

type AlertState = (typeof ALERT_STATES)[keyof typeof ALERT_STATES];

/** Largest response excerpt kept in a dead letter. */
const RESPONSE_SNIPPET_BYTES = 1024;

export type { AlertState, DeadLetterReason };
export {
  ALERT_STATES,
  DEAD_LETTER_REASONS,
  DLQ_EVENT_KIND,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
  RESPONSE_SNIPPET_BYTES,
};
