import {
  bodyForExport,
  compileBody,
  TemplateError,
  templateParseCount,
} from '../../shared/request/template.js';
import { MissingVariableError } from '../../shared/secrets/errors.js';
import {
  exportWithTemplate,
  SEED_PAGERDUTY_TEMPLATE,
  templateEvent,
} from '../helpers/templateFixtures.js';

const SECRET = 'pd-routing-key-s3cr3t';

/** Compiles a one-off template (json unless told) and renders it for the default event. */
const renderOnce = async (
  template: string,
  options: {
    format?: 'json' | 'text';
    event?: Record<string, unknown>;
    variables?: Record<string, string>;
  } = {},
): Promise<string> =>
  compileBody({ exportName: 'test-export', template, format: options.format ?? 'json' }).render(
    templateEvent(options.event),
    options.variables ?? {},
  );

/** The error a promise rejects with, failing the test if it resolves. */
const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
};

/** The error a function throws, failing the test if it returns. */
const thrownBy = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the function to throw');
};

describe('Function: compileBody()', () => {
  describe('the seed PagerDuty template', () => {
    it('renders verbatim to JSON with the PagerDuty fields', async () => {
      // Prepare
      const body = compileBody({
        exportName: 'pagerduty-alerts',
        template: SEED_PAGERDUTY_TEMPLATE,
        format: 'json',
      });
      const event = templateEvent();

      // Act
      const rendered = await body.render(event, { PD_ROUTING_KEY: SECRET });

      // Assess
      expect(body.variableNames).toEqual(['PD_ROUTING_KEY']);
      expect(JSON.parse(rendered)).toEqual({
        routing_key: SECRET,
        event_action: 'trigger',
        payload: {
          summary: 'TapPass policy_block on support-bot',
          severity: 'error',
          source: 'tappass',
          custom_details: event,
        },
      });
    });

    it('renders {{event_json}} as raw JSON and keeps the template layout', async () => {
      // Prepare
      const event = templateEvent();

      // Act
      const rendered = await renderOnce(SEED_PAGERDUTY_TEMPLATE, {
        variables: { PD_ROUTING_KEY: 'k' },
      });

      // Assess
      expect(rendered).toContain(`"custom_details": ${JSON.stringify(event)}\n`);
      expect(rendered.startsWith('{\n  "routing_key": "k",\n')).toBe(true);
    });

    it('escapes quotes, backslashes, newlines, control characters and U+2028 inside strings', async () => {
      // Prepare
      const agentId = 'bot "quoted" \\ back\nnew\r\t\u0000\u001f \u2028\u2029 </script> {{x}}';
      const routingKey = 'key"with\\odd\nchars\u2028';

      // Act
      const rendered = await renderOnce(SEED_PAGERDUTY_TEMPLATE, {
        event: { agent_id: agentId },
        variables: { PD_ROUTING_KEY: routingKey },
      });

      // Assess
      const decoded = JSON.parse(rendered);
      expect(decoded.payload.summary).toBe(`TapPass policy_block on ${agentId}`);
      expect(decoded.routing_key).toBe(routingKey);
      expect(decoded.payload.custom_details.agent_id).toBe(agentId);
      expect(rendered).not.toMatch(/[\u2028\u2029]/);
    });
  });

  describe('format: json', () => {
    it('reads nested fields', async () => {
      // Prepare
      const template =
        '{"verdict": "{{policy_result.verdict}}", "first": {{policy_result.scores.first}}}';

      // Act
      const rendered = await renderOnce(template);

      // Assess
      expect(JSON.parse(rendered)).toEqual({ verdict: 'block', first: 0.9 });
    });

    it('renders values outside strings as raw JSON and undefined as null', async () => {
      // Prepare
      const template =
        '{"result": {{policy_result}}, "scores": {{policy_result.scores}}, "agent": {{agent_id}}, "missing": {{nope}}, "n": {{count}}, "flag": {{flag}}}';

      // Act
      const rendered = await renderOnce(template, { event: { count: 3, flag: true } });

      // Assess
      expect(JSON.parse(rendered)).toEqual({
        result: { verdict: 'block', rule: 'no-pii', scores: [0.9, 0.1] },
        scores: [0.9, 0.1],
        agent: 'support-bot',
        missing: null,
        n: 3,
        flag: true,
      });
    });

    it('renders objects inside strings as escaped JSON text and undefined as empty', async () => {
      // Prepare
      const template =
        '{"result": "{{policy_result}}", "all": "{{event_json}}", "missing": "{{nope}}"}';
      const event = templateEvent();

      // Act
      const decoded = JSON.parse(await renderOnce(template));

      // Assess
      expect(JSON.parse(decoded.result)).toEqual(event.policy_result);
      expect(JSON.parse(decoded.all)).toEqual(event);
      expect(decoded.missing).toBe('');
    });

    it('escapes the result of filters and loops by where they land', async () => {
      // Prepare
      const template = `{"upper": "{{ agent_id | upcase }}", "kinds": [{% for s in policy_result.scores %}{{ s | times: 10 }}{% unless forloop.last %},{% endunless %}{% endfor %}], "q": "{{ quote }}"}`;

      // Act
      const rendered = await renderOnce(template, { event: { quote: 'say "hi"' } });

      // Assess
      expect(JSON.parse(rendered)).toEqual({ upper: 'SUPPORT-BOT', kinds: [9, 1], q: 'say "hi"' });
    });

    it('tracks escaped quotes in the literal text', async () => {
      // Prepare
      const template = '{"a": "literal \\" quote {{agent_id}}", "b": {{agent_id}}}';

      // Act
      const rendered = await renderOnce(template, { event: { agent_id: 'x"y' } });

      // Assess
      expect(JSON.parse(rendered)).toEqual({ a: 'literal " quote x"y', b: 'x"y' });
    });

    it('quotes a ${VAR} that lands outside a string', async () => {
      // Prepare
      const template = '{"key": ${KEY}}';

      // Act
      const rendered = await renderOnce(template, { variables: { KEY: 'a"b' } });

      // Assess
      expect(JSON.parse(rendered)).toEqual({ key: 'a"b' });
    });

    it('substitutes ${VAR} inside {% raw %} and keeps the rest raw', async () => {
      // Prepare
      const template = '{"a": "{% raw %}{{not_liquid}} ${KEY}{% endraw %}"}';

      // Act
      const rendered = await renderOnce(template, { variables: { KEY: 'v"1' } });

      // Assess
      expect(JSON.parse(rendered)).toEqual({ a: '{{not_liquid}} v"1' });
    });

    it('does not let an event field replace the resolved variables', async () => {
      // Prepare
      const template = '{"key": "${KEY}"}';

      // Act
      const rendered = await renderOnce(template, {
        event: { __tappass_vars: { KEY: 'from-the-event' } },
        variables: { KEY: 'resolved' },
      });

      // Assess
      expect(JSON.parse(rendered)).toEqual({ key: 'resolved' });
    });

    it('reads the variables given to each render, not at compile time', async () => {
      // Prepare
      const body = compileBody({ exportName: 'x', template: '{"k": "${KEY}"}', format: 'json' });

      // Act
      const first = await body.render(templateEvent(), { KEY: 'one' });
      const second = await body.render(templateEvent(), { KEY: 'two' });

      // Assess
      expect([JSON.parse(first).k, JSON.parse(second).k]).toEqual(['one', 'two']);
    });

    it('fails with invalid_json naming the export, the position and a redacted excerpt', async () => {
      // Prepare
      const body = compileBody({
        exportName: 'broken-json',
        template: '{\n  "key": "${KEY}",\n  "agent": {{agent_id}} trailing\n}',
        format: 'json',
      });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), { KEY: SECRET }));

      // Assess
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ kind: 'invalid_json', exportName: 'broken-json' });
      expect(error.message).toContain('export "broken-json"');
      expect(error.message).toContain('line 3');
      expect(error.message).toContain('trailing');
      expect(error.message).toContain('***');
      expect(error.message).not.toContain(SECRET);
    });

    it('never puts a secret in an invalid_json message, even escaped or cut by the excerpt', async () => {
      // Prepare
      const secret = `${'s"e\\c'.repeat(30)}END`;
      const body = compileBody({
        exportName: 'x',
        template: '{"k": "${KEY}" oops}',
        format: 'json',
      });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), { KEY: secret }));

      // Assess
      expect(error).toMatchObject({ kind: 'invalid_json' });
      expect(error.message).not.toContain('s"e');
      expect(error.message).not.toContain('s\\"e');
      expect(error.message).not.toContain('END');
    });

    it.each([
      ['{"a": "{{ agent_id, }}"}', 8],
      ['{"a": {{ agent_id ) }}}', 7],
      ['{"a": "{{ agent_id | upcase, }}"}', 8],
      ['{% if agent_id %}\n{"a": "{{ agent_id ,}}"}{% endif %}', 8],
      ['{% capture s %}{{ agent_id, }}{% endcapture %}{"a": "{{ s }}"}', 16],
    ])(
      'refuses %s: Liquid would stop at the stray character and skip the escaping',
      (template, column) => {
        // Act
        const error = thrownBy(() => compileBody({ exportName: 'x', template, format: 'json' }));

        // Assess
        expect(error).toMatchObject({ name: 'TemplateError', kind: 'parse' });
        expect(error.message).toContain(`column ${column}: Liquid stops reading this output`);
      },
    );

    it('refuses {% echo %} and {% cycle %}, whose output cannot be escaped', () => {
      // Prepare
      const templates = [
        '{% echo agent_id %}',
        '{% liquid\nassign a = 1\necho a\n%}',
        '{% cycle a, b %}',
      ];

      // Act
      const errors = templates.map((template) =>
        thrownBy(() => compileBody({ exportName: 'x', template, format: 'json' })),
      );

      // Assess
      for (const error of errors) {
        expect(error).toMatchObject({ name: 'TemplateError', kind: 'parse' });
        expect(error.message).toContain('use {{ ... }} instead');
      }
    });
  });

  describe('format: text', () => {
    it('renders plain Liquid with ${VAR} as plain text, without escaping', async () => {
      // Prepare
      const template =
        'Alert "{{ event_kind }}" on {{agent_id}} ({{ policy_result.verdict }}) key=${KEY}';

      // Act
      const rendered = await renderOnce(template, {
        format: 'text',
        event: { agent_id: 'bot "1" \\ <x>' },
        variables: { KEY: 'a"b\\c' },
      });

      // Assess
      expect(rendered).toBe('Alert "policy_block" on bot "1" \\ <x> (block) key=a"b\\c');
    });

    it('renders {{event_json}} as the event JSON and allows {% echo %}', async () => {
      // Prepare
      const event = templateEvent();

      // Act
      const rendered = await renderOnce('{{ event_json }}|{% echo event_kind %}', {
        format: 'text',
      });

      // Assess
      expect(rendered).toBe(`${JSON.stringify(event)}|policy_block`);
    });
  });

  describe('without a template', () => {
    it.each(['json', 'text'] as const)('sends the event as JSON (format %s)', async (format) => {
      // Prepare
      const body = compileBody({ exportName: 'x', template: undefined, format });
      const event = templateEvent({ note: 'line\u2028sep' });

      // Act
      const rendered = await body.render(event, {});

      // Assess
      expect(body.variableNames).toEqual([]);
      expect(JSON.parse(rendered)).toEqual(event);
    });
  });

  describe('sandbox', () => {
    it.each([
      '{{ audit_id.constructor }}',
      '{{ policy_result.constructor }}',
      '{{ policy_result.constructor.name }}',
      '{{ policy_result.__proto__ }}',
      '{{ policy_result.hasOwnProperty }}',
      '{{ event_json.constructor }}',
      '{{ event_json.toString }}',
      '{{ policy_result.scores.constructor }}',
    ])('renders prototype access %s as empty', async (template) => {
      // Act
      const rendered = await renderOnce(template, { format: 'text' });

      // Assess
      expect(rendered).toBe('');
    });

    it.each([
      "{% include 'package.json' %}",
      "{% render 'package.json' %}",
      "{% layout 'package.json' %}",
      "{% include '/etc/passwd' %}",
      "{% liquid\ninclude 'package.json'\n%}",
    ])('refuses to read files: %s', (template) => {
      // Act
      const error = thrownBy(() => compileBody({ exportName: 'files', template, format: 'text' }));

      // Assess
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ kind: 'parse', exportName: 'files' });
      expect(error.message).toContain('cannot read other templates or files');
    });

    it('stops a runaway loop with a render error naming the export', async () => {
      // Prepare
      const body = compileBody({
        exportName: 'runaway',
        template: '{% for i in (1..100000000) %}x{% endfor %}',
        format: 'text',
      });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), {}));

      // Assess
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ kind: 'render', exportName: 'runaway' });
      expect(error.message).toContain('export "runaway"');
      expect(error.message).toContain('limit exceeded');
    });
  });

  describe('parse errors', () => {
    it.each([
      ['{{ agent_id | no_such_filter }}', 'undefined filter: no_such_filter'],
      ['{% if agent_id %}open', 'not closed'],
      ['{{ agent_id', 'not closed'],
      ['{% no_such_tag %}', 'tag "no_such_tag" not found'],
      ['{"k": "${A-B}"}', '"${A-B}" is not a valid reference'],
      ['{"k": "${KEY"\n}', 'is not closed'],
      ['{% if agent_id == "${KEY}" %}{% endif %}', 'only be used in the literal text'],
    ])('rejects %s', (template, expected) => {
      // Act
      const error = thrownBy(() => compileBody({ exportName: 'bad', template, format: 'json' }));

      // Assess
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ kind: 'parse', exportName: 'bad' });
      expect(error.message).toContain('export "bad"');
      expect(error.message).toContain(expected);
    });
  });

  describe('variables', () => {
    it('throws MissingVariableError naming every missing variable and the export', async () => {
      // Prepare
      const body = compileBody({
        exportName: 'pagerduty-alerts',
        template: '{"a": "${A}", "b": "${B}", "c": "${C}"}',
        format: 'json',
      });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), { B: 'value-of-b' }));

      // Assess
      expect(error).toBeInstanceOf(MissingVariableError);
      expect(error).toMatchObject({
        variable: 'A',
        variables: ['A', 'C'],
        exportName: 'pagerduty-alerts',
      });
      expect(error.message).toContain('export "pagerduty-alerts" needs ${A} and ${C}');
      expect(error.message).not.toContain('value-of-b');
    });

    it('does not resolve variables from the prototype of the values object', async () => {
      // Prepare
      const body = compileBody({ exportName: 'x', template: '"${constructor}"', format: 'json' });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), {}));

      // Assess
      expect(error).toBeInstanceOf(MissingVariableError);
    });

    it('keeps secret values out of render error messages', async () => {
      // Prepare
      const body = compileBody({
        exportName: 'x',
        template: '${KEY}{% assign big = (1..100000000) %}',
        format: 'text',
      });

      // Act
      const error = await rejectionOf(body.render(templateEvent(), { KEY: SECRET }));

      // Assess
      expect(error).toMatchObject({ name: 'TemplateError', kind: 'render' });
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect(error.cause).toBeUndefined();
    });
  });
});

