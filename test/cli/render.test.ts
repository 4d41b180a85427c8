/**
 * `render`: the dry run prints the exact request with secrets masked, and sends nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRender } from '../../cli/render.js';
import { runCli } from '../helpers/cli.js';
import { pagerDutyProblems } from '../helpers/destinationReceivers.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const SECRET = 'xoxb-very-secret-token';

const stack = useTestStack();
let dir: string;
let receiver: Receiver;
let configFile: string;
let eventFile: string;

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

beforeAll(async () => {
  dir = await stack.tempDir('cli-render-');
  receiver = await stack.receiver({ status: 200 });
  configFile = join(dir, 'observability.yaml');
  await writeFile(
    configFile,
    `exports:
  - name: slack-detections
    destination: webhook
    webhook:
      url: "${receiver.url}/services/\${SLACK_TOKEN}"
      headers:
        Authorization: "Bearer \${SLACK_TOKEN}"
      body_template: '{"text": "TapPass {{event_kind}} on {{agent_id}}", "token": "\${SLACK_TOKEN}"}'
`,
  );
  eventFile = join(dir, 'event.json');
  await writeFile(
    eventFile,
    JSON.stringify({
      audit_id: 'ae_render_1',
      timestamp: '2026-04-17T10:15:03Z',
      event_kind: 'detection',
      severity: 'warn',
      agent_id: 'support-bot',
    }),
  );
});

describe('Command: render', () => {
  it('prints the exact request with the secret masked everywhere, and sends nothing', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(
      ['render', '--config', configFile, '--export', 'slack-detections', '--event', eventFile],
      { env: { SLACK_TOKEN: SECRET }, timeoutMs: 30_000 },
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout.split('\n')).toEqual([
      `POST ${receiver.url}/services/***`,
      'Authorization: Bearer ***',
      'Content-Type: application/json',
      'User-Agent: tappass-webhooks/0.1',
      expect.stringMatching(/^Idempotency-Key: dlv_[0-9a-f]{32}$/),
      expect.stringMatching(/^webhook-id: dlv_[0-9a-f]{32}$/),
      '',
      '{"text": "TapPass detection on support-bot", "token": "***"}',
      '',
    ]);
    expect(stderr).toContain('nothing sent');
    expect(`${stdout}${stderr}`).not.toContain(SECRET);
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('Function: runRender()', () => {
  it('renders a missing variable as a visible <NAME> with a warning, and returns 0', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();

    // Act
    const code = await runRender(
      {
        export: 'slack-detections',
        config: configFile,
        event: eventFile,
        env: {},
        dotEnvPath: join(dir, 'none.env'),
      },
      output,
    );

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe(`POST ${receiver.url}/services/<SLACK_TOKEN>`);
    expect(out.at(-1)).toBe(
      '{"text": "TapPass detection on support-bot", "token": "<SLACK_TOKEN>"}',
    );
    expect(err[0]).toBe(
      'WARNING: ${SLACK_TOKEN} is not set in this environment or .env: rendered as <SLACK_TOKEN>',
    );
  });

  it('renders a synthetic event that passes the filters when no --event is given', async () => {
    // Prepare
    const { out, output } = collectingOutput();

    // Act
    const code = await runRender(
      { export: 'slack-detections', config: configFile, env: { SLACK_TOKEN: SECRET } },
      output,
    );

    // Assess
    expect(code).toBe(0);
    expect(out.at(-1)).toBe('{"text": "TapPass test_event on tappass-test", "token": "***"}');
  });

  it('stops a body that passes webhook.max_body_bytes and returns 2 with the render error', async () => {
    // Prepare
    const limitedConfig = join(dir, 'limited.yaml');
    await writeFile(
      limitedConfig,
      `exports:
  - name: amplifier
    destination: webhook
    webhook:
      url: "${receiver.url}/hook"
      max_body_bytes: 4096
      body_template: '[{% for t in tags %}{{ event_json }},{% endfor %}null]'
`,
    );
    const bigEventFile = join(dir, 'big-event.json');
    await writeFile(
      bigEventFile,
      JSON.stringify({
        audit_id: 'ae_render_big',
        timestamp: '2026-04-17T10:15:03Z',
        event_kind: 'detection',
        severity: 'warn',
        tags: Array.from({ length: 2000 }, (_, index) => `tag-${index}`),
      }),
    );
    const { out, err, output } = collectingOutput();

    // Act
    const code = await runRender(
      { export: 'amplifier', config: limitedConfig, event: bigEventFile, env: {} },
      output,
    );

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(2);
    expect(err[0]).toContain('WARNING:');
    expect(err[0]).toContain('writes {{ event_json }} inside a loop');
    expect(err[1]).toContain('export "amplifier": body_template line 1, column 21:');
    expect(err[1]).toContain("the rendered body passed the export's limit of 4096 bytes");
  });

  it('lists the known exports for an unknown one and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();

    // Act
    const code = await runRender({ export: 'slack', config: configFile, env: {} }, output);

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      `${configFile}: no export named "slack"; the config has: slack-detections`,
    ]);
  });

  it("renders the routing example's pagerduty-auth as a PagerDuty event the Events v2 rules accept", async () => {
    // Prepare: the page's example as written (no preset, no body_template).
    const { out, err, output } = collectingOutput();
    const routingKey = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32';

    // Act
    const code = await runRender(
      {
        export: 'pagerduty-auth',
        config: 'config/examples/routing.yaml',
        env: { PD_ROUTING_KEY: routingKey },
      },
      output,
    );

    // Assess: the key is masked in what is printed; restored, the body is valid for PagerDuty.
    expect(code).toBe(0);
    expect(out[0]).toBe('POST https://events.pagerduty.com/v2/enqueue');
    expect(out).toContain('Authorization: Token token=***');
    const body = out.slice(out.indexOf('') + 1).join('\n');
    const event = JSON.parse(body) as Record<string, unknown>;
    expect(event.routing_key).toBe('***');
    expect(pagerDutyProblems({ ...event, routing_key: routingKey })).toEqual([]);
    expect(event).toMatchObject({ event_action: 'trigger', payload: { severity: 'error' } });
    expect([...out, ...err].join('\n')).not.toContain(routingKey);
  });
});
