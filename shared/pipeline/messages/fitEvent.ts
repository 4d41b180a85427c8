/**
 * Fitting an audit event into a byte budget by cutting its largest values: how a `webhook.dlq`
 * event, which carries the original event, always stays within the ingest's event limit. The
 * dead letter itself keeps the full event; only the alert is trimmed.
 */
import type { AuditEvent } from '../../events/auditEvent.js';

/** Marks a cut value: a string cut short ends with it. */
const CUT_MARK = '…';

/** The fields an audit event cannot do without; cut only when nothing else is left to cut. */
const REQUIRED = new Set(['audit_id', 'timestamp', 'event_kind', 'severity', 'agent_id']);
/** Fields never cut: short by their format, and cutting them would make the event invalid. */
const NEVER_CUT = new Set(['timestamp', 'severity']);

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * The longest start of `text` (plus {@link CUT_MARK}) whose JSON is at most `maxBytes`; binary
 * search, since escaping makes a character cost 1 to 12 bytes. Never splits a surrogate pair.
 */
const cutString = (text: string, maxBytes: number): string => {
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (jsonBytes(`${text.slice(0, middle)}${CUT_MARK}`) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  const kept = /[\uD800-\uDBFF]$/.test(text.slice(0, low)) ? low - 1 : low;
  return `${text.slice(0, kept)}${CUT_MARK}`;
};

/** What {@link fitEvent} made of an event. */
type FittedEvent =
  | { readonly truncated: false; readonly event: AuditEvent }
  | { readonly truncated: true; readonly event: AuditEvent; readonly originalBytes: number };

/**
 * The event, or a copy whose JSON is `excessBytes` smaller (or more): its top-level values are
 * cut largest first, each only as far as needed. A string keeps its start and ends with `…`;
 * any other value (an object, an array, a long number) becomes the start of its JSON text,
 * cut the same way. The required fields are cut last, never below one character, and
 * `timestamp` and `severity` never, so the result is still a valid audit event.
 *
 * @example
 * const fitted = fitEvent(event, 1024); // at least 1 KiB smaller, or unchanged when 0
 */
const fitEvent = (event: AuditEvent, excessBytes: number): FittedEvent => {
  if (excessBytes <= 0) return { truncated: false, event };
  const originalBytes = jsonBytes(event);
  const fields: Record<string, unknown> = { ...event };
  const bySize = Object.keys(fields)
    .filter((name) => !NEVER_CUT.has(name))
    .map((name) => ({ name, bytes: jsonBytes(fields[name]) }))
    // Largest first; the required fields after every other one.
    .sort(
      (a, b) => Number(REQUIRED.has(a.name)) - Number(REQUIRED.has(b.name)) || b.bytes - a.bytes,
    );
  let excess = excessBytes;
  for (const { name, bytes } of bySize) {
    if (excess <= 0) break;
    const value = fields[name];
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const minimum = REQUIRED.has(name) ? jsonBytes(`${text.slice(0, 1)}${CUT_MARK}`) : 2;
    const target = Math.max(minimum, bytes - excess);
    if (target >= bytes) continue;
    const cut = REQUIRED.has(name) && text.length <= 1 ? text : cutString(text, target);
    fields[name] = cut;
    excess -= bytes - jsonBytes(cut);
  }
  return { truncated: true, event: fields as AuditEvent, originalBytes };
};

export type { FittedEvent };
export { CUT_MARK, fitEvent };