describe('Function: bodyForExport()', () => {
  it('parses each export once: the parse count stays constant after warm-up', async () => {
    // Prepare
    const exports = [
      exportWithTemplate('pagerduty-alerts', SEED_PAGERDUTY_TEMPLATE),
      exportWithTemplate('slack', 'Alert {{ event_kind }}', 'text'),
      exportWithTemplate('plain', undefined),
    ];
    for (const exp of exports) bodyForExport(exp);
    const warm = templateParseCount();

    // Act
    for (let i = 0; i < 100; i++) {
      for (const exp of exports) {
        await bodyForExport(exp).render(templateEvent(), { PD_ROUTING_KEY: 'k' });
      }
    }

    // Assess
    expect(warm).toBeGreaterThan(0);
    expect(templateParseCount()).toBe(warm);
  });

  it('returns the same compiled body for the same export, and a new one when the template changes', () => {
    // Prepare
    const original = exportWithTemplate('cache-test', '{"a": 1}');
    const changed = exportWithTemplate('cache-test', '{"a": 2}');

    // Act
    const first = bodyForExport(original);
    const again = bodyForExport(original);
    const other = bodyForExport(changed);

    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(other.exportName).toBe('cache-test');
  });

  it('throws the parse error of a broken template every time it is asked', () => {
    // Prepare
    const broken = exportWithTemplate('broken', '{{ x | nope }}');

    // Act
    const errors = [thrownBy(() => bodyForExport(broken)), thrownBy(() => bodyForExport(broken))];

    // Assess
    expect(errors.map((error) => (error as TemplateError).kind)).toEqual(['parse', 'parse']);
  });
});
