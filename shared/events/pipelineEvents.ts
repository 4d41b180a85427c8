/**
 * The audit events the pipeline raises itself, and the severity each always has. Config
 * validation reads this to warn about a filter no such event can pass (`event_kinds:
 * [webhook.dlq]` with `min_severity: critical`, or `webhook_dlq` for `webhook.dlq`); the
 * raisers read it for the severity they write, so the two cannot drift apart.
 */
import type { Severity } from './auditEvent.js';

/** Event kind → the severity every event of that kind has. */
const PIPELINE_EVENT_SEVERITIES = {
  /** A delivery was dead-lettered (shared/pipeline/messages/dlqEvent.ts). */
  'webhook.dlq': 'error',
  /** The breaker paused an export (shared/pipeline/flowControl/exportPaused.ts). */
  'webhook.export_paused': 'error',
} as const satisfies Readonly<Record<string, Severity>>;

type PipelineEventKind = keyof typeof PIPELINE_EVENT_SEVERITIES;

/** Every kind the pipeline raises, in a stable order. */
const PIPELINE_EVENT_KINDS = Object.keys(PIPELINE_EVENT_SEVERITIES) as PipelineEventKind[];

/** Whether an event kind is one the pipeline raises. */
const isPipelineEventKind = (kind: string): kind is PipelineEventKind =>
  Object.hasOwn(PIPELINE_EVENT_SEVERITIES, kind);

export type { PipelineEventKind };
export { isPipelineEventKind, PIPELINE_EVENT_KINDS, PIPELINE_EVENT_SEVERITIES };
