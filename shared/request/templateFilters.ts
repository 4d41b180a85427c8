/**
 * Liquid filters of our own, registered on the template engine (`./template.ts`) for every
 * body template, the presets' included:
 * - `truncate_chars: n[, omission]`: at most `n` characters, the omission (default `…`)
 *   included. Characters are UTF-16 code units, what `JSON.parse(body).field.length` counts,
 *   so the cap holds after the JSON string is decoded (the JSON escaping runs after this
 *   filter). Never splits a surrogate pair, so emoji stay whole; counting code units is never
 *   more than counting code points, so destinations that count either way accept the result.
 *   Liquid's `truncate` also counts code units but may split a pair.
 * - `slack_escape`: `&`, `<` and `>` as Slack mrkdwn entities, so event data cannot mention
 *   `<!channel>` or write a link.
 */

/** Thrown for a filter used wrongly (a bad length); Liquid reports it as a render error. */
class TemplateFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateFilterError';
  }
}

/**
 * A value as text: strings as they are, nothing as empty, objects and arrays as JSON (or
 * their own `toString`: `event_json`, the `json` filter's result). What `format: text`,
 * captured text and these filters write for a value.
 */
const asText = (input: unknown): string => {
  if (input === undefined || input === null) return '';
  if (typeof input === 'string') return input;
  if (typeof input !== 'object') return String(input);
  // `event_json` renders its JSON through its own toString; plain objects and arrays as JSON.
  if (input.toString !== Object.prototype.toString && input.toString !== Array.prototype.toString)
    return String(input);
  return JSON.stringify(input) ?? '';
};

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * `{{ summary | truncate_chars: 1024 }}`: at most `length` UTF-16 code units, ending in
 * `omission` when cut.
 *
 * @example
 * truncateChars('abcdef', 4); // 'abc…'
 * truncateChars('abcdef', 4, ''); // 'abcd'
 */
const truncateChars = (input: unknown, length: unknown, omission: unknown = '…'): string => {
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) {
    throw new TemplateFilterError(
      `truncate_chars needs a whole number of characters of at least 1, got ${JSON.stringify(length) ?? String(length)}`,
    );
  }
  const text = asText(input);
  if (text.length <= length) return text;
  const tail = omission === undefined || omission === null ? '…' : String(omission);
  const room = tail.length < length ? length - tail.length : length;
  const ending = tail.length < length ? tail : '';
  const cut = isHighSurrogate(text.charCodeAt(room - 1)) ? room - 1 : room;
  return text.slice(0, cut) + ending;
};

/**
 * `{{ agent_id | slack_escape }}`: the three characters Slack's mrkdwn treats as markup.
 *
 * @example
 * slackEscape('<!channel> & co'); // '&lt;!channel&gt; &amp; co'
 */
const slackEscape = (input: unknown): string =>
  asText(input).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Every filter, by its name in templates. */
const TEMPLATE_FILTERS = {
  truncate_chars: truncateChars,
  slack_escape: slackEscape,
} as const;

export { asText, slackEscape, TEMPLATE_FILTERS, TemplateFilterError, truncateChars };
