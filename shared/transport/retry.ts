/**
 * Retry policy as data: what an attempt's result means (success, retry, permanent) and how long
 * to wait before the next attempt. Pure functions, no I/O, no clock reads (time is passed in).
 */
import { DEFAULTS, type RetryConfig } from '../config/types.js';
import type { ErrorClass, SendResult } from './http.js';

/** What to do with an event after one attempt. */
type Verdict =
  | { readonly outcome: 'success' }
  | { readonly outcome: 'retry'; readonly reason: string }
  | { readonly outcome: 'permanent'; readonly reason: string };

type Outcome = Verdict['outcome'];

/** One row of the status table: an inclusive range of status codes and what it means. */
interface StatusRule {
  readonly from: number;
  readonly to: number;
  readonly outcome: Outcome;
  /** Why, in a few words; ends up in the verdict's reason. */
  readonly why: string;
}

/**
 * How a received status is classified. First matching row wins, so the exceptions (408, 429,
 * 501) come before the ranges they belong to. A status matching no row is permanent.
 */
const STATUS_RULES: readonly StatusRule[] = [
  { from: 200, to: 299, outcome: 'success', why: 'accepted' },
  { from: 408, to: 408, outcome: 'retry', why: 'request timeout' },
  { from: 429, to: 429, outcome: 'retry', why: 'rate limited' },
  { from: 501, to: 501, outcome: 'permanent', why: 'not implemented' },
  { from: 500, to: 599, outcome: 'retry', why: 'server error' },
  { from: 300, to: 399, outcome: 'permanent', why: 'redirects are not followed' },
  { from: 400, to: 499, outcome: 'permanent', why: 'client error' },
  { from: 100, to: 199, outcome: 'permanent', why: 'informational status as final answer' },
];

/** Transport failures (no status received). A `Record` so a new error class forces a choice. */
const ERROR_CLASS_OUTCOMES: Readonly<
  Record<Exclude<ErrorClass, 'http_status'>, 'retry' | 'permanent'>
> = {
  timeout: 'retry',
  connection_refused: 'retry',
  connection_reset: 'retry',
  dns: 'retry',
  tls: 'retry',
  network: 'retry',
  invalid_url: 'permanent',
  invalid_request: 'permanent',
  blocked_address: 'permanent',
};

/** The whole classification table, exported as data for docs and the table-driven test. */
const CLASSIFICATION = { statuses: STATUS_RULES, errorClasses: ERROR_CLASS_OUTCOMES } as const;

const TRANSPORT_LABELS: Readonly<Record<Exclude<ErrorClass, 'http_status'>, string>> = {
  timeout: 'timed out',
  connection_refused: 'connection refused',
  connection_reset: 'connection reset by receiver',
  dns: 'DNS lookup failed',
  tls: 'TLS failure',
  network: 'network error',
  invalid_url: 'invalid URL',
  invalid_request: 'invalid request',
  blocked_address: 'private address refused',
};

const classifyStatus = (status: number, retryAfterSeconds: number | undefined): Verdict => {
  const rule = STATUS_RULES.find((row) => status >= row.from && status <= row.to);
  if (rule === undefined) {
    return { outcome: 'permanent', reason: `HTTP ${status} from receiver (not a standard status)` };
  }
  if (rule.outcome === 'success') return { outcome: 'success' };
  const wait =
    rule.outcome === 'retry' && retryAfterSeconds !== undefined
      ? `, Retry-After ${retryAfterSeconds} s`
      : '';
  return { outcome: rule.outcome, reason: `HTTP ${status} from receiver (${rule.why}${wait})` };
};

/**
 * Decides what one attempt's result means. A received status decides on its own (the receiver
 * has answered, even if its body was then cut); otherwise the transport error class decides.
 *
 * @example
 * classifyResult({ status: 503, latencyMs: 12, bodySnippet: '', bodyTruncated: false });
 * // → { outcome: 'retry', reason: 'HTTP 503 from receiver (server error)' }
 */
const classifyResult = (result: SendResult): Verdict => {
  if (result.status !== undefined) return classifyStatus(result.status, result.retryAfterSeconds);
  const errorClass = result.errorClass;
  if (errorClass === undefined || errorClass === 'http_status') {
    // Cannot come from http.ts; retrying is the safe reading (attempts stay bounded).
    return { outcome: 'retry', reason: result.errorMessage ?? 'no response from receiver' };
  }
  return {
    outcome: ERROR_CLASS_OUTCOMES[errorClass],
    reason: result.errorMessage ?? TRANSPORT_LABELS[errorClass],
  };
};

const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
const STARTS_WITH_DAY_NAME = /^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i;
/** asctime dates (`Sun Nov  6 08:49:37 1994`) carry no zone; HTTP says they are GMT. */
const ASCTIME = /^[a-z]{3} [a-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * Returns whole seconds from `nowMs` (rounded up), 0 for a date in the past, and `undefined`
 * for an absent or unparseable value.
 *
 * @example
 * parseRetryAfter('120', Date.now()); // → 120
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')); // → 60
 */
const parseRetryAfter = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (DELAY_SECONDS.test(trimmed)) {
    const seconds = Math.ceil(Number(trimmed));
    return Number.isFinite(seconds) ? seconds : undefined;
  }
  // Date.parse accepts almost anything ('1', '2024'); only try it on what looks like a date.
  if (!STARTS_WITH_DAY_NAME.test(trimmed)) return undefined;
  const dateMs = Date.parse(ASCTIME.test(trimmed) ? `${trimmed} GMT` : trimmed);
  if (!Number.isFinite(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
};

/**
 * The delay before attempt `attemptsMade + 1`: `backoff_seconds[attemptsMade - 1]` (the last
 * entry reused), raised to `Retry-After` when that is longer, capped at 12 h (the longest SQS
 * visibility timeout). Whole seconds, since SQS takes nothing finer.
 *
 * @example
 * backoffDelaySeconds(1, { max_attempts: 5, backoff_seconds: [1, 2, 4] });      // → 1
 * backoffDelaySeconds(7, { max_attempts: 9, backoff_seconds: [1, 2, 4] });      // → 4
 * backoffDelaySeconds(1, { max_attempts: 5, backoff_seconds: [1, 2, 4] }, 30); // → 30
 */
const backoffDelaySeconds = (
  attemptsMade: number,
  retry: RetryConfig,
  retryAfterSeconds?: number,
): number => {
  const schedule = retry.backoff_seconds;
  const index = Math.min(Math.max(Math.floor(attemptsMade), 1), schedule.length) - 1;
  const scheduled = schedule[index] ?? 0;
  const requested =
    retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 0;
  const delay = Math.ceil(Math.max(scheduled, requested, 0));
  return Math.min(delay, DEFAULTS.maxBackoffSeconds);
};

export type { Outcome, StatusRule, Verdict };
export {
  backoffDelaySeconds,
  CLASSIFICATION,
  classifyResult,
  ERROR_CLASS_OUTCOMES,
  parseRetryAfter,
  STATUS_RULES,
};
