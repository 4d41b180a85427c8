import fc from 'fast-check';
import {
  exportVariableNames,
  findMalformedReferences,
  findVariableReferences,
  substituteVariables,
} from '../../shared/request/variables.js';
import { MissingVariableError } from '../../shared/secrets/errors.js';
import {
  jsonStringContent,
  maskHeaders,
  redactSecrets,
  secretForms,
} from '../../shared/secrets/masking.js';
import { exportWithTemplate, SEED_PAGERDUTY_TEMPLATE } from '../helpers/templateFixtures.js';

describe('Function: findVariableReferences()', () => {
  it('returns each name once, in first-seen order', () => {
    // Act
    const names = findVariableReferences('${B} ${A_1} ${B} ${_x} ${a9}');

    // Assess
    expect(names).toEqual(['B', 'A_1', '_x', 'a9']);
  });

  it('ignores malformed references, Liquid after a dollar sign and plain text', () => {
    // Act
    const names = findVariableReferences('$A ${1X} ${A-B} ${} ${{ amount }} {{ x }} ${OK');

    // Assess
    expect(names).toEqual([]);
  });
});

describe('Function: findMalformedReferences()', () => {
  it.each([
    ['x ${1X} y', 2, '${1X}', 'is not a valid reference'],
    ['${A-B}', 0, '${A-B}', 'is not a valid reference'],
    ['a${}', 1, '${}', 'is empty'],
    ['url=${KEY', 4, '${KEY', 'is not closed'],
    ['"${KEY"\n}', 1, '${KEY"', 'is not closed'],
    ['${ KEY }', 0, '${ KEY }', 'is not a valid reference'],
  ])('reports %j at offset %i', (text, offset, snippet, problem) => {
    // Act
    const problems = findMalformedReferences(text);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ offset, text: snippet });
    expect(problems[0]?.message).toContain(problem);
    expect(problems[0]?.message).toContain('use ${NAME} with letters, digits and _');
  });

  it('accepts valid references and a dollar sign in front of Liquid', () => {
    // Act
    const problems = findMalformedReferences('${A} $5 ${{ amount }} ${% if x %}{% endif %} ${_b9}');

    // Assess
    expect(problems).toEqual([]);
  });

  it('reports every problem of a text, and shortens long snippets', () => {
    // Prepare
    const long = `\${${'x-'.repeat(40)}}`;

    // Act
    const problems = findMalformedReferences(`\${1} \${} ${long}`);

    // Assess
    expect(problems.map((p) => p.offset)).toEqual([0, 5, 9]);
    expect(problems[2]?.text.length).toBe(40);
    expect(problems[2]?.text.endsWith('…')).toBe(true);
  });
});

describe('Function: exportVariableNames()', () => {
  it('collects url, header values and body template, each name once', () => {
    // Prepare
    const base = exportWithTemplate('pagerduty-alerts', SEED_PAGERDUTY_TEMPLATE);
    const exp = {
      ...base,
      webhook: {
        ...base.webhook,
        url: 'https://${HOST}/v2/enqueue',
        headers: { Authorization: 'Token token=${PD_ROUTING_KEY}', 'X-Team': '${TEAM}' },
      },
    };

    // Act
    const names = exportVariableNames(exp);

    // Assess
    expect(names).toEqual(['HOST', 'PD_ROUTING_KEY', 'TEAM']);
  });

  it('works without a body template', () => {
    // Prepare
    const base = exportWithTemplate('slack', undefined);
    const exp = { ...base, webhook: { ...base.webhook, url: '${SLACK_WEBHOOK_URL}' } };

    // Act
    const names = exportVariableNames(exp);

    // Assess
    expect(names).toEqual(['SLACK_WEBHOOK_URL']);
  });
});

