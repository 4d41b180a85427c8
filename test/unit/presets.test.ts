import { configVariableNames, parseConfig } from '../../shared/config/index.js';
import { syntheticEvent } from '../../shared/events/syntheticEvent.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import {
  describeBody,
  effectiveFormat,
  presetAdvice,
} from '../../shared/request/presets/advice.js';
import {
  detectedPreset,
  detectPreset,
  exportWithPreset,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  SLACK_HOSTS,
} from '../../shared/request/presets/index.js';
import { bodyForExport, templateParseCount } from '../../shared/request/template.js';
import { exportVariableNames, findVariableReferences } from '../../shared/request/variables.js';
import { auditEvent } from '../helpers/pipeline.js';
import { PRESET_VARIABLES, presetExport, stressEvents } from '../helpers/presetExports.js';

describe('Object: PRESETS', () => {
  it.each(PRESET_NAMES)(
    '%s declares exactly the variables its template and headers use',
    (name) => {
      // Prepare
      const preset = PRESETS[name];
      const texts = [preset.bodyTemplate ?? '', ...Object.values(preset.headers)];

      // Act
      const used = [...new Set(texts.flatMap(findVariableReferences))];

      // Assess
      expect(preset.name).toBe(name);
      expect([...preset.variables].sort()).toEqual(used.sort());
    },
  );

  it('detects at send time only presets that need no variable', () => {
    // Prepare
    const detectable = SLACK_HOSTS.map((host) => detectPreset(`https://${host}/services/T/B/x`));

    // Act
    const variables = detectable.flatMap((preset) => preset?.variables ?? ['(none detected)']);

    // Assess
    expect(detectable.map((preset) => preset?.name)).toEqual(['slack', 'slack']);
    expect(variables).toEqual([]);
  });

  it.each(PRESET_NAMES)('%s renders valid JSON for every stress event', async (name) => {
    // Prepare
    const exp = await presetExport({ url: 'https://example.com/hook', preset: name });

    // Act
    const bodies = await Promise.all(
      stressEvents().map(
        async (event) => (await prepareRequest(exp, event, PRESET_VARIABLES)).body,
      ),
    );

    // Assess
    for (const body of bodies) expect(() => JSON.parse(body)).not.toThrow();
  });
});

describe('Function: detectPreset()', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/x', 'slack'],
    ['https://HOOKS.Slack.COM./services/T0/B0/x', 'slack'],
    ['https://hooks.slack-gov.com/services/T0/B0/x', 'slack'],
    ['https://hooks.slack.com:443/services/T0/B0/x', 'slack'],
    ['https://evil.example/hooks.slack.com/services', undefined],
    ['https://hooks.slack.com.evil.example/services', undefined],
    ['https://hooks.slack.com@evil.example/services', undefined],
    ['https://slack.com/api/chat.postMessage', undefined],
    ['not a url', undefined],
  ])('%s → %s', (url, expected) => {
    // Act
    const preset = detectPreset(url);

    // Assess
    expect(preset?.name).toBe(expected);
  });

  it('uses the given Slack hosts instead of the production ones', () => {
    // Act
    const local = detectPreset('http://localhost:8080/services/T0/B0/x', {
      slackHosts: ['localhost'],
    });
    const production = detectPreset('https://hooks.slack.com/services/T0/B0/x', {
      slackHosts: ['localhost'],
    });

    // Assess
    expect(local?.name).toBe('slack');
    expect(production).toBeUndefined();
  });
});

