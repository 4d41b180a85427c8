/**
 * One codec for every queue body: the delivery message, the dead letter, the `webhook.dlq`
 * event and the malformed record kept whole. Each has one zod schema (messages/schemas.ts),
 * one set of builders, and a reader that returns a value, never a cast. No message ever
 * carries a resolved secret: the delivery message holds the event and the export name only.
 *
 * Re-exports only; the parts live in shared/pipeline/messages/.
 */
export type { AlertState, DeadLetterReason } from './constants.js';
export {
  ALERT_STATES,
  DEAD_LETTER_REASONS,
  DLQ_EVENT_KIND,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
  RESPONSE_SNIPPET_BYTES,
} from './constants.js';
export type { DeadLetterInput } from './deadLetter.js';
export { buildDeadLetter, deadLetterIdentity, deadLetterMessage } from './deadLetter.js';
export type { AttemptOutcome } from './deliveryMessage.js';
export {
  copyIdentity,
  deliveryId,
  newDeliveryMessage,
  nextAttemptMessage,
  replayMessage,
} from './deliveryMessage.js';
export { dlqAuditId, dlqEvent } from './dlqEvent.js';
export type { MalformedInput } from './malformed.js';
export { EMPTY_BODY, malformedMessage, malformedRecord } from './malformed.js';
export type {
  DeadLetterRead,
  DeliveryMessageRead,
  DlqEventRead,
  RedriveContext,
  Unreadable,
} from './read.js';
export {
  readDeadLetter,
  readDeliveryMessage,
  readDlqEvent,
  readMalformedMessage,
} from './read.js';
export type {
  DeadLetter,
  DeliveryMessage,
  DlqEvent,
  MalformedRecord,
} from './schemas.js';
export {
  deadLetterSchema,
  deliveryMessageSchema,
  dlqEventSchema,
  malformedRecordSchema,
} from './schemas.js';
export { truncateUtf8 } from './truncateUtf8.js';
