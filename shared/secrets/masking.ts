/**
 * Masking resolved `${VAR}` values out of text that leaves the process: logs, dead letters,
 * `webhook.dlq` events, error messages and CLI output. The one place where secrets are masked
 * and where text from outside is cut, in that order: mask first, then cut, then drop what a
 * cut left of a secret at the end (see {@link maskThenCut}).
 *
 * A module of its own, with only a type import, so that every function (the ingest and
 * dead-letter ones too) can mask without bundling templates or presets.
 */
import type { SendResult } from '../transport/http.js';

/** What a masked secret is replaced with. */
const MASK = '***';

/**
 * A path segment, query value, user name or password of a secret URL is masked on its own when
 * it has at least this many characters. Credentials in webhook URLs are long (Slack's
 * `T…/B…/<24 chars>`, Discord's 68-character token, Teams' GUIDs and signatures); shorter parts
 * (`v2`, `api`, `hooks`) are words, and masking them everywhere would hide the text around them.
 */
const MIN_URL_PART_CHARS = 8;

/**
 * A cut (a body read up to its cap, a snippet cut to 1 KiB) may end inside a secret. After
 * masking, a tail of at least this many characters that is the start of a secret form is
 * replaced by `***` too. Shorter tails are kept: 1 to 3 characters are no secret, and every
 * short text would otherwise lose its last characters by chance.
 */
const MIN_CUT_FRAGMENT_CHARS = 4;

/**
 * What `JSON.stringify` escapes in a string (a quote, a backslash, a control character, a
 * surrogate, which it escapes when lone) and the two line separators escaped here.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/**
 * A string as JSON string content: `JSON.stringify` without the quotes, with U+2028 and U+2029
 * escaped too, since some JSON consumers (and every JavaScript eval) treat them as line breaks.
 */
const jsonStringContent = (value: string): string =>
  // Most values hold nothing to escape; a JSON template writes every output through here.
  NEEDS_JSON_ESCAPE.test(value)
    ? JSON.stringify(value)
        .slice(1, -1)
        .replace(/\u2028/g, '\\u2028')
        .replace(/\u2029/g, '\\u2029')
    : value;

