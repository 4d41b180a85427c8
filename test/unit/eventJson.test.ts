/**
 * Producer JSON as the ingest and the CLI read it: a leading byte order mark is dropped, and a
 * number a 64-bit float cannot hold exactly is refused by validation, naming its field, never
 * rounded.
 */
import fc from 'fast-check';
import { validateEvent } from '../../shared/events/auditEvent.js';
import { parseEventJson } from '../../shared/events/eventJson.js';

const EVENT_HEAD =
  '"audit_id":"ae_num","timestamp":"2026-04-17T10:15:03Z","event_kind":"k","severity":"info"';

/** An event holding `json` (raw JSON text) as the value of field `n`. */
const eventWith = (json: string): string => `{${EVENT_HEAD},"n":${json}}`;

/** What validation says about the event text: `ok` or its problems joined. */
const verdict = (text: string): string => {
  const parsed = parseEventJson(text);
  if (!parsed.ok) return `not JSON: ${parsed.message}`;
  const validation = validateEvent(parsed.value);
  return validation.ok
    ? 'ok'
    : validation.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
};

const refusal = (path: string, source: string, rounded: string): string =>
  `${path}: the event holds the number ${source}, which cannot be kept exactly (it would arrive as ${rounded}); send it as a string`;

describe('Function: parseEventJson()', () => {
  it('drops one leading byte order mark, in front of an event or an array', () => {
    // Act
    const single = parseEventJson(`\uFEFF${eventWith('1')}`);
    const array = parseEventJson(`\uFEFF[${eventWith('1')}]`);
    const twice = parseEventJson(`\uFEFF\uFEFF${eventWith('1')}`);

    // Assess
    expect(single.ok && validateEvent(single.value).ok).toBe(true);
    expect(array.ok && Array.isArray(array.value)).toBe(true);
    // Only the leading one: a second BOM is content, and not JSON.
    expect(twice.ok).toBe(false);
  });

  it.each([
    ['2^53 + 1', '9007199254740993', 'n', '9007199254740993', '9007199254740992'],
    ['the issue example', '1234567890123456789', 'n', '1234567890123456789', '1234567890123456800'],
    ['a negative integer', '-9007199254740995', 'n', '-9007199254740995', '-9007199254740996'],
    [
      'in a nested object',
      '{"a":{"b":12345678901234567891}}',
      'n.a.b',
      '12345678901234567891',
      '12345678901234567000',
    ],
    [
      'in an array',
      '[1,2,18446744073709551615]',
      'n[2]',
      '18446744073709551615',
      '18446744073709552000',
    ],
    ['an exponent that overflows', '1e400', 'n', '1e400', 'null'],
    ['a negative exponent form that overflows', '-1E+400', 'n', '-1E+400', 'null'],
    ['an exponent that underflows', '1e-400', 'n', '1e-400', '0'],
    [
      'more digits than a double holds',
      '3.14159265358979323846',
      'n',
      '3.14159265358979323846',
      '3.141592653589793',
    ],
  ])('refuses %s, naming the field', (_name, json, path, source, rounded) => {
    // Act
    const result = verdict(eventWith(json));

    // Assess
    expect(result).toBe(refusal(path, source, rounded));
  });

  it.each([
    ['2^53', '9007199254740992'],
    ['-(2^53)', '-9007199254740992'],
    ['a big power of two', '18014398509481984'],
    ['a decimal', '0.1'],
    ['trailing zeros', '123.4500'],
    ['an exponent', '1e2'],
    ['a tiny exact value', '5e-324'],
    ['the largest double', '1.7976931348623157e308'],
    ['negative zero', '-0'],
    ['zero with an exponent', '0e400'],
    ['16 digits that round-trip', '1234567890123456'],
  ])('keeps %s, which a double holds exactly', (_name, json) => {
    // Act
    const result = verdict(eventWith(json));

    // Assess
    expect(result).toBe('ok');
  });

  it('refuses a root value that is a lossy number as a number, not as an object', () => {
    // Act
    const result = verdict('1e400');

    // Assess
    expect(result).toBe('(root): an audit event must be a JSON object, got number 1e400');
  });

  it('gives back the exact text when a refused event is serialised again (the parked body)', () => {
    // Prepare
    const text = `[${eventWith('[1234567890123456789,1e-400]')}]`;

    // Act
    const parsed = parseEventJson(text);

    // Assess
    expect(parsed.ok && JSON.stringify(parsed.value)).toBe(text);
  });

  it('refuses an integer exactly when writing it back would give another integer (property)', () => {
    fc.assert(
      // Below 10^21, where JavaScript still writes integers without an exponent.
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (integer) => {
        // Act
        const result = verdict(eventWith(integer.toString()));

        // Assess: the oracle is BigInt arithmetic on what a body would carry. A 17-digit
        // integer such as 30023997515803310 is kept: its double is written back as the same
        // digits, so every receiver reads the number the producer sent.
        const kept = BigInt(String(Number(integer))) === integer;
        expect(result === 'ok').toBe(kept);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps every double written the way JavaScript writes it (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        // Act
        const result = verdict(eventWith(JSON.stringify(value)));

        // Assess
        expect(result).toBe('ok');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a decimal with more digits than its double, wherever it sits (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true, min: 1e-300, max: 1e300 }),
        fc.constantFrom('n', 'n.deep', 'n[0]'),
        (value, path) => {
          // Prepare: one more significant digit than the shortest form: another value.
          const shortest = JSON.stringify(value);
          const [mantissa = '', exponent] = shortest.split('e');
          const longer = `${mantissa.includes('.') ? mantissa : `${mantissa}.`}0000000000000000001${exponent === undefined ? '' : `e${exponent}`}`;
          const json =
            path === 'n' ? longer : path === 'n.deep' ? `{"deep":${longer}}` : `[${longer}]`;

          // Act
          const result = verdict(eventWith(json));

          // Assess: it arrives as the double the longer text parses to, written back. Mostly the
          // value's own, but not always: 35381181318944210 lies halfway between two doubles, and
          // the extra digit tips it to the upper one, 35381181318944212.
          expect(result).toBe(refusal(path, longer, JSON.stringify(Number(longer))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
