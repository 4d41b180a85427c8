/**
 * The readers of queue bodies. Each parses with the schema of its body and returns a value:
 * the typed message, or the first problem found, worded for logs and dead-letter details.
 * None throws on a bad body.
 */
import type * as z from 'zod/mini';
import { DEAD_LETTER_REASONS, MESSAGE_KINDS } from './constants.js';
import { buildDeadLetter } from './deadLetter.js';
import { malformedRecord } from './malformed.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  type DlqEvent,
  deadLetterSchema,
  deliveryMessageSchema,
  dlqEventSchema,
  type MalformedRecord,
  malformedAttributesSchema,
  PROBLEMS,
} from './schemas.js';

/** A body that could not be read, and why. */
interface Unreadable {
  readonly ok: false;
  readonly problem: string;
}

/** What {@link readDeliveryMessage} found. */
type DeliveryMessageRead = { readonly ok: true; readonly message: DeliveryMessage } | Unreadable;

/** What {@link readDeadLetter} found. */
type DeadLetterRead = { readonly ok: true; readonly deadLetter: DeadLetter } | Unreadable;

/** What {@link readDlqEvent} found. */
type DlqEventRead = { readonly ok: true; readonly event: DlqEvent } | Unreadable;

/** How to read a delivery message that SQS moved to a dead-letter queue by itself. */
interface RedriveContext {
  /** The export of the queue the body came from, for a message that names none. */
  readonly exportOfQueue?: string;
  /** The dead letter's detail: what moved the message. */
  readonly detail: string;
  /** The dead letter's `dead_lettered_at`. */
  readonly now: Date;
}

const parseJson = (body: string): { readonly ok: true; readonly value: unknown } | Unreadable => {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false, problem: PROBLEMS.notJson };
  }
};

const decode = <T>(
  schema: z.ZodMiniType<T>,
  value: unknown,
): { readonly ok: true; readonly value: T } | Unreadable => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  // The schemas list fields in the order they are checked: the first issue is the answer.
  return { ok: false, problem: parsed.error.issues[0]?.message ?? PROBLEMS.notObject };
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the body of a delivery queue message.
 *
 * @example
 * const read = readDeliveryMessage(record.body);
 * if (!read.ok) return deadLetterMalformed(record, read.problem);
 */
const readDeliveryMessage = (body: string): DeliveryMessageRead => {
  const json = parseJson(body);
  if (!json.ok) return json;
  const read = decode(deliveryMessageSchema, json.value);
  return read.ok ? { ok: true, message: read.value } : read;
};

/**
 * Reads the body of a dead-letter queue message (a delivery DLQ or the archive). It is either a
 * dead letter, or a delivery message SQS moved there by itself after too many receives
 * (crashes, timeouts, throttles), which becomes a dead letter with reason `redrive` built like
 * every other dead letter.
 *
 * @example
 * const read = readDeadLetter(record.body, { exportOfQueue, detail: 'SQS moved it', now });
 */
const readDeadLetter = (body: string, redrive: RedriveContext): DeadLetterRead => {
  const json = parseJson(body);
  if (!json.ok) return json;
  const { value } = json;
  if (isRecord(value) && value.kind === MESSAGE_KINDS.deadLetter) {
    const read = decode(deadLetterSchema, value);
    return read.ok ? { ok: true, deadLetter: read.value } : read;
  }
  // The queue knows the export of a message that does not name it.
  const named =
    isRecord(value) && typeof value.export !== 'string' && redrive.exportOfQueue !== undefined
      ? { ...value, export: redrive.exportOfQueue }
      : value;
  const read = decode(deliveryMessageSchema, named);
  if (!read.ok) return read;
  const message = read.value;
  return {
    ok: true,
    deadLetter: buildDeadLetter({
      message,
      reason: DEAD_LETTER_REASONS.redrive,
      detail: redrive.detail,
      attempts: message.attempts,
      secretValues: [],
      now: redrive.now,
    }),
  };
};

/**
 * Reads a `webhook.dlq` event, e.g. from the ingest queue.
 *
 * @example
 * const read = readDlqEvent(body);
 * if (read.ok) console.log(read.event.original_event.audit_id);
 */
const readDlqEvent = (body: string): DlqEventRead => {
  const json = parseJson(body);
  if (!json.ok) return json;
  const read = decode(dlqEventSchema, json.value);
  return read.ok ? { ok: true, event: read.value } : read;
};

/**
 * The malformed record a queue message stands for once no other reader could read it: its body
 * as it came, and the fields its writer attached as attributes. Never fails, since whatever
 * cannot be read is malformed; `problem` (the other reader's answer) is the detail when the
 * writer attached none.
 *
 * @example
 * const read = readDeadLetter(body, redrive);
 * const kept = read.ok ? undefined : readMalformedMessage(body, attributes, read.problem);
 */
const readMalformedMessage = (
  body: string,
  attributes: Readonly<Record<string, string>>,
  problem: string,
): MalformedRecord => {
  const parsed = malformedAttributesSchema.safeParse(attributes);
  const fields = parsed.success ? parsed.data : {};
  return malformedRecord({
    body,
    detail: fields.detail ?? problem,
    ...(fields.source_message_id === undefined
      ? {}
      : { sourceMessageId: fields.source_message_id }),
    ...(fields.export === undefined ? {} : { export: fields.export }),
  });
};

export type { DeadLetterRead, DeliveryMessageRead, DlqEventRead, RedriveContext, Unreadable };
export { readDeadLetter, readDeliveryMessage, readDlqEvent, readMalformedMessage };