/** JSON string content with every non-ASCII code unit as `\uxxxx` (Python, PHP). */
const asciiJsonContent = (value: string): string =>
  jsonStringContent(value).replace(
    /[\u0080-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** The same text with HTML's five special characters escaped (error pages quote like this). */
const htmlEscaped = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** `encode(value)`, or nothing when it throws (a lone surrogate cannot be percent-encoded). */
const tryEncode = (encode: (value: string) => string, value: string): string[] => {
  try {
    return [encode(value)];
  } catch {
    return [];
  }
};

/**
 * The ways one piece of text can be written back by a receiver or by us: as is; inside a JSON
 * string (plain, with `\/`, with non-ASCII as `\uxxxx`, escaped twice); percent-encoded (as a URL component,
 * as a query value, as a whole URL, as a form value); HTML-escaped.
 */
const encodings = (value: string): string[] => {
  const json = jsonStringContent(value);
  const ascii = asciiJsonContent(value);
  return [
    value,
    json,
    // JSON.stringify itself leaves U+2028 and U+2029 as they are.
    JSON.stringify(value).slice(1, -1),
    json.replace(/\//g, '\\/'),
    ascii,
    ascii.replace(/\//g, '\\/'),
    ...tryEncode(encodeURIComponent, value),
    // A URL's query (special schemes) encodes `'` as well, so a receiver reads it that way.
    ...tryEncode((text) => encodeURIComponent(text).replace(/'/g, '%27'), value),
    ...tryEncode(encodeURI, value),
    ...tryEncode((text) => new URLSearchParams([['', text]]).toString().slice(1), value),
    // Escaped twice: a receiver quoting the JSON body it was sent inside its own JSON answer.
    jsonStringContent(json),
    JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1),
    htmlEscaped(value),
  ];
};

/** `decodeURIComponent`, or the text itself when it is not valid percent-encoding. */
const tryDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * The parts of an http(s) URL that can be credentials on their own: the path and the path with
 * its query, each path segment, each query value, the user name and password, as written and
 * decoded, those of at least {@link MIN_URL_PART_CHARS} characters. A receiver's 404 page that
 * echoes only the path (`Cannot POST /services/T…/B…/XXXX`) then shows none of it. Nothing for
 * a value that is not such a URL.
 */
const urlCredentialParts = (value: string): string[] => {
  if (!/^https?:\/\//i.test(value)) return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  const written = value.slice(value.indexOf('//') + 2);
  const pathStart = written.search(/[/?#]/);
  const rawPath = pathStart === -1 ? '' : written.slice(pathStart).replace(/#.*$/, '');
  const rawQuery = rawPath.includes('?') ? rawPath.slice(rawPath.indexOf('?') + 1) : '';
  const pathOnly = rawPath.replace(/\?.*$/, '');
  const candidates = [
    url.pathname,
    `${url.pathname}${url.search}`,
    rawPath,
    pathOnly,
    ...url.pathname.split('/'),
    ...pathOnly.split('/'),
    ...[...url.searchParams.values()],
    ...rawQuery.split('&').map((pair) => pair.slice(pair.indexOf('=') + 1)),
    url.username,
    url.password,
  ];
  const parts = new Set<string>();
  for (const candidate of candidates) {
    for (const part of [candidate, tryDecode(candidate)]) {
      if (part.length >= MIN_URL_PART_CHARS) parts.add(part);
    }
  }
  return [...parts];
};

/**
 * Every form a secret can take in our output or a receiver's answer: the value and, for a URL,
 * its credential parts ({@link urlCredentialParts}), each as is, JSON-escaped, percent-encoded
 * and HTML-escaped. Empty values are skipped: there is nothing to hide in them.
 *
 * @example
 * secretForms(['a"b']); // ['a"b', 'a\\"b', 'a%22b', 'a&quot;b']
 */
const secretForms = (values: Iterable<string>): readonly string[] => {
  const list = [...values];
  const key = list.join('\u0000');
  const cached = formsCache.get(key);
  if (cached !== undefined) return cached;
  const forms = computeForms(list);
  if (formsCache.size >= FORMS_CACHE_SIZE) formsCache.clear();
  formsCache.set(key, forms);
  return forms;
};

/**
 * The forms of recent sets of values. Working them out (URL parts, every encoding) costs more
 * than masking with them, and a delivery function masks every answer, header by header, with
 * the same few sets: one per export. Bounded; the values are in this process anyway (the
 * resolver's cache).
 */
const FORMS_CACHE_SIZE = 64;
const formsCache = new Map<string, readonly string[]>();

const computeForms = (values: readonly string[]): readonly string[] => {
  const forms = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value === '') continue;
    for (const piece of [value, ...urlCredentialParts(value)]) {
      for (const form of encodings(piece)) forms.add(form);
    }
  }
  forms.delete('');
  return [...forms];
};

/**
 * Text to search, and where each of its characters came from in the original text: the text
 * itself (no maps), or a decoded copy of it. Plain data, not closures: every answer's headers
 * are masked, so a view is built several times per delivery.
 */
interface View {
  readonly text: string;
  /** Original offset where the view's character `index` starts; absent: `index` itself. */
  readonly starts?: readonly number[];
  /** Original offset just past the view's character `index`; absent: `index + 1`. */
  readonly ends?: readonly number[];
}

const startOf = (view: View, index: number): number =>
  view.starts === undefined ? index : (view.starts[index] ?? 0);

const endOf = (view: View, index: number): number =>
  view.ends === undefined ? index + 1 : (view.ends[index] ?? 0);

const PERCENT_BYTES = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * The text with its `%XX` runs decoded once, mapped back to the original: an encoder with
 * other safe characters than ours (Python's `quote` leaves `/`), lower-case hex, or a URL
 * encoded twice, all decode to a form we know. A run that is not UTF-8 is left as it is.
 */
const percentDecoded = (view: View): View | undefined => {
  if (!view.text.includes('%')) return undefined;
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let copied = 0;
  const copy = (from: number, to: number) => {
    for (let index = from; index < to; index++) {
      text += view.text[index];
      starts.push(startOf(view, index));
      ends.push(endOf(view, index));
    }
  };
  for (const match of view.text.matchAll(PERCENT_BYTES)) {
    const at = match.index;
    const run = match[0];
    let decoded: string;
    try {
      decoded = decodeURIComponent(run);
    } catch {
      continue;
    }
    copy(copied, at);
    // Every character of a decoded run stands for the whole run: masked together.
    for (const char of decoded) {
      for (let unit = 0; unit < char.length; unit++) {
        text += char[unit];
        starts.push(startOf(view, at));
        ends.push(endOf(view, at + run.length - 1));
      }
    }
    copied = at + run.length;
  }
  if (copied === 0) return undefined;
  copy(copied, view.text.length);
  return { text, starts, ends };
};

/** The text itself, then decoded once and twice where it holds `%XX`. */
const viewsOf = (text: string): View[] => {
  const views: View[] = [{ text }];
  for (let level = 0; level < 2; level++) {
    const last = views[views.length - 1];
    const decoded = last === undefined ? undefined : percentDecoded(last);
    if (decoded === undefined) break;
    views.push(decoded);
  }
  return views;
};

/**
 * Replaces every occurrence of each form, and the `extra` ranges, with `***`; overlapping
 * ranges are merged into one.
 */
const maskForms = (
  text: string,
  forms: readonly string[],
  extra: readonly (readonly [number, number])[] = [],
): string => {
  if ((forms.length === 0 && extra.length === 0) || text === '') return text;
  const intervals: [number, number][] = extra.map(([from, to]) => [from, to]);
  for (const view of viewsOf(text)) {
    for (const form of forms) {
      for (let at = view.text.indexOf(form); at !== -1; at = view.text.indexOf(form, at + 1)) {
        intervals.push([startOf(view, at), endOf(view, at + form.length - 1)]);
      }
    }
  }
  if (intervals.length === 0) return text;
  intervals.sort((a, b) => a[0] - b[0]);
  let out = '';
  let copiedTo = 0;
  let current: [number, number] | undefined;
  for (const interval of intervals) {
    if (current && interval[0] <= current[1]) {
      current[1] = Math.max(current[1], interval[1]);
      continue;
    }
    if (current) {
      out += `${text.slice(copiedTo, current[0])}${MASK}`;
      copiedTo = current[1];
    }
    current = [interval[0], interval[1]];
  }
  if (current) {
    out += `${text.slice(copiedTo, current[0])}${MASK}`;
    copiedTo = current[1];
  }
  return out + text.slice(copiedTo);
};

/**
 * Replaces every occurrence of each secret, in every form ({@link secretForms}), with `***`.
 * Overlapping occurrences are merged into one `***`, so no fragment of a secret survives next
 * to a redacted one. Use it on everything that leaves the process whole; for text that is cut
 * as well, use {@link maskThenCut}.
 *
 * @example
 * redactSecrets('Token token=abc123', ['abc123']); // 'Token token=***'
 */
const redactSecrets = (text: string, secretValues: Iterable<string>): string =>
  maskForms(text, secretForms(secretValues));

/**
 * The length of the longest tail of `text` (at least {@link MIN_CUT_FRAGMENT_CHARS}) that is
 * the start of a form: what a cut inside a secret left of it. 0 when there is none.
 */
const cutFragmentLength = (text: string, forms: readonly string[]): number => {
  let longest = 0;
  for (const form of forms) {
    for (let length = Math.min(form.length, text.length); length > longest; length--) {
      if (length < MIN_CUT_FRAGMENT_CHARS) break;
      if (text.endsWith(form.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
};

/** Cuts a UTF-8 string to at most `maxBytes` bytes without splitting a character. */
const truncateUtf8 = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Decoding a cut-off prefix yields U+FFFD for a split character; drop it.
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
};

/** Options of {@link maskThenCut}. */
interface CutOptions {
  /** Largest result in UTF-8 bytes. @default no limit */
  readonly maxBytes?: number;
  /** The text was cut already before it came here (a body read up to its cap). */
  readonly alreadyCut?: boolean;
}

/**
 * Masks every secret form, then cuts to `maxBytes`, then, when the text was cut (here or
 * before), replaces a tail that is the start of a secret form with `***`: a secret cut at the
 * end leaves none of its characters. The order matters: a cut made before masking can split a
 * secret into a piece masking no longer recognises.
 *
 * @example
 * maskThenCut('echo: tok_abcdef', ['tok_abcdef'], { maxBytes: 12 }); // 'echo: ***'
 * maskThenCut('echo: tok_ab', ['tok_abcdef'], { alreadyCut: true }); // 'echo: ***'
 */
const maskThenCut = (
  text: string,
  secretValues: Iterable<string>,
  options: CutOptions = {},
): string => {
  const forms = secretForms(secretValues);
  // A tail left by an earlier cut is found in the text as it came, before masking could turn
  // its recognisable parts (a URL's segments) into `***` and hide what they belonged to.
  const earlier = options.alreadyCut === true ? cutFragmentLength(text, forms) : 0;
  const masked = maskForms(
    text,
    forms,
    earlier === 0 ? [] : [[text.length - earlier, text.length]],
  );
  if (options.maxBytes === undefined) return masked;
  const cut = truncateUtf8(masked, options.maxBytes);
  if (cut === masked) return cut;
  const fragment = cutFragmentLength(cut, forms);
  if (fragment === 0) return cut;
  // The marker may be longer than the fragment it replaces: keep within the limit.
  return truncateUtf8(`${cut.slice(0, cut.length - fragment)}${MASK}`, options.maxBytes);
};

/**
 * Header values with every secret redacted, for logs and CLI output. Names are kept.
 *
 * @example
 * maskHeaders({ Authorization: 'Token token=abc' }, ['abc']); // { Authorization: 'Token token=***' }
 */
const maskHeaders = (
  headers: Readonly<Record<string, string>>,
  secretValues: Iterable<string>,
): Record<string, string> => {
  const forms = secretForms(secretValues);
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, maskForms(value, forms)]),
  );
};

/** A text in which masking could find something: a form, or `%XX` runs that may decode to one. */
const mayHoldForm = (text: string, forms: readonly string[]): boolean =>
  text.includes('%') || forms.some((form) => text.includes(form));

/**
 * Whether any text of a result may hold a secret. Most answers hold none: they are returned as
 * they are, without a copy of their headers (a visible share of a delivery's time, figure 1).
 */
const anyFormIn = (result: SendResult, forms: readonly string[]): boolean =>
  mayHoldForm(result.bodySnippet, forms) ||
  (result.errorMessage !== undefined && mayHoldForm(result.errorMessage, forms)) ||
  (result.headers !== undefined &&
    Object.values(result.headers).some((value) => mayHoldForm(value, forms)));

/**
 * A send result with every secret masked from what the receiver wrote: the body (whose end a
 * cap may have cut inside a secret), the error message and the response headers. Called on
 * every result as it arrives, before it is classified, so the presets' quotes, dead letters,
 * `webhook.dlq` events, notices and CLI output only ever see masked text.
 *
 * @example
 * const result = maskSendResult(await client.send(request), Object.values(variables));
 */
const maskSendResult = (result: SendResult, secretValues: readonly string[]): SendResult => {
  if (secretValues.every((value) => value === '')) return result;
  if (!result.bodyTruncated && !anyFormIn(result, secretForms(secretValues))) return result;
  return {
    ...result,
    bodySnippet: maskThenCut(result.bodySnippet, secretValues, {
      alreadyCut: result.bodyTruncated,
    }),
    ...(result.errorMessage === undefined
      ? {}
      : { errorMessage: redactSecrets(result.errorMessage, secretValues) }),
    ...(result.headers === undefined ? {} : { headers: maskHeaders(result.headers, secretValues) }),
  };
};

export type { CutOptions };
export {
  jsonStringContent,
  MASK,
  MIN_CUT_FRAGMENT_CHARS,
  MIN_URL_PART_CHARS,
  maskHeaders,
  maskSendResult,
  maskThenCut,
  redactSecrets,
  secretForms,
  truncateUtf8,
  urlCredentialParts,
};
