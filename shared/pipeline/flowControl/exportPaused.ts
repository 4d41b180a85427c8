/**
 * Announcing the breaker's decisions: a notice for every change, and one
 * `webhook.export_paused` audit event into the ingest queue when an export pauses, so that
 * exports route it with their filters like `webhook.dlq` (PagerDuty for the on-call, Slack
 * for the channel).
 *
 * No loops: the event for a paused export X reaches X's own queue only if X's filters match
 * it, and there it simply waits with everything else until X resumes. A failed probe
 * continues the same pause and raises nothing new.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ExportConfig } from '../../config/types.js';
import type { AuditEvent } from '../../events/auditEvent.js';
import { PIPELINE_EVENT_SEVERITIES } from '../../events/pipelineEvents.js';
import type { NoticeSink } from '../../observability/notices.js';
import type { QueueDirectory } from '../../sqs/queueNames.js';
import { sendMessage } from '../../sqs/queues.js';
import type { SendResult } from '../../transport/http.js';
import type { BreakerTransition } from './breaker.js';
import type { ExportGuards } from './exportGuards.js';

/** The event kind raised when an export pauses. */
const EXPORT_PAUSED_KIND = 'webhook.export_paused';

type OpenedTransition = Extract<BreakerTransition, { kind: 'opened' }>;

interface AnnounceContext {
  readonly sqs: SQSClient;
  readonly queues: QueueDirectory;
  readonly notify: NoticeSink;
  readonly guards: ExportGuards;
  readonly exportConfig: ExportConfig;
  /** The attempt that caused the change, for its status in the event. */
  readonly result?: SendResult;
  readonly now: Date;
}

/**
 * The `audit_id` of the event for a pause: the export and the start of the cooldown-long
 * period in which it opened. Another instance pausing the same export in the same period, or
 * a retried raise, carries the same id, so receivers can recognise the repeat.
 *
 * @example
 * exportPausedAuditId('s3-archive', Date.parse('2026-04-17T10:15:42Z'), 60_000);
 * // → 's3-archive:paused:2026-04-17T10:15:00.000Z'
 */
const exportPausedAuditId = (exportName: string, openedAt: number, cooldownMs: number): string => {
  const period = Math.floor(openedAt / cooldownMs) * cooldownMs;
  return `${exportName}:paused:${new Date(period).toISOString()}`;
};

const describeOpening = (transition: OpenedTransition, cooldownSeconds: number): string => {
  const pause = `deliveries pause for ${cooldownSeconds} s, then one probe decides; queued events wait (no attempt is spent)`;
  if (transition.reason === 'gone') return `the receiver answered 410 Gone; ${pause}`;
  const percent = Math.round((transition.failures / Math.max(1, transition.attempts)) * 100);
  return `${transition.failures} of the last ${transition.attempts} attempts failed (${percent}%); ${pause}`;
};

/**
 * The `webhook.export_paused` event for a pause. Carries no secret: the export name, numbers,
 * and the status or error class of the attempt that tipped it.
 */
const exportPausedEvent = (
  transition: OpenedTransition,
  exportConfig: ExportConfig,
  result: SendResult | undefined,
  now: Date,
): AuditEvent => {
  const cooldownMs = transition.pausedUntil - transition.openedAt;
  const cooldownSeconds = Math.round(cooldownMs / 1000);
  return {
    audit_id: exportPausedAuditId(exportConfig.name, transition.openedAt, Math.max(1, cooldownMs)),
    timestamp: now.toISOString(),
    event_kind: EXPORT_PAUSED_KIND,
    severity: PIPELINE_EVENT_SEVERITIES[EXPORT_PAUSED_KIND],
    export: exportConfig.name,
    reason: transition.reason,
    detail: describeOpening(transition, cooldownSeconds),
    failure_rate:
      transition.attempts > 0
        ? Math.round((transition.failures / transition.attempts) * 1000) / 1000
        : undefined,
    attempts: transition.attempts,
    failures: transition.failures,
    paused_at: new Date(transition.openedAt).toISOString(),
    paused_until: new Date(transition.pausedUntil).toISOString(),
    cooldown_seconds: cooldownSeconds,
    last_status: result?.status,
    error_class: result?.errorClass,
  };
};

/** Sends an event body to the ingest queue; false when SQS did not take it. */
const raise = async (ctx: AnnounceContext, body: string): Promise<boolean> => {
  try {
    await sendMessage(ctx.sqs, ctx.queues.ingest, { body });
    return true;
  } catch {
    // The delivery outcome must still be handled; the raise is tried again on the next
    // record held back by this pause (see retryPendingRaise).
    ctx.guards.pendingRaises.set(ctx.exportConfig.name, body);
    return false;
  }
};

/**
 * Reports a breaker change: a notice, and for a new pause the `webhook.export_paused` event.
 * Never throws.
 *
 * @example
 * const change = guards.report(exportConfig, result, verdict, permit.probe);
 * if (change) await announceTransition(change, { sqs, queues, notify, guards, exportConfig, result, now });
 */
const announceTransition = async (
  transition: BreakerTransition,
  ctx: AnnounceContext,
): Promise<void> => {
  const exportName = ctx.exportConfig.name;
  if (transition.kind === 'closed') {
    ctx.guards.pendingRaises.delete(exportName);
    ctx.notify({
      type: 'export_resumed',
      export: exportName,
      pausedForSeconds: Math.round(transition.pausedForMs / 1000),
    });
    return;
  }
  let raisedAuditId: string | undefined;
  if (transition.fresh) {
    const event = exportPausedEvent(transition, ctx.exportConfig, ctx.result, ctx.now);
    if (await raise(ctx, JSON.stringify(event))) raisedAuditId = event.audit_id;
  }
  ctx.notify({
    type: 'export_paused',
    export: exportName,
    reason: transition.reason,
    ...(transition.attempts > 0 ? { failureRate: transition.failures / transition.attempts } : {}),
    attempts: transition.attempts,
    failures: transition.failures,
    pausedUntil: new Date(transition.pausedUntil).toISOString(),
    ...(raisedAuditId === undefined ? {} : { raisedAuditId }),
  });
};

/** Tries again to raise a pause event whose first raise failed. Never throws. */
const retryPendingRaise = async (ctx: AnnounceContext): Promise<void> => {
  const body = ctx.guards.pendingRaises.get(ctx.exportConfig.name);
  if (body === undefined) return;
  ctx.guards.pendingRaises.delete(ctx.exportConfig.name);
  await raise(ctx, body);
};

export type { AnnounceContext };
export {
  announceTransition,
  EXPORT_PAUSED_KIND,
  exportPausedAuditId,
  exportPausedEvent,
  retryPendingRaise,
};
