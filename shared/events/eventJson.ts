/**
 * The one way producer JSON (an ingest message, a `push` input, an `--event` file) becomes a
 * value: a leading UTF-8 byte order mark is dropped, and a number that a 64-bit float cannot
 * hold exactly is never rounded silently.
 *
 * JSON.parse turns `1234567890123456789` into `1234567890123456800`, `1e400` into Infinity
 * (written back as `null`) and `1e-400` into 0, and every body built from the event would
 * carry the changed value. Such a number is kept as a raw JSON value (`JSON.rawJSON` of its
 * source text): re-serialising gives back the exact text, and validation
 * (`validateEvent`) refuses the event naming the field, so it is parked (ingest) or
 * reported (CLI), never sent changed.
 */

/** Node 22's JSON: `JSON.parse` reviver source text and raw JSON values (not in lib ES2023). */
interface JsonWithSource {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): object;
  isRawJSON(value: unknown): boolean;
}
const sourceJson = JSON as unknown as JsonWithSource;

type EventJson = { ok: true; value: unknown } | { ok: false; message: string };

/** U+FEFF, which some editors and Windows tools write at the start of a UTF-8 file. */
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Could the text hold a number that is not exact? A JSON number without an exponent and with
 * at most 15 digits is always exact (any decimal of 15 significant digits in the normal range
 * survives a round trip through a double); every other number follows `:`, `,`, `[` or the
 * start, then has 16 digits-or-dots in a row or an exponent. False positives only cost the
 * slower parse.
 */
const MAYBE_INEXACT = /(?:^|[:,[])\s*-?(?:\d[\d.]{15}|\d+(?:\.\d+)?[eE])/;

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A number's text reduced to its value: sign, significant digits, exponent (`-12e3` for
 * `-12000`, `0` for every zero). Undefined for text that is not a finite number.
 */
const decimalValue = (text: string): string | undefined => {
  const match = NUMBER_TEXT.exec(text);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  const shift =
    BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${sign}${significant}e${shift}`;
};

/**
 * Whether the double parsed from `source`, written back the way every body writes a number
 * (shortest round-trip form), has the value `source` spells. `30023997515803310` passes (its
 * double is written back as those digits); `9007199254740993` does not (it comes back as
 * `9007199254740992`).
 */
const isExact = (source: string, value: number): boolean =>
  Number.isFinite(value) && decimalValue(source) === decimalValue(String(value));

/** What the event would carry instead of `source`: the double written back as JSON. */
const roundedText = (value: number): string => JSON.stringify(value);

/**
 * The text as a JSON value: one leading byte order mark dropped, numbers that cannot be kept
 * exactly left as raw JSON values. Not JSON: the parser's message.
 *
 * @example
 * const parsed = parseEventJson('\uFEFF{"n": 1234567890123456789}');
 * // { ok: true, value: { n: <raw JSON 1234567890123456789> } }: validateEvent refuses it
 */
const parseEventJson = (text: string): EventJson => {
  const json = text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (!MAYBE_INEXACT.test(json)) return { ok: true, value };
  try {
    return {
      ok: true,
      value: sourceJson.parse(json, (_key, parsed, context) =>
        typeof parsed === 'number' &&
        context.source !== undefined &&
        !isExact(context.source, parsed)
          ? sourceJson.rawJSON(context.source)
          : parsed,
      ),
    };
  } catch {
    // The reviver recurses and overflows on thousands of levels; the plain value is kept,
    // and validation refuses it for its depth long before any number matters.
    return { ok: true, value };
  }
};

/**
 * The number text a value stands for when it is one {@link parseEventJson} could not keep
 * exactly, with what it would have become; undefined for any other value.
 */
const inexactNumber = (value: unknown): { source: string; rounded: string } | undefined => {
  if (!sourceJson.isRawJSON(value)) return undefined;
  const source = (value as { rawJSON: string }).rawJSON;
  return { source, rounded: roundedText(Number(source)) };
};

export type { EventJson };
export { BYTE_ORDER_MARK, inexactNumber, parseEventJson };