describe('Function: exportWithPreset()', () => {
  it('supplies the template, headers and JSON format the export leaves out', async () => {
    // Prepare
    const exp = await presetExport(
      { url: 'https://api.opsgenie.com/v2/alerts', preset: 'opsgenie' },
      {
        format: 'json',
      },
    );

    // Act
    const effective = exportWithPreset(exp);

    // Assess
    expect(effective.webhook.body_template).toBe(PRESETS.opsgenie.bodyTemplate);
    expect(effective.webhook.headers).toEqual({ Authorization: 'GenieKey ${OPSGENIE_API_KEY}' });
    expect(effective.format).toBe('json');
    expect(exp.webhook.body_template).toBeUndefined();
  });

  it('keeps an explicit body_template and header (names compared ignoring case)', async () => {
    // Prepare
    const template = '{"message": "{{ event_kind }}"}';
    const exp = await presetExport({
      url: 'https://api.opsgenie.com/v2/alerts',
      preset: 'opsgenie',
      body_template: template,
      headers: { authorization: 'GenieKey ${MY_KEY}', 'X-Extra': 'yes' },
      method: 'PUT',
    });

    // Act
    const effective = exportWithPreset(exp);
    const request = await prepareRequest(exp, auditEvent(), { MY_KEY: 'mine' });

    // Assess
    expect(effective.webhook.body_template).toBe(template);
    expect(effective.webhook.headers).toEqual({
      authorization: 'GenieKey ${MY_KEY}',
      'X-Extra': 'yes',
    });
    expect(request.method).toBe('PUT');
    expect(request.headers.authorization).toBe('GenieKey mine');
    expect(request.headers.Authorization).toBeUndefined();
    expect(exportVariableNames(exp)).toEqual(['MY_KEY']);
  });

  it('returns the export itself without a preset, and the same object on every call', async () => {
    // Prepare
    const plain = await presetExport({ url: 'https://example.com/hook' });
    const withPreset = await presetExport({ url: 'https://example.com/hook', preset: 'discord' });
    const genericExport = await presetExport({ url: 'https://x.example', preset: 'generic' });

    // Act
    const first = exportWithPreset(withPreset);
    const second = exportWithPreset(withPreset);
    const generic = exportWithPreset(genericExport);

    // Assess
    expect(exportWithPreset(plain)).toBe(plain);
    expect(first).toBe(second);
    expect(generic.webhook.body_template).toBeUndefined();
    expect(generic.webhook.headers).toEqual({});
  });
});

describe('Function: exportVariableNames() with presets', () => {
  it.each([
    ['pagerduty', ['PD_ROUTING_KEY']],
    ['datadog', ['DD_API_KEY']],
    ['opsgenie', ['OPSGENIE_API_KEY']],
    ['slack', []],
    ['msteams', []],
    ['discord', []],
    ['generic', []],
  ])('%s needs %j besides the URL', async (preset, expected) => {
    // Prepare
    const exp = await presetExport({ url: '${HOOK_URL}', preset });

    // Act
    const names = exportVariableNames(exp);

    // Assess
    expect(names).toEqual(['HOOK_URL', ...expected]);
  });

  it('lists a preset variable for validate, SSM and IAM through configVariableNames', async () => {
    // Prepare
    const yaml = [
      'exports:',
      '  - name: pd',
      '    destination: webhook',
      '    webhook:',
      '      url: https://events.pagerduty.com/v2/enqueue',
      '      preset: pagerduty',
      '',
    ].join('\n');
    const { config } = await parseConfig(yaml, 'test.yaml');

    // Act
    const names = config === undefined ? undefined : configVariableNames(config).get('pd');

    // Assess
    expect(names).toEqual(['PD_ROUTING_KEY']);
  });
});

describe('Function: prepareRequest() with presets', () => {
  it('detects Slack from the resolved URL of an export with neither preset nor template', async () => {
    // Prepare
    const exp = await presetExport({ url: '${SLACK_WEBHOOK_URL}' });
    const variables = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/secret' };

    // Act
    const request = await prepareRequest(exp, auditEvent({ agent_id: '<!channel>' }), variables);

    // Assess
    const body = JSON.parse(request.body) as { text: string; blocks: unknown[] };
    expect(body.text).toContain('&lt;!channel&gt;');
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(request.url).toBe(variables.SLACK_WEBHOOK_URL);
  });

  it('sends the raw event to any other host, and to Slack with preset: generic', async () => {
    // Prepare
    const event = auditEvent();
    const other = await presetExport({ url: '${HOOK_URL}' });
    const generic = await presetExport({ url: '${HOOK_URL}', preset: 'generic' });

    // Act
    const toOther = await prepareRequest(other, event, { HOOK_URL: 'https://bus.example/in' });
    const toSlack = await prepareRequest(generic, event, {
      HOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
    });

    // Assess
    expect(JSON.parse(toOther.body)).toEqual(event);
    expect(JSON.parse(toSlack.body)).toEqual(event);
  });

  it('parses each preset template once, however many events it renders', async () => {
    // Prepare
    const exp = await presetExport({ url: 'https://example.com/hook', preset: 'pagerduty' });
    await prepareRequest(exp, auditEvent(), PRESET_VARIABLES);
    const before = templateParseCount();

    // Act
    for (const event of stressEvents()) await prepareRequest(exp, event, PRESET_VARIABLES);

    // Assess
    expect(templateParseCount()).toBe(before);
    expect(bodyForExport(exportWithPreset(exp)).variableNames).toEqual(['PD_ROUTING_KEY']);
  });

  it('maps severities for PagerDuty and Opsgenie as documented', async () => {
    // Prepare
    const pagerduty = await presetExport({ url: 'https://example.com/pd', preset: 'pagerduty' });
    const opsgenie = await presetExport({ url: 'https://example.com/og', preset: 'opsgenie' });
    const severities = ['critical', 'error', 'warn', 'info', 'debug'] as const;

    // Act
    const mapped = await Promise.all(
      severities.map(async (severity) => {
        const event = auditEvent({ severity });
        const pd = JSON.parse((await prepareRequest(pagerduty, event, PRESET_VARIABLES)).body);
        const og = JSON.parse((await prepareRequest(opsgenie, event, PRESET_VARIABLES)).body);
        return [severity, pd.payload.severity, og.priority];
      }),
    );

    // Assess
    expect(mapped).toEqual([
      ['critical', 'critical', 'P1'],
      ['error', 'error', 'P2'],
      ['warn', 'warning', 'P3'],
      ['info', 'info', 'P4'],
      ['debug', 'info', 'P5'],
    ]);
  });

  it('builds the PagerDuty event from the audit event', async () => {
    // Prepare
    const exp = await presetExport({
      url: 'https://events.pagerduty.com/v2/enqueue',
      preset: 'pagerduty',
    });
    const event = auditEvent({ agent_id: undefined });

    // Act
    const body = JSON.parse((await prepareRequest(exp, event, PRESET_VARIABLES)).body);

    // Assess
    expect(body).toEqual({
      routing_key: PRESET_VARIABLES.PD_ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: event.audit_id,
      client: 'TapPass',
      payload: {
        summary: 'TapPass policy_block (error) on unknown agent: rule no-pii',
        source: 'tappass',
        severity: 'error',
        timestamp: '2026-04-17T10:15:03.000Z',
        class: 'policy_block',
        group: 'tappass',
        custom_details: JSON.parse(JSON.stringify(event)),
      },
    });
  });
});

