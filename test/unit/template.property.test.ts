import fc from 'fast-check';
import { compileBody } from '../../shared/request/template.js';
import { SEED_PAGERDUTY_TEMPLATE, templateEvent } from '../helpers/templateFixtures.js';

/** Pieces that break naive JSON templating, mixed into otherwise random strings. */
const TRICKY = [
  '"',
  '\\',
  '\\"',
  '\\u0022',
  '\n',
  '\r',
  '\t',
  '\b',
  '\f',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udfff',
  '\ufeff',
  '😀',
  '{{',
  '}}',
  '{%',
  '%}',
  '${',
  '${PD_ROUTING_KEY}',
  '}',
  '</script>',
  '",\n"injected": true, "x": "',
] as const;

/** Any string: any code point (control characters included), lone surrogates and tricky pieces. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
  fc.string({
    unit: fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 1 })),
  }),
);

const NUM_RUNS = 2500;

describe('Function: compileBody() (property-based)', () => {
  const body = compileBody({
    exportName: 'pagerduty-alerts',
    template: SEED_PAGERDUTY_TEMPLATE,
    format: 'json',
  });

  it('renders the seed PagerDuty template to valid JSON that decodes to the inputs', async () => {
    // Prepare
    const inputs = fc.record({
      eventKind: anyString,
      agentId: anyString,
      nested: anyString,
      routingKey: anyString,
    });

    // Act
    await fc.assert(
      fc.asyncProperty(inputs, async ({ eventKind, agentId, nested, routingKey }) => {
        const event = templateEvent({
          event_kind: eventKind,
          agent_id: agentId,
          policy_result: { verdict: nested, reasons: [nested, { why: nested }] },
        });
        const rendered = await body.render(event, { PD_ROUTING_KEY: routingKey });

        // Assess
        const decoded = JSON.parse(rendered);
        expect(decoded.payload.summary).toBe(`TapPass ${eventKind} on ${agentId}`);
        expect(decoded.routing_key).toBe(routingKey);
        expect(decoded.payload.custom_details).toEqual(event);
        expect(Object.keys(decoded)).toEqual(['routing_key', 'event_action', 'payload']);
        expect(rendered).not.toMatch(/[\u2028\u2029]/);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('renders any JSON value in any field as raw JSON outside strings and as its JSON text inside', async () => {
    // Prepare
    const fieldBody = compileBody({
      exportName: 'any-json',
      template: '{"raw": {{ details }}, "text": "{{ details }}", "all": {{ event_json }}}',
      format: 'json',
    });

    // Act
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (details) => {
        const event = templateEvent({ details });
        const rendered = await fieldBody.render(event, {});

        // Assess
        const decoded = JSON.parse(rendered);
        const expected = JSON.parse(JSON.stringify(details));
        expect(decoded.raw).toEqual(expected ?? null);
        if (typeof details === 'string') expect(decoded.text).toBe(details);
        else if (details !== null) expect(JSON.parse(decoded.text)).toEqual(expected);
        expect(decoded.all).toEqual(JSON.parse(JSON.stringify(event)));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
