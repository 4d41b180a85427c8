/**
 * The `webhook.dlq` audit event raised for a dead letter. It carries no secret: the dead letter
 * was redacted when it was written.
 */
import { DLQ_EVENT_KIND } from './constants.js';
import type { DeadLetter, DlqEvent } from './schemas.js';

/**
 * The `audit_id` of the `webhook.dlq` event for a dead letter: derived from the original
 * audit_id and the export, so a retried raise is recognisable as a duplicate.
 */
const dlqAuditId = (originalAuditId: string, exportName: string): string =>
  `${originalAuditId}:dlq:${exportName}`;

/**
 * The `webhook.dlq` event for a dead letter, raised into the ingest queue.
 *
 * @example
 * await sendMessage(sqs, queues.ingest, { body: JSON.stringify(dlqEvent(deadLetter, now)) });
 */
const dlqEvent = (deadLetter: DeadLetter, now: Date): DlqEvent => {
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

export { dlqAuditId, dlqEvent };
