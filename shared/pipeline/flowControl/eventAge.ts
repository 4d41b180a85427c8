/**
 * `max_event_age_seconds`: an event whose turn comes too late is not worth sending (a page
 * hours after the fact wakes someone for nothing). Its age is measured from its own
 * `timestamp`, when the delivery would otherwise be made: after any backoff, pause or
 * rate-limit wait, so an event that expired while waiting is caught too.
 */
import type { ExportConfig } from '../../config/types.js';
import type { AuditEvent } from '../../events/auditEvent.js';

/** `90061` → `1d 1h 1m 1s`: ages in dead letters are read by people. */
const formatDuration = (totalSeconds: number): string => {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const parts: string[] = [];
  const units = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const;
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
};

/**
 * Why the event is too old for the export, or undefined when it may still be sent (the export
 * sets no limit, or the event is young enough). An unreadable timestamp never expires: events
 * are validated at ingest, and dropping one on a parsing doubt would lose it.
 *
 * @example
 * expiredBecause(event, exportConfig, new Date());
 * // → 'the event is 3h 2m old (timestamp 2026-04-17T07:15:03Z); max_event_age_seconds is 3600, so it was not sent'
 */
const expiredBecause = (
  event: AuditEvent,
  exportConfig: ExportConfig,
  now: Date,
): string | undefined => {
  const limit = exportConfig.max_event_age_seconds;
  if (limit === undefined) return undefined;
  const at = Date.parse(event.timestamp);
  if (!Number.isFinite(at)) return undefined;
  const ageSeconds = (now.getTime() - at) / 1000;
  if (ageSeconds <= limit) return undefined;
  return `the event is ${formatDuration(ageSeconds)} old (timestamp ${event.timestamp}); max_event_age_seconds is ${limit}, so it was not sent`;
};

export { expiredBecause, formatDuration };
