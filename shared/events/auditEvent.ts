/**
 * The TapPass audit event: its type, the severity scale and validation.
 *
 * An event is a JSON object with at least `audit_id`, `timestamp` (ISO 8601), `event_kind` and
 * `severity`; `agent_id` and every other field pass through untouched to templates and receivers.
 * Parse producer text with `parseEventJson` (eventJson.ts) first, so that a number JSON.parse
 * would round is refused here rather than sent changed.
 */
import { inexactNumber } from './eventJson.js';

/** Severities from least to most severe; the order is what `min_severity` compares. */
const SEVERITIES = ['debug', 'info', 'warn', 'error', 'critical'] as const;

type Severity = (typeof SEVERITIES)[number];

/** An audit event after validation. Unknown fields are kept as they came. */
interface AuditEvent {
  audit_id: string;
  timestamp: string;
  event_kind: string;
  severity: Severity;
  agent_id?: string;
  [field: string]: unknown;
}

/** One thing wrong with an event, with the path of the field (`severity`, `policy_result.verdict`). */
interface EventProblem {
  path: string;
  message: string;
}

type EventValidation = { ok: true; event: AuditEvent } | { ok: false; problems: EventProblem[] };

/**
 * Largest accepted event, as UTF-8 JSON. A delivery message wraps the event with a small
 * envelope and must stay under SQS's classic 256 KiB message limit.
 */
const MAX_EVENT_BYTES = 200 * 1024;

/**
 * Most items one ingest message may hold (a JSON array of events). Each invalid item becomes a
 * parked message of its own, so without a cap one 256 KiB body of 100,000 numbers would take
 * 10,000 SendMessageBatch calls: far past the function timeout, retried, and parked again on
 * every retry. The ingest parks a larger array whole instead; producers pack at most this many.
 */
const MAX_EVENTS_PER_MESSAGE = 1_000;

/**
 * Events `npm run push` and the producer example pack into one message: a tenth of what the
 * ingest takes, so that one ingest invocation (10 records) fans out at most 1,000 events per
 * export, which its 30 s and 256 MB send in time (each event is a delivery message per export).
 */
const EVENTS_PER_PACKED_MESSAGE = 100;

/** Deepest accepted nesting of objects and arrays; deeper input is rejected, not recursed. */
const MAX_EVENT_DEPTH = 32;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Keys that would reach an object's prototype if a consumer ever merged the event naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const isSeverity = (value: unknown): value is Severity =>
  typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);

/** Rank of a severity on the scale, 0 for `debug`. */
const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  inexactNumber(value) === undefined;

/** A number's text for messages, cut so a 100,000-digit number does not fill the detail. */
const numberText = (source: string): string =>
  source.length > 64 ? `${source.slice(0, 64)}… (${source.length} characters)` : source;

/** A walk's position: object keys and array indexes from the root. */
type PathSegments = (string | number)[];

/** `policy_result.reasons[0].why`, or `(root)`: built only for a problem, not at every step. */
const pathText = (segments: PathSegments): string => {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text || '(root)';
};

/** Walks the value once, reporting forbidden keys and excessive depth with their paths. */
const checkStructure = (
  value: unknown,
  segments: PathSegments,
  depth: number,
  problems: EventProblem[],
) => {
  if (depth > MAX_EVENT_DEPTH) {
    problems.push({
      path: pathText(segments),
      message: `nested deeper than ${MAX_EVENT_DEPTH} levels`,
    });
    return;
  }
  // Strings, numbers kept exactly, booleans and null: nothing to look into.
  if (typeof value !== 'object' || value === null) return;
  const inexact = inexactNumber(value);
  if (inexact !== undefined) {
    problems.push({
      path: pathText(segments),
      message: `the event holds the number ${numberText(inexact.source)}, which cannot be kept exactly (it would arrive as ${numberText(inexact.rounded)}); send it as a string`,
    });
    return;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      segments.push(index);
      checkStructure(value[index], segments, depth + 1, problems);
      segments.pop();
    }
  } else {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      segments.push(key);
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push({ path: pathText(segments), message: `the key "${key}" is not allowed` });
      } else {
        checkStructure(object[key], segments, depth + 1, problems);
      }
      segments.pop();
    }
  }
};

const requireString = (
  event: Record<string, unknown>,
  field: string,
  problems: EventProblem[],
): string | undefined => {
  const value = event[field];
  if (value === undefined) {
    problems.push({ path: field, message: 'is required' });
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0) {
    problems.push({ path: field, message: `must be a non-empty string, got ${describe(value)}` });
    return undefined;
  }
  return value;
};

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  const inexact = inexactNumber(value);
  if (inexact !== undefined) return `number ${numberText(inexact.source)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
};

/**
 * Validates a decoded JSON value as an audit event and returns every problem at once.
 *
 * @example
 * const parsed = parseEventJson(body);
 * const result = parsed.ok ? validateEvent(parsed.value) : undefined;
 * if (!result.ok) console.error(result.problems.map((p) => `${p.path}: ${p.message}`));
 */
const validateEvent = (value: unknown): EventValidation => {
  if (!isPlainObject(value)) {
    return {
      ok: false,
      problems: [
        { path: '(root)', message: `an audit event must be a JSON object, got ${describe(value)}` },
      ],
    };
  }
  const problems: EventProblem[] = [];
  checkStructure(value, [], 0, problems);
  requireString(value, 'audit_id', problems);
  requireString(value, 'event_kind', problems);
  const timestamp = requireString(value, 'timestamp', problems);
  if (
    timestamp !== undefined &&
    (!ISO_8601.test(timestamp) || Number.isNaN(Date.parse(timestamp)))
  ) {
    problems.push({
      path: 'timestamp',
      message: `must be an ISO 8601 date-time such as 2026-04-17T10:15:03Z, got ${describe(timestamp)}`,
    });
  }
  const severity = value.severity;
  if (severity === undefined) {
    problems.push({ path: 'severity', message: 'is required' });
  } else if (!isSeverity(severity)) {
    problems.push({
      path: 'severity',
      message: `must be one of ${SEVERITIES.join(', ')}, got ${describe(severity)}`,
    });
  }
  if (value.agent_id !== undefined && typeof value.agent_id !== 'string') {
    problems.push({
      path: 'agent_id',
      message: `must be a string, got ${describe(value.agent_id)}`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, event: value as AuditEvent };
};

/** One line per problem, for logs and dead-letter reasons. */
const formatEventProblems = (problems: readonly EventProblem[]): string =>
  problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');

export type { AuditEvent, EventProblem, EventValidation, Severity };
export {
  EVENTS_PER_PACKED_MESSAGE,
  formatEventProblems,
  isSeverity,
  MAX_EVENT_BYTES,
  MAX_EVENT_DEPTH,
  MAX_EVENTS_PER_MESSAGE,
  SEVERITIES,
  severityRank,
  validateEvent,
};
