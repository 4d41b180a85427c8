/**
 * Turns pipeline notices into the one-line-per-thing output of `npm start`: one line per
 * delivery attempt, retry scheduled, dead letter and `webhook.dlq` event.
 */
import type { NoticeSink, PipelineNotice } from '../shared/observability/notices.js';

const time = (now: Date): string => now.toISOString().slice(11, 23);

const formatNotice = (notice: PipelineNotice, now: Date): string | undefined => {
  const at = time(now);
  switch (notice.type) {
    case 'attempt': {
      const status = notice.status ?? notice.errorClass ?? 'no response';
      const mark = notice.outcome === 'success' ? 'delivered' : notice.outcome;
      return `${at}  ${notice.export}  ${notice.auditId}  ${status}  attempt ${notice.attempt}/${notice.maxAttempts}  ${notice.latencyMs} ms  ${mark}`;
    }
    case 'retry_scheduled':
      return `${at}  ${notice.export}  ${notice.auditId}  retry: attempt ${notice.nextAttempt} in ${notice.delaySeconds} s`;
    case 'dead_lettered':
      return `${at}  ${notice.export}  ${notice.auditId}  DEAD LETTER (${notice.reason}): ${notice.detail}`;
    case 'duplicate_dropped':
      return `${at}  ${notice.export}  ${notice.auditId}  duplicate copy dropped${notice.attempts === undefined ? ' (dead letter)' : ` (attempt ${notice.attempts + 1})`}`;
    case 'alert_not_raised':
      return `${at}  ${notice.export}  ${notice.auditId}  ALERT NOT RAISED for dead letter ${notice.deliveryId}: ${notice.why}`;
    case 'dlq_event_raised':
      return `${at}  ${notice.export}  ${notice.auditId}  raised webhook.dlq event ${notice.dlqAuditId}`;
    case 'event_parked':
      return `${at}  ingest  ${notice.auditId ?? notice.sourceMessageId}  PARKED (${notice.reason}): ${notice.detail}`;
    case 'deferred':
      return `${at}  ${notice.export}  ${notice.auditId ?? '-'}  deferred ${notice.visibleAgainInSeconds} s: ${notice.why}`;
    case 'export_paused': {
      const rate =
        notice.failureRate === undefined
          ? ''
          : ` (${Math.round(notice.failureRate * 100)}% failed)`;
      const raised = notice.raisedAuditId
        ? `; raised webhook.export_paused ${notice.raisedAuditId}`
        : '';
      return `${at}  ${notice.export}  PAUSED (${notice.reason})${rate} until ${notice.pausedUntil}${raised}`;
    }
    case 'export_resumed':
      return `${at}  ${notice.export}  RESUMED after ${notice.pausedForSeconds} s: the probe delivery succeeded`;
    case 'batch_attempt': {
      const status = notice.status ?? notice.errorClass ?? 'no response';
      const mark = notice.outcome === 'success' ? 'delivered' : notice.outcome;
      return `${at}  ${notice.export}  batch of ${notice.events} (${notice.bytes} bytes)  ${status}  attempt ${notice.attempt}/${notice.maxAttempts}  ${notice.latencyMs} ms  ${mark}`;
    }
    case 'fanned_out':
    case 'dead_letter_archived':
      return undefined;
  }
};

/**
 * A sink that writes one line per notice worth a human's attention.
 *
 * @example
 * LocalPipeline.start({ ..., notify: consoleSink((line) => process.stdout.write(`${line}\n`)) });
 */
const consoleSink =
  (write: (line: string) => void, now: () => Date = () => new Date()): NoticeSink =>
  (notice) => {
    const line = formatNotice(notice, now());
    if (line !== undefined) write(line);
  };

export { consoleSink, formatNotice };
