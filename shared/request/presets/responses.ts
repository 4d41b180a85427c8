/**
 * Small readers of destination responses shared by the presets' classifiers: the JSON body, a
 * numeric header, a short error code. They never throw and never return more than a few
 * hundred characters of the body, so a reason built from them stays short in logs and dead
 * letters. The result they read is masked already (`maskSendResult` runs on every result before
 * it is classified), so a quote cut at {@link MAX_QUOTED_CHARS} can never cut a secret in two.
 */
import type { SendResult } from '../../transport/http.js';
import type { PresetVerdict } from './types.js';

/** Longest piece of a destination's error text quoted in a reason. */
const MAX_QUOTED_CHARS = 200;

/** The body as JSON, or `undefined` when it is cut or is not JSON. */
const jsonBody = (result: SendResult): unknown => {
  if (result.bodyTruncated || result.bodySnippet.trim() === '') return undefined;
  try {
    return JSON.parse(result.bodySnippet) as unknown;
  } catch {
    return undefined;
  }
};

/** A property of a JSON object body, `undefined` for anything else. */
const jsonField = (body: unknown, name: string): unknown =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, name)
    ? (body as Record<string, unknown>)[name]
    : undefined;

/**
 * A non-negative number of seconds from a header or JSON value (`"0.65"`, `2`), rounded up to
 * whole seconds (SQS delays are whole seconds); `undefined` when absent or not a number.
 */
const secondsFrom = (value: unknown): number | undefined => {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(number) && number >= 0 ? Math.ceil(number) : undefined;
};

/** A response header (names are lower case in a {@link SendResult}). */
const header = (result: SendResult, name: string): string | undefined =>
  result.headers?.[name.toLowerCase()];

/**
 * Text from a destination, safe to quote in a reason: one line, printable, at most
 * {@link MAX_QUOTED_CHARS} characters.
 */
const quote = (text: string): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_QUOTED_CHARS ? `${line.slice(0, MAX_QUOTED_CHARS - 1)}…` : line;
};

/** The strings of a JSON value that is a string or an array of strings, quoted and joined. */
const messages = (value: unknown): string | undefined => {
  const list = Array.isArray(value) ? value : [value];
  const texts = list.filter((item): item is string => typeof item === 'string' && item !== '');
  return texts.length === 0 ? undefined : quote(texts.join('; '));
};

/** The verdict with the destination's own words appended to its reason. */
const withDetail = (verdict: PresetVerdict, detail: string | undefined): PresetVerdict =>
  verdict.outcome === 'success' || detail === undefined || detail === ''
    ? verdict
    : { ...verdict, reason: `${verdict.reason}; ${detail}` };

/** The verdict with a wait the destination asked for, when it is a retry. */
const withWait = (verdict: PresetVerdict, seconds: number | undefined): PresetVerdict =>
  verdict.outcome === 'retry' && seconds !== undefined
    ? { ...verdict, retryAfterSeconds: seconds }
    : verdict;

export {
  header,
  jsonBody,
  jsonField,
  MAX_QUOTED_CHARS,
  messages,
  quote,
  secondsFrom,
  withDetail,
  withWait,
};
