import { preparationFailureOf } from '../../shared/pipeline/delivery/failures.js';
import {
  BodyTooLargeError,
  bodyForExport,
  compileBody,
  eventJsonInsideLoops,
  TemplateError,
} from '../../shared/request/template.js';
import { exportWithTemplate, templateEvent } from '../helpers/templateFixtures.js';

/** Compiles a one-off template and renders it for the default event plus `event`. */
const render = async (
  template: string,
  event: Record<string, unknown> = {},
  format: 'json' | 'text' = 'json',
): Promise<string> =>
  compileBody({ exportName: 'semantics', template, format }).render(templateEvent(event), {});

/** The error a promise rejects with, failing the test if it resolves. */
const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
};

const TAGS = { tags: ['pii', 'prod'] };

describe('Templates that mean what they say', () => {
  describe('format: json, outside a JSON string', () => {
    it.each<[string, Record<string, unknown>, unknown]>([
      ['{"tags": {{ tags | json }}}', TAGS, { tags: ['pii', 'prod'] }],
      ['{"tags": {{ tags }}}', TAGS, { tags: ['pii', 'prod'] }],
      ['{"n": {{ count }}}', { count: 3 }, { n: 3 }],
      ['{"r": {{ policy_result | json }}}', {}, { r: templateEvent().policy_result }],
      ['{"e": {{ event_json | json }}}', {}, { e: templateEvent() }],
      ['{"e": {{ event_json }}}', {}, { e: templateEvent() }],
      ['{"m": {{ missing | json }}}', {}, { m: null }],
      ['{"p": {{ tags | json: 2 }}}', TAGS, { p: ['pii', 'prod'] }],
      ['{"s": {{ tags | json | upcase }}}', TAGS, { s: '["PII","PROD"]' }],
      ['{% assign t = tags | json %}{"t": {{ t }}}', TAGS, { t: ['pii', 'prod'] }],
      ['{"j": {{ tags | join: ", " }}}', TAGS, { j: 'pii, prod' }],
      ['{"d": {{ missing | default: "none" }}}', {}, { d: 'none' }],
    ])('%s writes the value as JSON', async (template, event, expected) => {
      // Act
      const rendered = await render(template, event);

      // Assess
      expect(JSON.parse(rendered)).toEqual(expected);
    });
  });

  describe('format: json, inside a JSON string', () => {
    it.each<[string, Record<string, unknown>, unknown]>([
      ['{"tags": "{{ tags | json }}"}', TAGS, { tags: '["pii","prod"]' }],
      ['{"e": "{{ event_json | json }}"}', {}, { e: JSON.stringify(templateEvent()) }],
      ['{"q": "{{ quote | json }}"}', { quote: 'say "hi"' }, { q: '"say \\"hi\\""' }],
      ['{"m": "{{ missing | json }}"}', {}, { m: '' }],
    ])('%s writes the JSON text escaped once', async (template, event, expected) => {
      // Act
      const rendered = await render(template, event);

      // Assess
      expect(JSON.parse(rendered)).toEqual(expected);
    });
  });

  describe('capture', () => {
    it('escapes captured text once, where it is used', async () => {
      // Prepare
      const template = '{% capture s %}TapPass {{event_kind}}{% endcapture %}{"summary": "{{s}}"}';

      // Act
      const rendered = await render(template);

      // Assess
      expect(JSON.parse(rendered)).toEqual({ summary: 'TapPass policy_block' });
    });

    it('keeps quotes and JSON-looking text in captures as text, escaped at use', async () => {
      // Prepare
      const template =
        '{% capture s %}"{{ agent_id }}" {"x": {{ policy_result }}}{% endcapture %}{"a": "{{ s }}", "b": {{ s }}}';
      const event = { agent_id: 'a"b\\c' };

      // Act
      const decoded = JSON.parse(await render(template, event));

      // Assess
      const expected = `"a"b\\c" {"x": ${JSON.stringify(templateEvent().policy_result)}}`;
      expect(decoded).toEqual({ a: expected, b: expected });
    });
  });

  describe('format: text', () => {
    it.each<[string, string]>([
      ['{{ policy_result }}', JSON.stringify(templateEvent().policy_result)],
      ['{{ policy_result.scores }}', '[0.9,0.1]'],
      ['{% echo policy_result.scores %}', '[0.9,0.1]'],
      ['{% echo policy_result %}', JSON.stringify(templateEvent().policy_result)],
      ['{% capture s %}{{ policy_result.scores }}{% endcapture %}{{ s }}', '[0.9,0.1]'],
      ['{{ agent_id }} {{ missing }}|', 'support-bot |'],
      ['{{ tags | json }}', '["pii","prod"]'],
      ['{{ tags | join: "," }}', 'pii,prod'],
    ])('%s writes %s', async (template, expected) => {
      // Act
      const rendered = await render(template, TAGS, 'text');

      // Assess
      expect(rendered).toBe(expected);
      expect(rendered).not.toContain('[object Object]');
    });
  });

  describe('render errors name the template line and column', () => {
    it('points at the comma a loop leaves before "]"', async () => {
      // Prepare
      const template = '{\n  "tags": [\n    {% for t in tags %}"{{ t }}",{% endfor %}\n  ]\n}';

      // Act
      const error = await rejectionOf(render(template, TAGS));

      // Assess
      expect(error).toBeInstanceOf(TemplateError);
      expect(error).toMatchObject({ kind: 'invalid_json' });
      expect(error.message).toContain('body_template line 3, column 33: rendered invalid JSON');
      expect(error.message).toContain('a trailing comma before "]"');
      expect(error.message).not.toContain('line 1, column 1:');
    });

    it.each<[string, string]>([
      ['{\n"a": 1,\n"b": {{ agent_id }} {{ agent_id }}\n}', 'line 3, column 21:'],
      ['{\n"a": {{ missing }}x\n}', 'line 2, column 19:'],
      ['{"a": 1}\n\n{% if true %}\n  oops{% endif %}', 'line 4, column 3:'],
      ['{"a": [\n{% for s in policy_result.scores %}{{ s }}{% endfor %}]}', 'line 2, column 36:'],
    ])('%s is reported at %s', async (template, position) => {
      // Act
      const error = await rejectionOf(render(template));

      // Assess
      expect(error).toMatchObject({ kind: 'invalid_json' });
      expect(error.message).toContain(`body_template ${position} rendered invalid JSON`);
    });

    it('names the line of a filter that fails while rendering', async () => {
      // Prepare
      const template = '{\n  "a": 1,\n  "b": "{{ agent_id | truncate_chars: 0 }}"\n}';

      // Act
      const error = await rejectionOf(render(template));

      // Assess
      expect(error).toMatchObject({ kind: 'render' });
      expect(error.message).toContain('body_template line 3, column 9: failed to render');
      expect(error.message).not.toMatch(/line:\d/);
    });
  });
});

