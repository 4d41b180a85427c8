/**
 * The one builder of dead letters, whoever writes them: the delivery function when it gives
 * up, and the readers of a dead-letter queue for a delivery message SQS moved there by itself
 * (reason `redrive`). So a dead letter has the same fields whichever path made it.
 */

import { maskThenCut, redactSecrets } from '../../secrets/masking.js';
import type { OutgoingMessage } from '../../sqs/queues.js';
import { sqsText } from '../../sqs/queues.js';
import type { SendResult } from '../../transport/http.js';
import {
  type AlertState,
  type DeadLetterReason,
  MESSAGE_KINDS,
  MESSAGE_VERSION,
  RESPONSE_SNIPPET_BYTES,
} from './constants.js';
import type { DeadLetter, DeliveryMessage } from './schemas.js';

/** Everything known about a delivery when it is dead-lettered. */
interface DeadLetterInput {
  readonly message: DeliveryMessage;
  readonly reason: DeadLetterReason;
  readonly detail: string;
  readonly attempts: number;
  /** The attempt made just now, if the dead letter follows one. */
  readonly result?: SendResult;
  /** Values masked from the detail and the response snippet, in every form (secretForms). */
  readonly secretValues: readonly string[];
  readonly now: Date;
}

/**
 * The dead letter of a delivery: the message's attempt history, updated by the attempt just
 * made (if any), with every secret value redacted.
 *
 * @example
 * const letter = buildDeadLetter({ message, reason: 'exhausted', detail, attempts: 5, result,
 *   secretValues, now });
 */
const buildDeadLetter = (input: DeadLetterInput): DeadLetter => {
  const { message, result, secretValues } = input;
  const redact = (text: string) => redactSecrets(text, secretValues);
  // Masked before it is cut, never the other way round: a cut inside a secret would leave a
  // piece that masking no longer recognises (see maskThenCut).
  const snippet = result?.bodySnippet
    ? maskThenCut(result.bodySnippet, secretValues, {
        maxBytes: RESPONSE_SNIPPET_BYTES,
        alreadyCut: result.bodyTruncated,
      })
    : undefined;
  const attemptedNow = result !== undefined;
  const lastStatus = result?.status ?? message.last_status;
  const errorClass = result?.errorClass ?? message.last_error_class;
  const firstAttemptAt =
    message.first_attempt_at ?? (attemptedNow ? input.now.toISOString() : undefined);
  const lastAttemptAt = attemptedNow ? input.now.toISOString() : message.last_attempt_at;
  return {
    v: MESSAGE_VERSION,
    kind: MESSAGE_KINDS.deadLetter,
    delivery_id: message.delivery_id,
    export: message.export,
    reason: input.reason,
    detail: redact(input.detail),
    attempts: input.attempts,
    ...(firstAttemptAt === undefined ? {} : { first_attempt_at: firstAttemptAt }),
    ...(lastAttemptAt === undefined ? {} : { last_attempt_at: lastAttemptAt }),
    ...(lastStatus === undefined ? {} : { last_status: lastStatus }),
    ...(errorClass === undefined ? {} : { error_class: errorClass }),
    ...(snippet ? { response_snippet: snippet } : {}),
    dead_lettered_at: input.now.toISOString(),
    ...(message.replayed_at === undefined ? {} : { replayed_at: message.replayed_at }),
    event: message.event,
  };
};

/**
 * The identity of a dead letter: one per delivery and replay. Two dead letters with one
 * identity come from one chain split in two; the archive keeps one and one alert is raised.
 */
const deadLetterIdentity = (deadLetter: DeadLetter): string =>
  `${deadLetter.delivery_id}|${deadLetter.replayed_at ?? ''}`;

/**
 * The archive message of a dead letter: the dead letter as JSON, with the attributes the CLI
 * and an operator browsing the queue filter on, and whether its `webhook.dlq` alert was raised.
 */
const deadLetterMessage = (
  deadLetter: DeadLetter,
  alert: AlertState,
): Omit<OutgoingMessage, 'id'> => ({
  body: JSON.stringify(deadLetter),
  attributes: {
    export: deadLetter.export,
    // An attribute is capped and must be SQS text; the body keeps the full audit_id.
    audit_id: sqsText(deadLetter.event.audit_id.slice(0, 200)),
    reason: deadLetter.reason,
    delivery_id: deadLetter.delivery_id,
    alert,
  },
});

export type { DeadLetterInput };
export { buildDeadLetter, deadLetterIdentity, deadLetterMessage };
