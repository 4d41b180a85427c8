import fc from 'fast-check';
import type { BodyFormat } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { compileBody } from '../../shared/request/template.js';
import { SEED_PAGERDUTY_TEMPLATE } from '../helpers/templateFixtures.js';

/**
 * Names events may hold, the awkward ones included: inherited from `Object.prototype`, read
 * specially by Liquid (`size`, `first`, `last`), or looking like hooks (`toLiquid`).
 */
const KEYS = [
  'a',
  'b',
  'agent_id',
  'event_kind',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'length',
  'size',
  'first',
  'last',
  'toLiquid',
  'event_json',
  '__tappass_vars',
] as const;

const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: fc.constantFrom('a', '"', '\\', '\n', '\u2028', '😀', '\ud800', '<') }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 3 }),
    // Object.fromEntries makes `__proto__` an own key, as JSON.parse of an event does.
    fc
      .array(fc.tuple(fc.constantFrom(...KEYS), tie('json')), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries)),
  ),
}));

const event = fc.array(fc.tuple(fc.constantFrom(...KEYS), json), { maxLength: 6 }).map(
  (entries): AuditEvent =>
    ({
      audit_id: 'ae_1',
      timestamp: '2026-04-17T10:15:03Z',
      event_kind: 'policy_block',
      severity: 'error',
      ...Object.fromEntries(entries),
    }) as AuditEvent,
);

/** `{{ a.b }}`, with or without spaces and whitespace control, or a `${VAR}`. */
const output = fc.oneof(
  fc
    .tuple(
      fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }),
      fc.constantFrom('{{', '{{ ', '{{- '),
      fc.constantFrom('}}', ' }}', ' -}}'),
    )
    .map(([path, open, close]) => `${open}${path.join('.')}${close}`),
  fc.constantFrom('{{ event_json }}', '${PD_KEY}', '${OTHER}'),
);

/** Literal text: JSON structure, quotes, escapes, white space. */
const literal = fc.string({
  unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', ' ', '\n', '\\', 'x', '1'),
  maxLength: 6,
});

/** Any mix of literal text and outputs: mostly not JSON, so the error paths are compared. */
const freeform = fc
  .array(fc.oneof(literal, output), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** JSON objects whose values are outputs, strings holding outputs, or literal JSON. */
const jsonShaped = fc
  .array(
    fc.tuple(
      fc.constantFrom('k', 'summary', 'n'),
      fc.oneof(
        output,
        fc
          .tuple(literal, output)
          .map(([text, out]) => JSON.stringify(text).replace(/"$/, `${out}"`)),
        fc.constantFrom('1', 'null', '[1, 2]', '{"x": true}'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((fields) => `{${fields.map(([key, value]) => `"${key}": ${value}`).join(', ')}}`);

type Outcome = { ok: true; body: string } | { ok: false; name: string; message: string };

const outcome = async (promise: Promise<string>): Promise<Outcome> => {
  try {
    return { ok: true, body: await promise };
  } catch (error) {
    const { name, message } = error as Error;
    return { ok: false, name, message };
  }
};

const VARIABLES = { PD_KEY: 'R0123456789abcdef', OTHER: 'x"y\\z' };

describe('Module: templateSubstitution (the plan against Liquid)', () => {
  it.each(['json', 'text'] as const)(
    'writes the same body, or fails the same way, as Liquid for random %s templates and events',
    async (format: BodyFormat) => {
      // Prepare
      let planned = 0;
      let runs = 0;

      // Act
      await fc.assert(
        fc.asyncProperty(fc.oneof(freeform, jsonShaped), event, async (template, input) => {
          const options = { exportName: 'diff', template, format };
          let fast: ReturnType<typeof compileBody>;
          let liquid: ReturnType<typeof compileBody>;
          try {
            fast = compileBody(options);
            liquid = compileBody({ ...options, substitution: false });
          } catch {
            return; // Not Liquid at all: compiled the same either way, nothing to render.
          }
          runs += 1;
          if (fast.substitutes) planned += 1;

          // Assess
          expect(liquid.substitutes).toBe(false);
          expect(await outcome(fast.render(input, VARIABLES))).toEqual(
            await outcome(liquid.render(input, VARIABLES)),
          );
        }),
        { numRuns: 3000 },
      );
      // Most templates of these shapes only substitute: the comparison is not vacuous.
      expect(planned).toBeGreaterThan(runs / 2);
    },
  );

  it('plans the seed PagerDuty template and writes it without Liquid', () => {
    // Act
    const body = compileBody({
      exportName: 'pagerduty-alerts',
      template: SEED_PAGERDUTY_TEMPLATE,
      format: 'json',
    });

    // Assess
    expect(body.substitutes).toBe(true);
  });

  it.each([
    ['a tag', '{% if a %}x{% endif %}'],
    ['a filter of the user', '{"a": "{{ a | upcase }}"}'],
    ['an index', '{"a": {{ a[0] }}}'],
    ['a special name', '{"a": {{ a.size }}}'],
    ['a literal', '{"a": {{ "x" }}}'],
  ])('leaves a template with %s to Liquid', (_what, template) => {
    // Act
    const body = compileBody({ exportName: 'x', template, format: 'json' });

    // Assess
    expect(body.substitutes).toBe(false);
  });
});
