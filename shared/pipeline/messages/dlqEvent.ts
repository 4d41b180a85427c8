/**
 * The `webhook.dlq` audit event raised for a dead letter. It carries no secret: the dead letter
 * was redacted when it was written.
 */
import { type AuditEvent, MAX_EVENT_BYTES } from '../../events/auditEvent.js';
import { PIPELINE_EVENT_SEVERITIES } from '../../events/pipelineEvents.js';
import { DLQ_EVENT_KIND } from './constants.js';
import { fitEvent } from './fitEvent.js';
import type { DeadLetter, DlqEvent } from './schemas.js';

/**
 * The `audit_id` of the `webhook.dlq` event for a dead letter: derived from the original
 * audit_id and the export, so a retried raise is recognisable as a duplicate, and from the
 * replay when the delivery that died was one (`dlq redrive`): a replay that dies again raises
 * an alert of its own, which no ledger takes for the first one's duplicate.
 */
const dlqAuditId = (originalAuditId: string, exportName: string, replayedAt?: string): string =>
  `${originalAuditId}:dlq:${exportName}${replayedAt === undefined ? '' : `:replay:${replayedAt}`}`;

/**
 * The `webhook.dlq` event for a dead letter, raised into the ingest queue. It always fits the
 * ingest's event limit ({@link MAX_EVENT_BYTES}, as `JSON.stringify` writes it): an original
 * event too large to travel whole (an event near the limit gains the dead letter's fields) is
 * trimmed by {@link fitEvent}, its largest values cut first, and the event says so with
 * `truncated: true` and `original_event_bytes`. The dead letter keeps the full event.
 *
 * @example
 * await sendMessage(sqs, queues.ingest, { body: JSON.stringify(dlqEvent(deadLetter, now)) });
 */
const dlqEvent = (deadLetter: DeadLetter, now: Date): DlqEvent => {
  const original = deadLetter.event;
  const whole = dlqEventWith(deadLetter, now, original);
  const excess = Buffer.byteLength(JSON.stringify(whole), 'utf8') - MAX_EVENT_BYTES;
  const fitted = fitEvent(original, excess);
  if (!fitted.truncated) return whole;
  // Two fields more than `whole`: measured with them, cut again by what they add.
  const marked = (event: AuditEvent): DlqEvent => ({
    ...dlqEventWith(deadLetter, now, event),
    truncated: true,
    original_event_bytes: fitted.originalBytes,
  });
  const first = marked(fitted.event);
  const over = Buffer.byteLength(JSON.stringify(first), 'utf8') - MAX_EVENT_BYTES;
  return over <= 0 ? first : marked(fitEvent(fitted.event, over).event);
};

/** The fields of a `webhook.dlq` event, carrying `original` as its original event. */
const dlqEventWith = (deadLetter: DeadLetter, now: Date, original: AuditEvent): DlqEvent => ({
  audit_id: dlqAuditId(deadLetter.event.audit_id, deadLetter.export, deadLetter.replayed_at),
  timestamp: now.toISOString(),
  event_kind: DLQ_EVENT_KIND,
  severity: PIPELINE_EVENT_SEVERITIES[DLQ_EVENT_KIND],
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
});

export { dlqAuditId, dlqEvent };
