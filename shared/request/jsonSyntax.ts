/**
 * Where a text stops being JSON, for error messages. V8's `JSON.parse` names a position for
 * some mistakes only (`Unexpected token ']', "[1,]" is not valid JSON` has none), and never
 * names the most useful one: for a trailing comma, the comma. Only called once `JSON.parse`
 * has failed, so it is written for clarity, not speed; iterative, so deep nesting cannot
 * overflow the stack.
 */

/** The first place a text is not JSON: a 0-based offset and what is wrong there. */
interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
}

type Expect = 'value' | 'first-value' | 'key' | 'first-key' | 'colon' | 'comma-or-close' | 'end';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

const isSpace = (char: string | undefined): boolean =>
  char === ' ' || char === '\t' || char === '\n' || char === '\r';

/** Scans a string starting at its opening quote; returns the offset after it, or the error. */
const scanString = (text: string, start: number): number | JsonSyntaxError => {
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '"') return i + 1;
    if (char === '\\') {
      const next = text[i + 1];
      if (next === 'u' && HEX4.test(text.slice(i + 2, i + 6))) i += 5;
      else if (next !== undefined && ESCAPES.has(next)) i += 1;
      else return { offset: i, message: 'a backslash that starts no JSON escape' };
    } else if (char.charCodeAt(0) < 0x20) {
      return { offset: i, message: 'a control character (a raw line break?) inside a string' };
    }
  }
  return { offset: start, message: 'a string that is never closed' };
};

/** Scans one number, `true`, `false` or `null`; returns the offset after it, or the error. */
const scanScalar = (text: string, start: number): number | JsonSyntaxError => {
  for (const word of ['true', 'false', 'null']) {
    if (text.startsWith(word, start)) return start + word.length;
  }
  NUMBER.lastIndex = start;
  const match = NUMBER.exec(text);
  if (match && match[0] !== '' && match[0] !== '-') return start + match[0].length;
  return { offset: start, message: `${describe(text, start)} where a value should be` };
};

const describe = (text: string, offset: number): string => {
  const char = text.codePointAt(offset);
  return char === undefined ? 'the end' : `${JSON.stringify(String.fromCodePoint(char))}`;
};

/**
 * The first offset at which `text` is not JSON, or `undefined` when it is.
 *
 * @example
 * jsonSyntaxError('[1,2,]'); // { offset: 4, message: 'a trailing comma before "]"' }
 */
const jsonSyntaxError = (text: string): JsonSyntaxError | undefined => {
  const open: string[] = [];
  let expect: Expect = 'value';
  let lastComma = -1;
  let i = 0;
  const afterValue = (): Expect => (open.length === 0 ? 'end' : 'comma-or-close');
  while (true) {
    while (isSpace(text[i])) i++;
    const char = text[i];
    if (char === undefined) {
      return expect === 'end' ? undefined : { offset: i, message: 'the body ends too early' };
    }
    const closing = open.at(-1) === '{' ? '}' : ']';
    if (expect === 'end') return { offset: i, message: 'more text after the JSON value' };
    if (expect === 'colon') {
      if (char !== ':') return { offset: i, message: `${describe(text, i)} where ":" should be` };
      expect = 'value';
      i++;
      continue;
    }
    if (expect === 'comma-or-close') {
      if (char === ',') {
        lastComma = i;
        expect = closing === '}' ? 'key' : 'value';
        i++;
      } else if (char === closing) {
        open.pop();
        expect = afterValue();
        i++;
      } else {
        return {
          offset: i,
          message: `${describe(text, i)} where "," or "${closing}" should be (a missing comma?)`,
        };
      }
      continue;
    }
    if ((expect === 'value' || expect === 'key') && (char === ']' || char === '}')) {
      if (lastComma !== -1 && text.slice(lastComma + 1, i).trim() === '') {
        return { offset: lastComma, message: `a trailing comma before "${char}"` };
      }
    }
    if (expect === 'first-value' && char === ']') {
      open.pop();
      expect = afterValue();
      i++;
      continue;
    }
    if (expect === 'first-key' && char === '}') {
      open.pop();
      expect = afterValue();
      i++;
      continue;
    }
    if (expect === 'key' || expect === 'first-key') {
      if (char !== '"') {
        return {
          offset: i,
          message: `${describe(text, i)} where a quoted property name should be`,
        };
      }
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      expect = 'colon';
      continue;
    }
    // A value.
    if (char === '{' || char === '[') {
      open.push(char);
      expect = char === '{' ? 'first-key' : 'first-value';
      i++;
      continue;
    }
    const end = char === '"' ? scanString(text, i) : scanScalar(text, i);
    if (typeof end !== 'number') return end;
    i = end;
    expect = afterValue();
  }
};

export type { JsonSyntaxError };
export { jsonSyntaxError };