/** A valid event of about 190 KB with 2,000 tags. */
const bigEvent = (): Record<string, unknown> => ({
  tags: Array.from({ length: 2000 }, (_, index) => `tag-${index}`),
  note: 'x'.repeat(170_000),
});

describe('Bounded output', () => {
  const AMPLIFIER = '{"copies": [{% for t in tags %}{{ event_json }},{% endfor %}null]}';

  it('stops a loop writing event_json as a render error, never holding more than 1 MiB', async () => {
    // Prepare
    const body = compileBody({ exportName: 'amplifier', template: AMPLIFIER, format: 'json' });
    const event = templateEvent(bigEvent());
    expect(JSON.stringify(event).length).toBeGreaterThan(180_000);

    // Act
    const error = await rejectionOf(body.render(event, {}));

    // Assess
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ kind: 'render', exportName: 'amplifier', limitBytes: 1_048_576 });
    expect(error.message).toContain("the rendered body passed the export's limit of 1048576 bytes");
    expect(error.message).toContain('line 1, column 32:');
    expect(preparationFailureOf(error)).toEqual({
      kind: 'template',
      retryable: false,
      reason: 'render',
      message: error.message,
    });
  });

  it('honours the export’s webhook.max_body_bytes', async () => {
    // Prepare
    const base = exportWithTemplate('limited', '{"a": "{{ note }}"}');
    const limited = { ...base, webhook: { ...base.webhook, max_body_bytes: 2048 } };
    const fits = templateEvent({ note: 'é'.repeat(1010) });
    const tooBig = templateEvent({ note: 'é'.repeat(1020) });

    // Act
    const rendered = await bodyForExport(limited).render(fits, {});
    const error = await rejectionOf(bodyForExport(limited).render(tooBig, {}));
    const byDefault = await bodyForExport(base).render(tooBig, {});

    // Assess
    expect(Buffer.byteLength(rendered)).toBeLessThanOrEqual(2048);
    expect(error).toMatchObject({ name: 'BodyTooLargeError', kind: 'render', limitBytes: 2048 });
    expect(error.message).toContain("the rendered body passed the export's limit of 2048 bytes");
    expect(JSON.parse(byDefault).a).toBe('é'.repeat(1020));
  });

  it('bounds text kept by {% capture %} inside a loop', async () => {
    // Prepare
    const template =
      '{% capture all %}{% for t in tags %}{{ event_json }}{% endfor %}{% endcapture %}{"n": {{ all | size }}}';
    const body = compileBody({ exportName: 'capture', template, format: 'json' });

    // Act
    const error = await rejectionOf(body.render(templateEvent(bigEvent()), {}));

    // Assess
    expect(error).toMatchObject({ kind: 'render' });
    expect(error.message).toContain("passed the export's limit of 1048576 bytes");
  });

  it('finds event_json written inside loops, for validate', () => {
    // Act
    const found = [
      eventJsonInsideLoops(AMPLIFIER),
      eventJsonInsideLoops(
        '{% for t in tags %}{% if t %}{{event_json | json}}{% endif %}{% endfor %}',
      ),
      eventJsonInsideLoops(
        '{"e": {{ event_json }}, "t": [{% for t in tags %}"{{ t }}"{% endfor %}]}',
      ),
      eventJsonInsideLoops('{% for t in tags %}{{ my_event_json }}{% endfor %}'),
    ];

    // Assess
    expect(found).toEqual([[31], [29], [], []]);
  });
});
