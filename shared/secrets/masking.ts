/**
 * Masking resolved `${VAR}` values out of text that leaves the process: logs, dead letters,
 * `webhook.dlq` events, error messages and CLI output. A module of its own, with no other
 * import, so that every function (the ingest and dead-letter ones too) can mask without
 * bundling templates or presets.
 */

/**
 * A string as JSON string content: `JSON.stringify` without the quotes, with U+2028 and U+2029
 * escaped too, since some JSON consumers (and every JavaScript eval) treat them as line breaks.
 */
const jsonStringContent = (value: string): string =>
  JSON.stringify(value)
    .slice(1, -1)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * The forms a secret takes in our output: as is, escaped inside a JSON string (logs and DLQ
 * payloads are JSON), and percent-encoded (undici and URL objects normalise urls). Empty
 * values are skipped: there is nothing to hide in them.
 *
 * @example
 * secretForms(['a"b']); // ['a"b', 'a\\"b', 'a%22b']
 */
const secretForms = (values: Iterable<string>): string[] => {
  const forms = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value === '') continue;
    forms.add(value);
    forms.add(jsonStringContent(value));
    forms.add(encodeURIComponent(value));
  }
  return [...forms];
};

/**
 * Replaces every occurrence of each non-empty secret value with `***`. Overlapping occurrences
 * are merged into one `***`, so no fragment of a secret survives next to a redacted one.
 * Use it on everything that leaves the process: logs, DLQ payloads, error messages, CLI output.
 *
 * @example
 * redactSecrets('Token token=abc123', ['abc123']); // 'Token token=***'
 */
const redactSecrets = (text: string, secretValues: Iterable<string>): string => {
  const forms = secretForms(secretValues);
  if (forms.length === 0 || text === '') return text;
  const intervals: [number, number][] = [];
  for (const form of forms) {
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
      intervals.push([at, at + form.length]);
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
      out += `${text.slice(copiedTo, current[0])}***`;
      copiedTo = current[1];
    }
    current = [interval[0], interval[1]];
  }
  if (current) {
    out += `${text.slice(copiedTo, current[0])}***`;
    copiedTo = current[1];
  }
  return out + text.slice(copiedTo);
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
  const values = [...secretValues];
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, redactSecrets(value, values)]),
  );
};

export { jsonStringContent, maskHeaders, redactSecrets, secretForms };