describe('Function: substituteVariables()', () => {
  it('replaces every reference with its value, as plain text', () => {
    // Act
    const text = substituteVariables('${A}/${B}?again=${A}', { A: 'x$&y', B: '"b"' }, 'exp');

    // Assess
    expect(text).toBe('x$&y/"b"?again=x$&y');
  });

  it('throws MissingVariableError listing every missing name, without any value', () => {
    // Prepare
    let error: unknown;

    // Act
    try {
      substituteVariables('${A} ${B} ${C}', { B: 'value-of-b' }, 'pagerduty-alerts');
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(MissingVariableError);
    expect(error).toMatchObject({
      name: 'MissingVariableError',
      variable: 'A',
      variables: ['A', 'C'],
      exportName: 'pagerduty-alerts',
      retryable: false,
    });
    expect((error as Error).message).toMatch(
      /^export "pagerduty-alerts" needs \$\{A\} and \$\{C\}, which are not set: /,
    );
    expect((error as Error).message).not.toContain('value-of-b');
  });

  it('does not take values from the prototype of the values object', () => {
    // Act
    const act = () => substituteVariables('${constructor}', {}, 'exp');

    // Assess
    expect(act).toThrow(MissingVariableError);
  });
});

describe('Function: redactSecrets()', () => {
  it('replaces every occurrence of every secret', () => {
    // Act
    const text = redactSecrets('key=abc123 again abc123 and xyz', ['abc123', 'xyz']);

    // Assess
    expect(text).toBe('key=*** again *** and ***');
  });

  it('redacts the longest secret whole when one contains another', () => {
    // Act
    const text = redactSecrets('token abcdef', ['abc', 'abcdef']);

    // Assess
    expect(text).toBe('token ***');
  });

  it('merges overlapping occurrences so no fragment survives', () => {
    // Act
    const text = redactSecrets('xababax', ['aba']);

    // Assess
    expect(text).toBe('x***x');
  });

  it('redacts the JSON-escaped and percent-encoded forms of a secret', () => {
    // Prepare
    const secret = 'p"a\\s s';

    // Act
    const text = redactSecrets(
      `${JSON.stringify({ key: secret })} https://x/?k=${encodeURIComponent(secret)}`,
      [secret],
    );

    // Assess
    expect(text).toBe('{"key":"***"} https://x/?k=***');
  });

  it('ignores empty values and leaves text without secrets unchanged', () => {
    // Act
    const text = redactSecrets('nothing to hide', ['', 'absent']);

    // Assess
    expect(text).toBe('nothing to hide');
  });

  it('never leaves a secret in the output (property)', () => {
    // Prepare
    const inputs = fc.record({
      before: fc.string({ unit: 'binary' }),
      after: fc.string({ unit: 'binary' }),
      // Without '*': the marker itself must not spell the secret.
      secret: fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !s.includes('*')),
    });

    // Act & Assess
    fc.assert(
      fc.property(inputs, ({ before, after, secret }) => {
        const redacted = redactSecrets(`${before}${secret}${after}${secret}`, [secret]);
        expect(redacted).not.toContain(secret);
        expect(redacted).toContain('***');
      }),
      { numRuns: 500 },
    );
  });
});

describe('Function: secretForms()', () => {
  it('lists a secret as is, JSON-escaped (once, twice), percent-encoded and HTML-escaped, skipping empty values', () => {
    // Act
    const forms = secretForms(['a"b', '', 'plain']);

    // Assess
    expect(forms).toEqual(['a"b', 'a\\"b', 'a%22b', 'a\\\\\\"b', 'a&quot;b', 'plain']);
  });
});

describe('Function: maskHeaders()', () => {
  it('redacts secret values and keeps the header names', () => {
    // Act
    const masked = maskHeaders(
      { Authorization: 'Token token=abc', 'Content-Type': 'application/json' },
      new Set(['abc']),
    );

    // Assess
    expect(masked).toEqual({
      Authorization: 'Token token=***',
      'Content-Type': 'application/json',
    });
  });
});

describe('Function: jsonStringContent()', () => {
  it('escapes like JSON.stringify, plus U+2028 and U+2029', () => {
    // Act
    const content = jsonStringContent('a"b\\c\n\u2028\u2029\u0001');

    // Assess
    expect(content).toBe('a\\"b\\\\c\\n\\u2028\\u2029\\u0001');
    expect(JSON.parse(`"${content}"`)).toBe('a"b\\c\n\u2028\u2029\u0001');
  });

  it('is JSON.stringify without the quotes, line separators escaped, for any string', () => {
    // The fast path (nothing to escape) must agree with the full one on every input.
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (value) => {
        const expected = JSON.stringify(value)
          .slice(1, -1)
          .replace(/\u2028/g, '\\u2028')
          .replace(/\u2029/g, '\\u2029');
        expect(jsonStringContent(value)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });
});