describe('Function: describeBody() / presetAdvice()', () => {
  it.each([
    [
      { url: '${SLACK_WEBHOOK_URL}' },
      'the event as JSON, or preset slack if the url resolves to a Slack host',
      true,
    ],
    [
      { url: 'https://hooks.slack.com/services/T/B/x' },
      'preset slack (detected from the host hooks.slack.com)',
      false,
    ],
    [
      { url: 'https://events.pagerduty.com/v2/enqueue' },
      'preset pagerduty (detected from the host events.pagerduty.com)',
      false,
    ],
    [
      { url: 'https://events.pagerduty.com/v2/enqueue', preset: 'generic' },
      'the event as JSON (preset generic)',
      false,
    ],
    [
      { url: 'https://events.pagerduty.com/v2/enqueue', body_template: '{"a": 1}' },
      'body_template',
      false,
    ],
    [
      { url: '${PD_URL}', preset: 'pagerduty' },
      'preset pagerduty (PagerDuty Events API v2)',
      false,
    ],
    [{ url: '${BUS_URL}', preset: 'generic' }, 'the event as JSON (preset generic)', false],
    [{ url: 'https://bus.example/in' }, 'the event as JSON', false],
    [{ url: '${BUS_URL}', body_template: '{"a": 1}' }, 'body_template', false],
  ])('%j: body "%s", warning %s', async (webhook, body, warns) => {
    // Prepare
    const exp = await presetExport(webhook);

    // Act
    const described = describeBody(exp);
    const advice = presetAdvice(exp);

    // Assess
    expect(described).toBe(body);
    expect(advice !== undefined).toBe(warns);
    expect(effectiveFormat(exp)).toBe('json');
  });

  it('names the preset to add for a known destination host on another path', async () => {
    // Prepare
    const exp = await presetExport({ url: 'https://api.datadoghq.eu/api/v2/events' });

    // Act
    const advice = presetAdvice(exp);

    // Assess
    expect(advice).toBe(
      'preset-test: the url is on the host of the Datadog Events API v1 (api.datadoghq.eu) but not its path /api/v1/events, and there is no preset or body_template, so the raw event JSON is sent, which it may not accept; add preset: datadog if this is that API, or preset: generic to send the event as JSON',
    );
  });
});

