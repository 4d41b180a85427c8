import fc from 'fast-check';
import { compileBody } from '../../shared/request/template.js';
import {
  slackEscape,
  TemplateFilterError,
  truncateChars,
} from '../../shared/request/templateFilters.js';
import { auditEvent } from '../helpers/pipeline.js';

const endsWithHighSurrogate = (text: string): boolean => {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
};

describe('Function: truncateChars()', () => {
  it.each([
    ['abcdef', 10, undefined, 'abcdef'],
    ['abcdef', 6, undefined, 'abcdef'],
    ['abcdef', 4, undefined, 'abc…'],
    ['abcdef', 4, '', 'abcd'],
    ['abcdef', 5, '...', 'ab...'],
    ['abcdef', 1, undefined, 'a'],
    ['abcdef', 2, '...', 'ab'],
    ['ab😀cd', 3, '', 'ab'],
    ['ab😀cd', 4, '', 'ab😀'],
    ['ab😀cd', 4, undefined, 'ab…'],
    [undefined, 3, undefined, ''],
    [12345678, 4, '', '1234'],
    [{ a: 1 }, 100, undefined, '{"a":1}'],
  ])('truncateChars(%j, %j, %j) → %j', (input, length, omission, expected) => {
    // Act
    const result = truncateChars(input, length, omission);

    // Assess
    expect(result).toBe(expected);
  });

  it.each([0, -1, 1.5, '10', undefined])('refuses the length %j', (length) => {
    // Act & Assess
    expect(() => truncateChars('abc', length)).toThrow(TemplateFilterError);
  });

  it('never exceeds the length, never splits a surrogate pair, and keeps a prefix', () => {
    // Prepare
    const inputs = fc.record({
      text: fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
      length: fc.integer({ min: 1, max: 50 }),
      omission: fc.constantFrom('…', '', '...'),
    });

    // Act & Assess
    fc.assert(
      fc.property(inputs, ({ text, length, omission }) => {
        const result = truncateChars(text, length, omission);
        expect(result.length).toBeLessThanOrEqual(length);
        if (text.length <= length) {
          expect(result).toBe(text);
          return;
        }
        const kept = result.endsWith(omission)
          ? result.slice(0, result.length - omission.length)
          : result;
        expect(text.startsWith(kept)).toBe(true);
        // A cut never separates a high surrogate from the low one that followed it.
        if (endsWithHighSurrogate(kept)) {
          const next = text.charCodeAt(kept.length);
          expect(next >= 0xdc00 && next <= 0xdfff).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Function: slackEscape()', () => {
  it('escapes the three characters of mrkdwn markup and nothing else', () => {
    // Act
    const escaped = slackEscape('<!channel> & <https://evil.example|click> "quoted" *bold*');

    // Assess
    expect(escaped).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; "quoted" *bold*',
    );
  });
});

describe('Function: compileBody() with truncate_chars', () => {
  it('caps a JSON string field in characters after JSON decoding, however much escaping it needs', async () => {
    // Prepare
    const body = compileBody({
      exportName: 'cap',
      template: '{"summary": "{{ agent_id | truncate_chars: 1024 }}"}',
      format: 'json',
    });
    const nasty = '"\\\n\u2028\u0000😀'.repeat(400);

    // Act
    const rendered = await body.render(auditEvent({ agent_id: nasty }), {});

    // Assess
    const summary = (JSON.parse(rendered) as { summary: string }).summary;
    expect(summary.length).toBeLessThanOrEqual(1024);
    expect(summary.endsWith('…')).toBe(true);
    expect(nasty.startsWith(summary.slice(0, -1))).toBe(true);
    expect(rendered.length).toBeGreaterThan(1024);
  });

  it('fails the render with a clear message for a bad length', async () => {
    // Prepare
    const body = compileBody({
      exportName: 'cap',
      template: '{"summary": "{{ agent_id | truncate_chars: 0 }}"}',
      format: 'json',
    });

    // Act & Assess
    await expect(body.render(auditEvent(), {})).rejects.toThrow(
      /truncate_chars needs a whole number of characters of at least 1/,
    );
  });
});
