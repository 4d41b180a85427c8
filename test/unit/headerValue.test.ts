/**
 * Header values: validate refuses exactly what HTTP cannot carry, and a resolved `${VAR}` that
 * cannot be carried is a clear `configuration` failure naming no value, never a crash.
 */
import fc from 'fast-check';
import { parseConfig } from '../../shared/config/index.js';
import type { ExportConfig } from '../../shared/config/types.js';
import { preparationFailureOf } from '../../shared/pipeline/delivery/failures.js';
import { HeaderValueError, headerValueProblem } from '../../shared/request/headerValue.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import { auditEvent } from '../helpers/pipeline.js';

/** Tab and printable ASCII: what every HTTP implementation carries unchanged. */
const SENDABLE = /^[\t\x20-\x7e]*$/;

/** Any string: any code point, control characters and lone surrogates included. */
const anyValue = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
  fc.string({
    unit: fc.constantFrom('a', ' ', '\t', 'é', '\u00ff', '日', '🚀', '\0', '\x7f', '\r'),
  }),
);

/** A config (JSON is YAML) with one header whose value is written literally. */
const configText = (value: string): string =>
  JSON.stringify({
    exports: [
      {
        name: 'alerts',
        destination: 'webhook',
        webhook: { url: 'https://example.com/hook', headers: { 'X-Note': value } },
      },
    ],
  });

const exportWithVariableHeader = async (): Promise<ExportConfig> => {
  const { config } = await parseConfig(configText('team ${TEAM}'), 'x.yaml');
  if (config?.exports[0] === undefined) throw new Error('the test config must be valid');
  return config.exports[0];
};

describe('Function: headerValueProblem()', () => {
  it.each([
    ['équipe', { kind: 'non_ascii', offset: 0, char: 'é' }],
    ['Team café', { kind: 'non_ascii', offset: 8, char: 'é' }],
    ['x\u00ff', { kind: 'non_ascii', offset: 1, char: '\u00ff' }],
    ['日本', { kind: 'non_ascii', offset: 0, char: '日' }],
    ['go 🚀', { kind: 'non_ascii', offset: 3, char: '🚀' }],
    ['a\u00a0b', { kind: 'non_ascii', offset: 1, char: '\u00a0' }],
    ['a\rb', { kind: 'line_break', offset: 1, char: '\r' }],
    ['a\nb', { kind: 'line_break', offset: 1, char: '\n' }],
    ['a\0b', { kind: 'control', offset: 1, char: '\0' }],
    ['a\x7fb', { kind: 'control', offset: 1, char: '\x7f' }],
    ['a\x1bb', { kind: 'control', offset: 1, char: '\x1b' }],
  ])('refuses %j', (value, expected) => {
    // Act & Assess
    expect(headerValueProblem(value)).toEqual(expected);
  });

  it.each(['', 'Bearer ${TOKEN}', 'a\tb', '~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./'])(
    'accepts %j',
    (value) => {
      // Act & Assess
      expect(headerValueProblem(value)).toBeUndefined();
    },
  );

  it('refuses exactly what is not tab or printable ASCII', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        expect(headerValueProblem(value) === undefined).toBe(SENDABLE.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Function: parseConfig() on header values', () => {
  it('accepts a literal header value exactly when it can be sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyValue.filter((value) => !value.includes('$')),
        async (value) => {
          // Act
          const { config, issues } = await parseConfig(configText(value), 'x.yaml');

          // Assess
          expect(config !== undefined).toBe(SENDABLE.test(value));
          if (config === undefined) {
            expect(issues).toHaveLength(1);
            expect(issues[0]?.path).toBe('exports[0].webhook.headers.X-Note');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Function: prepareRequest() with a resolved header value', () => {
  it('sends a value that can be carried, and refuses any other as a configuration failure naming no value', async () => {
    // Prepare
    const exportConfig = await exportWithVariableHeader();
    const event = auditEvent();

    await fc.assert(
      fc.asyncProperty(anyValue, async (team) => {
        // Act
        const outcome = await prepareRequest(exportConfig, event, { TEAM: team }).then(
          (request) => ({ request }),
          (error: unknown) => ({ error }),
        );

        // Assess
        if (SENDABLE.test(team)) {
          expect(outcome).toHaveProperty('request.headers.X-Note', `team ${team}`);
          return;
        }
        expect('error' in outcome && outcome.error).toBeInstanceOf(HeaderValueError);
        const failure = preparationFailureOf('error' in outcome ? outcome.error : undefined);
        expect(failure).toMatchObject({
          kind: 'invalid_header',
          retryable: false,
          reason: 'configuration',
        });
        expect(failure?.message).toMatch(
          /^export "alerts": header "X-Note" contains .* once \$\{TEAM\} is resolved, which HTTP cannot send; change the value of \$\{TEAM\}/,
        );
        // Never the value, nor the offending character.
        expect(failure?.message).toMatch(SENDABLE);
        expect(failure?.message).not.toContain(team);
      }),
      { numRuns: 500 },
    );
  });
});