describe('Function: detectedPreset()', () => {
  it.each([
    ['https://events.pagerduty.com/v2/enqueue', 'pagerduty', 'events.pagerduty.com'],
    ['https://events.eu.pagerduty.com/v2/enqueue/', 'pagerduty', 'events.eu.pagerduty.com'],
    ['https://api.opsgenie.com/v2/alerts', 'opsgenie', 'api.opsgenie.com'],
    ['https://API.EU.OPSGENIE.COM/v2/alerts', 'opsgenie', 'api.eu.opsgenie.com'],
    ['https://api.datadoghq.com/api/v1/events', 'datadog', 'api.datadoghq.com'],
    ['https://api.us5.datadoghq.com/api/v1/events', 'datadog', 'api.us5.datadoghq.com'],
  ])('%s: the %s preset, from the host %s', async (url, name, host) => {
    // Prepare
    const exp = await presetExport({ url });

    // Act
    const detected = detectedPreset(exp);
    const effective = exportWithPreset(exp);

    // Assess
    expect(detected?.preset.name).toBe(name);
    expect(detected?.host).toBe(host);
    expect(effective.webhook.body_template).toBe(PRESETS[name as PresetName].bodyTemplate);
    expect(exportVariableNames(exp)).toEqual([...PRESETS[name as PresetName].variables]);
  });

  it.each([
    [{ url: 'https://events.pagerduty.com/v2/enqueue', preset: 'generic' }],
    [{ url: 'https://events.pagerduty.com/v2/enqueue', body_template: '{"a": 1}' }],
    [{ url: 'https://events.pagerduty.com/v2/change/enqueue' }],
    [{ url: 'https://api.datadoghq.com/api/v2/logs' }],
    [{ url: 'https://hooks.slack.com/services/T/B/x' }],
    [{ url: '${PD_URL}' }],
    [{ url: 'https://events.pagerduty.com.example.net/v2/enqueue' }],
  ])('%j: nothing detected from the config', async (webhook) => {
    // Prepare
    const exp = await presetExport(webhook);

    // Act
    const detected = detectedPreset(exp);

    // Assess
    expect(detected).toBeUndefined();
  });

  it("keeps the page's own Authorization header and puts PD_ROUTING_KEY in the body", async () => {
    // Prepare
    const exp = await presetExport({
      url: 'https://events.pagerduty.com/v2/enqueue',
      headers: { Authorization: 'Token token=${PD_ROUTING_KEY}' },
    });
    const routingKey = 'k'.repeat(32);

    // Act
    const request = await prepareRequest(exp, auditEvent(), { PD_ROUTING_KEY: routingKey });

    // Assess
    expect(exportVariableNames(exp)).toEqual(['PD_ROUTING_KEY']);
    expect(request.headers.Authorization).toBe(`Token token=${routingKey}`);
    expect(JSON.parse(request.body)).toMatchObject({
      routing_key: routingKey,
      event_action: 'trigger',
    });
  });
});

describe('Function: parseConfig() with presets', () => {
  const yamlWith = (webhook: string[], extra: string[] = []) =>
    [
      'exports:',
      '  - name: alerts',
      '    destination: webhook',
      ...extra,
      '    webhook:',
      '      url: https://example.com/hook',
      ...webhook.map((line) => `      ${line}`),
      '    filters: { min_severity: critical }',
      '',
    ].join('\n');

  it('accepts every preset and renders its template for a synthetic event', async () => {
    // Prepare
    const results = await Promise.all(
      PRESET_NAMES.map((name) => parseConfig(yamlWith([`preset: ${name}`]), 'test.yaml')),
    );

    // Act
    const problems = results.flatMap((result) => result.issues);

    // Assess
    expect(problems).toEqual([]);
    expect(results.map((result) => result.config?.exports[0]?.webhook.preset)).toEqual([
      ...PRESET_NAMES,
    ]);
  });

  it('suggests the preset meant by a typo', async () => {
    // Act
    const { issues } = await parseConfig(yamlWith(['preset: pagerduti']), 'test.yaml');

    // Assess
    expect(issues.map((issue) => issue.message)).toEqual([
      '"pagerduti" is not a preset (did you mean "pagerduty"?); use pagerduty, slack, datadog, opsgenie, msteams, discord or generic',
    ]);
  });

  it('refuses format: text with a preset template, and accepts it with an own template', async () => {
    // Act
    const refused = await parseConfig(
      yamlWith(['preset: slack'], ['    format: text']),
      'test.yaml',
    );
    const accepted = await parseConfig(
      yamlWith(['preset: slack', 'body_template: "plain {{ event_kind }}"'], ['    format: text']),
      'test.yaml',
    );

    // Assess
    expect(refused.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [
        'exports[0].format',
        'is text, but the slack preset sends JSON; remove format: text, or write your own body_template',
      ],
    ]);
    expect(accepted.issues).toEqual([]);
  });

  it('renders preset templates for the synthetic event of the export', async () => {
    // Prepare
    const event = syntheticEvent({ filters: { min_severity: 'critical' } });
    const exp = await presetExport({ url: 'https://example.com/hook', preset: 'msteams' });

    // Act
    const body = JSON.parse((await prepareRequest(exp, event, {})).body);

    // Assess
    expect(body.attachments[0].content.body[0].color).toBe('Attention');
  });
});
