/**
 * One zod schema per queue body, and the types read from them: a delivery message, a dead
 * letter, the `webhook.dlq` event and a malformed record kept whole. The schemas are the only
 * description of the formats: writers build values of these types, readers parse with them.
 *
 * Every issue carries the words a reader reports (`the message has no attempt count`), and
 * fields are listed in the order they are checked, so the first issue is the one to report.
 * The audit event inside a body is checked by `validateEvent`, as everywhere else, and kept as
 * it came: unknown fields of an event pass through untouched.
 */
// zod/mini: the same schemas, tree-shakable, so the three functions' bundles stay small
// (`npm run bench`, figure 6); the config loader, which runs at synth and in the CLI, uses zod.
import * as z from 'zod/mini';
import { type AuditEvent, validateEvent } from '../../events/auditEvent.js';
import {
  DEAD_LETTER_REASONS,
  DLQ_EVENT_KIND,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
} from './constants.js';

/** What a reader says about a body it cannot read, first failing check first. */
const PROBLEMS = {
  notJson: 'the message body is not JSON',
  notObject: 'the message is not an object',
  noExport: 'the message names no export',
  noDeliveryId: 'the message has no delivery_id',
  noAttempts: 'the message has no attempt count',
  noEvent: 'the message holds no valid audit event',
  notDeadLetter: 'the message is not a dead letter',
  noDetail: 'the dead letter has no detail',
  noDeadLetteredAt: 'the dead letter has no dead_lettered_at time',
  notDlqEvent: `the event is not a ${DLQ_EVENT_KIND} event`,
  noOriginalEvent: `the ${DLQ_EVENT_KIND} event holds no valid original_event`,
} as const;

const version = z.literal(MESSAGE_VERSION, {
  error: (issue) => `unknown message version ${String(issue.input)}`,
});

const auditEvent = (problem: string) =>
  z.custom<AuditEvent>((value) => validateEvent(value).ok, { error: problem });

const attempts = z
  .number({ error: PROBLEMS.noAttempts })
  .check(z.minimum(0, { error: PROBLEMS.noAttempts }));

const reason = z.enum(DEAD_LETTER_REASONS, {
  error: (issue) => `unknown dead-letter reason ${String(issue.input)}`,
});

const optionalString = (field: string) =>
  z.optional(z.string({ error: `the message's ${field} is not a string` }));

const optionalNumber = (field: string) =>
  z.optional(z.number({ error: `the message's ${field} is not a number` }));

const deliveryMessageSchema = z.object(
  {
    v: version,
    export: z.string({ error: PROBLEMS.noExport }),
    /** Stable for an (audit_id, export) pair: the same on every attempt and every re-send. */
    delivery_id: z.string({ error: PROBLEMS.noDeliveryId }),
    /** HTTP attempts already made; 0 when first enqueued. */
    attempts,
    event: auditEvent(PROBLEMS.noEvent),
    first_attempt_at: optionalString('first_attempt_at'),
    last_attempt_at: optionalString('last_attempt_at'),
    last_status: optionalNumber('last_status'),
    last_error_class: optionalString('last_error_class'),
    /**
     * Earliest time of the next attempt, for backoffs longer than SQS's 15-minute message delay:
     * a message received before it is hidden again for the rest of the wait.
     */
    not_before: optionalString('not_before'),
    /**
     * When the CLI replayed this delivery from the archive; carried by every copy after it, so
     * a replay is a chain of its own, never taken for a duplicate of the first one.
     */
    replayed_at: optionalString('replayed_at'),
  },
  { error: PROBLEMS.notObject },
);

/** What a dead letter and its `webhook.dlq` event both say about the failed delivery. */
const failureFields = {
  export: z.string({ error: PROBLEMS.noExport }),
  delivery_id: z.string({ error: PROBLEMS.noDeliveryId }),
  reason,
  /** Human explanation, e.g. "HTTP 503 from receiver after 5 attempts". */
  detail: z.string({ error: PROBLEMS.noDetail }),
  attempts,
  first_attempt_at: optionalString('first_attempt_at'),
  last_attempt_at: optionalString('last_attempt_at'),
  last_status: optionalNumber('last_status'),
  error_class: optionalString('error_class'),
  /** First 1 KiB of the last response body. */
  response_snippet: optionalString('response_snippet'),
};

const deadLetterSchema = z.object(
  {
    v: version,
    kind: z.literal(MESSAGE_KINDS.deadLetter, { error: PROBLEMS.notDeadLetter }),
    ...failureFields,
    dead_lettered_at: z.string({ error: PROBLEMS.noDeadLetteredAt }),
    /** The replay of the delivery that died, when it was one (see the delivery message). */
    replayed_at: optionalString('replayed_at'),
    event: auditEvent(PROBLEMS.noEvent),
  },
  { error: PROBLEMS.notObject },
);

/** The fields a `webhook.dlq` event adds to an audit event. */
const dlqEventFieldsSchema = z.object({
  event_kind: z.literal(DLQ_EVENT_KIND, { error: PROBLEMS.notDlqEvent }),
  ...failureFields,
  original_event: auditEvent(PROBLEMS.noOriginalEvent),
  /** Set when original_event was trimmed to fit the ingest's event limit. */
  truncated: z.optional(z.literal(true)),
  /** The original event's size in bytes before it was trimmed. */
  original_event_bytes: optionalNumber('original_event_bytes'),
});

/**
 * An audit event first (it travels through the ingest queue like any other, and reaches
 * receivers), so it carries no `v` of its own: its `event_kind` names the format.
 */
const dlqEventSchema = z.intersection(auditEvent(PROBLEMS.noEvent), dlqEventFieldsSchema);

/**
 * A record kept whole because no reader could read it. On a queue it travels as its body, as
 * it came, with the other fields as string attributes (see `malformedMessage`).
 */
const malformedRecordSchema = z.object({
  v: version,
  kind: z.literal(MESSAGE_KINDS.malformed),
  reason: z.literal(DEAD_LETTER_REASONS.malformed),
  /** Why it could not be read. */
  detail: optionalString('detail'),
  /** The SQS message id of the record where it was first found unreadable. */
  source_message_id: optionalString('source_message_id'),
  /** The export of the queue it came from, when known. */
  export: optionalString('export'),
  /** The body exactly as it came. */
  body: z.string(),
});

/** The string attributes that carry a malformed record's fields beside its body. */
const malformedAttributesSchema = z.pick(malformedRecordSchema, {
  detail: true,
  source_message_id: true,
  export: true,
});

/** One (event, export) pair waiting for delivery: the body of a delivery queue message. */
type DeliveryMessage = Readonly<z.output<typeof deliveryMessageSchema>>;

/** A failed delivery with everything an operator needs to understand it. Secrets redacted. */
type DeadLetter = Readonly<z.output<typeof deadLetterSchema>>;

/** The audit event raised for a dead letter: the original event and why it died. */
type DlqEvent = Readonly<z.output<typeof dlqEventSchema>>;

/** A queue record no reader could read, kept whole so nothing is dropped. */
type MalformedRecord = Readonly<z.output<typeof malformedRecordSchema>>;

export type { DeadLetter, DeliveryMessage, DlqEvent, MalformedRecord };
export {
  deadLetterSchema,
  deliveryMessageSchema,
  dlqEventSchema,
  malformedAttributesSchema,
  malformedRecordSchema,
  PROBLEMS,
};
