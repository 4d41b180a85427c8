/**
 * How config messages show values: short, quoted, never a wall of text. Config values are
 * literals from the file (never resolved `${VAR}` values), but a long value is still cut.
 */

const MAX_SHOWN = 40;

/** A value as a message shows it: `"GET"`, `42`, `a list`, `a map`, `nothing (null)`. */
const describeValue = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
};

/** `POST, PUT or PATCH`; with `quote`, `"json" or "text"`. */
const orList = (values: readonly unknown[], quote = false): string => {
  const shown = values.map((value) => (quote ? JSON.stringify(value) : String(value)));
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
};

/** `an integer`, `a map`: the words for zod's expected types, as YAML users know them. */
const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  record: 'a map',
};

const expectedWords = (expected: string): string => EXPECTED_WORDS[expected] ?? expected;

export { describeValue, expectedWords, orList };
