/**
 * A queue record no reader could read, kept whole so nothing is dropped: its body exactly as it
 * came, why it could not be read, and where it was found. On a queue it travels as that body
 * with the other fields as string attributes, so an operator sees the original bytes.
 */
import type { OutgoingMessage } from '../../sqs/queues.js';
import { sqsText } from '../../sqs/queues.js';
import { DEAD_LETTER_REASONS, MESSAGE_KINDS, MESSAGE_VERSION } from './constants.js';
import type { MalformedRecord } from './schemas.js';

/** What is known about a record that could not be read. */
interface MalformedInput {
  /** The body as it came. */
  readonly body: string;
  /** Why it could not be read, e.g. "the message has no attempt count". */
  readonly detail?: string;
  /** The SQS message id of the record where it was found unreadable. */
  readonly sourceMessageId?: string;
  /** The export of the queue it came from, when known. */
  readonly export?: string;
}

/** SQS refuses an empty body; an empty record travels as this marker instead. */
const EMPTY_BODY = '(empty)';

/** A malformed record from what is known about it. */
const malformedRecord = (input: MalformedInput): MalformedRecord => ({
  v: MESSAGE_VERSION,
  kind: MESSAGE_KINDS.malformed,
  reason: DEAD_LETTER_REASONS.malformed,
  ...(input.detail === undefined ? {} : { detail: input.detail }),
  ...(input.sourceMessageId === undefined ? {} : { source_message_id: input.sourceMessageId }),
  ...(input.export === undefined ? {} : { export: input.export }),
  body: input.body,
});

/**
 * The queue message that carries a malformed record: the body as it came, the rest as string
 * attributes. `readMalformedMessage` reads it back.
 *
 * @example
 * await sendMessage(sqs, queues.deadLetters, malformedMessage(malformedRecord({ body, detail })));
 */
const malformedMessage = (record: MalformedRecord): Omit<OutgoingMessage, 'id'> => ({
  body: record.body.length > 0 ? record.body : EMPTY_BODY,
  attributes: {
    ...(record.export === undefined ? {} : { export: record.export }),
    reason: record.reason,
    // The detail may quote the body, whose text SQS took but may refuse in an attribute.
    ...(record.detail === undefined ? {} : { detail: sqsText(record.detail) }),
    ...(record.source_message_id === undefined
      ? {}
      : { source_message_id: record.source_message_id }),
  },
});

export type { MalformedInput };
export { EMPTY_BODY, malformedMessage, malformedRecord };
