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

  it('escapes once, by where the value lands, through filters, capture, assign and loops', async () => {
    // Prepare
    const template = `{% assign a = value %}{% capture c %}pre {{ value }} "post"{% endcapture %}{% capture k %}\${KEY}{% endcapture %}
{
  "raw": {{ value }}, "str": "{{ value }}",
  "json_out": {{ value | json }}, "json_in": "{{ value | json }}",
  "list_json_out": {{ list | json }}, "list_json_in": "{{ list | json }}",
  "def_in": "{{ missing | default: value }}", "def_out": {{ missing | default: value }},
  "join_in": "{{ list | join: value }}", "join_out": {{ list | join: value }},
  "trunc_in": "{{ value | truncate_chars: 5 }}", "trunc_out": {{ value | truncate_chars: 5 }},
  "date_in": "{{ value | date: '%Y-%m-%d' }}", "date_fmt": {{ timestamp | date: value }},
  "cap_in": "{{ c }}", "cap_out": {{ c }}, "key": "{{ k }}",
  "asg_in": "{{ a }}", "asg_out": {{ a }},
  "loop_in": [{% for t in list %}"{{ t }}"{% unless forloop.last %},{% endunless %}{% endfor %}],
  "loop_out": [{% for t in list %}{{ t }}{% unless forloop.last %},{% endunless %}{% endfor %}]
}`;
    const body = compileBody({ exportName: 'filters', template, format: 'json' });
    // The oracle for filters whose result is not the value itself: the same filter, unescaped.
    const oracle = compileBody({
      exportName: 'oracle',
      template:
        "{{ value | truncate_chars: 5 }}|{{ value | date: '%Y-%m-%d' }}|{{ timestamp | date: value }}",
      format: 'text',
    });

    // Act
    await fc.assert(
      fc.asyncProperty(anyString, anyString, anyString, async (value, other, key) => {
        const event = templateEvent({ value, list: [value, other] });
        const rendered = await body.render(event, { KEY: key });
        const expected = await oracle.render(event, {});

        // Assess
        const decoded = JSON.parse(rendered);
        const [trunc, date, dateFormat] =
          expected.split('|').length === 3 ? expected.split('|') : [];
        const joined = `${value}${value}${other}`;
        expect(decoded).toMatchObject({
          raw: value,
          str: value,
          json_out: value,
          json_in: JSON.stringify(value),
          list_json_out: [value, other],
          list_json_in: JSON.stringify([value, other]),
          join_in: joined,
          join_out: joined,
          cap_in: `pre ${value} "post"`,
          cap_out: `pre ${value} "post"`,
          key,
          asg_in: value,
          asg_out: value,
          loop_in: [value, other],
          loop_out: [value, other],
        });
        expect(decoded.def_in).toBe(value);
        expect(decoded.def_out).toBe(value);
        expect(decoded.trunc_in).toBe(decoded.trunc_out);
        expect(decoded.trunc_in.length).toBeLessThanOrEqual(5);
        if (trunc !== undefined) {
          expect([decoded.trunc_in, decoded.date_in, decoded.date_fmt]).toEqual([
            trunc,
            date,
            dateFormat,
          ]);
        }
        expect(rendered).not.toMatch(/[\u2028\u2029]/);
      }),
      { numRuns: NUM_RUNS / 5 },
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
