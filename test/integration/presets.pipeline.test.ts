/**
 * The seed's Slack export (`config/examples/routing.yaml`: no preset, no body_template, url
 * `${SLACK_WEBHOOK_URL}`) through the whole local pipeline, against a receiver enforcing Slack's
 * rules. Tests cannot reach hooks.slack.com, so the receiver is reached as `localhost` and the
 * pipeline is told that `localhost` is a Slack host (`presets.slackHosts`, a test-only option).
 */
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../shared/config/load.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { detectedPreset } from '../../shared/request/presets/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import {
  type DestinationReceiver,
  startDestinationReceiver,
} from '../helpers/destinationReceivers.js';
import { auditEvent, waitUntil } from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

/** The seed config with only its Slack export, exactly as written there. */
const seedSlackYaml = async (): Promise<string> => {
  const seed = parse(await readFile('config/examples/routing.yaml', 'utf8')) as {
    exports: { name: string; webhook: Record<string, unknown> }[];
  };
  const slack = seed.exports.find((exp) => exp.name === 'slack-detections');
  if (slack === undefined) throw new Error('the seed has no slack-detections export');
  expect(slack.webhook).toEqual({ url: '${SLACK_WEBHOOK_URL}' });
  return stringify({ exports: [slack] });
};

const slackReceiver = async (): Promise<DestinationReceiver> =>
  stack.add(await startDestinationReceiver('slack'), (receiver) => receiver.close());

const { pipeline } = stack;

/** The webhook URL Slack would hand out, on the local receiver, reached by host name. */
const webhookUrl = (receiver: DestinationReceiver): string =>
  `http://localhost:${receiver.port}/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX`;

describe('Pipeline: the seed Slack export with the slack preset detected', () => {
  it('delivers detections as Slack messages the receiver accepts', async () => {
    // Prepare
    const receiver = await slackReceiver();
    const harness = await pipeline({
      yaml: await seedSlackYaml(),
      secrets: new EnvSecretResolver({ SLACK_WEBHOOK_URL: webhookUrl(receiver) }),
      presets: { slackHosts: ['localhost'] },
    });
    const events = [
      auditEvent({ event_kind: 'detection', severity: 'warn', agent_id: '<!channel> bot' }),
      auditEvent({ event_kind: 'detection', severity: 'critical' }),
      auditEvent({ event_kind: 'policy_block', severity: 'critical' }),
    ];

    // Act
    await harness.pushEvents(events);
    await receiver.waitForRequests(2);
    await harness.waitForIdle();

    // Assess
    expect(receiver.refused).toEqual([]);
    expect(receiver.accepted).toHaveLength(2);
    const messages = receiver.accepted.map((request) => JSON.parse(request.body));
    expect(messages.map((message) => message.text).sort()).toEqual([
      'TapPass detection (critical) on support-bot: rule no-pii',
      'TapPass detection (warn) on &lt;!channel&gt; bot: rule no-pii',
    ]);
    expect(harness.noticesOf('attempt').map((notice) => notice.outcome)).toEqual([
      'success',
      'success',
    ]);
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
  });

  it('without the Slack host, sends the raw event, which Slack refuses: one attempt, dead-lettered', async () => {
    // Prepare
    const receiver = await slackReceiver();
    const harness = await pipeline({
      yaml: await seedSlackYaml(),
      secrets: new EnvSecretResolver({ SLACK_WEBHOOK_URL: webhookUrl(receiver) }),
    });

    // Act
    await harness.pushEvents([auditEvent({ event_kind: 'detection', severity: 'warn' })]);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 1, {
      what: 'the dead letter to be archived',
    });
    await harness.waitForIdle();

    // Assess
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.refused.map(({ reply }) => reply.body)).toEqual(['invalid_payload']);
    const [letter] = (await harness.drainArchive()).map((message) => message.json as DeadLetter);
    expect(letter?.reason).toBe('permanent');
    expect(letter?.attempts).toBe(1);
  });
});

describe('Pipeline: the seed PagerDuty export with the pagerduty preset detected from its URL', () => {
  it('pages PagerDuty with events its Events v2 rules accept, the routing key from PD_ROUTING_KEY', async () => {
    // Prepare: the export as the page writes it. Its preset is detected from the literal URL
    // when the config is loaded; tests cannot reach events.pagerduty.com, so the pipeline gets
    // the same export pointed at a receiver enforcing PagerDuty's rules, with the preset the
    // detection chose (the one edit besides the URL).
    const text = await readFile('config/examples/routing.yaml', 'utf8');
    const { config } = await parseConfig(text, 'routing.yaml');
    const written = config?.exports.find((exp) => exp.name === 'pagerduty-auth');
    if (written === undefined) throw new Error('the seed has no pagerduty-auth export');
    expect(written.webhook.preset).toBeUndefined();
    expect(written.webhook.body_template).toBeUndefined();
    const detected = detectedPreset(written);
    expect(detected?.preset.name).toBe('pagerduty');
    const receiver = stack.add(await startDestinationReceiver('pagerduty'), (r) => r.close());
    const seed = parse(text) as { exports: { name: string; webhook: Record<string, unknown> }[] };
    const asWritten = seed.exports.find((exp) => exp.name === 'pagerduty-auth');
    const routingKey = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32';
    const harness = await pipeline({
      yaml: stringify({
        exports: [
          {
            ...asWritten,
            webhook: { ...asWritten?.webhook, url: receiver.url, preset: detected?.preset.name },
          },
        ],
      }),
      secrets: new EnvSecretResolver({ PD_ROUTING_KEY: routingKey }),
    });

    // Act
    await harness.pushEvents([
      auditEvent({ event_kind: 'auth_fail', severity: 'error' }),
      auditEvent({ event_kind: 'auth_fail', severity: 'critical' }),
      auditEvent({ event_kind: 'auth_fail', severity: 'warn' }),
    ]);
    await receiver.waitForRequests(2);
    await harness.waitForIdle();

    // Assess
    expect(receiver.refused).toEqual([]);
    expect(receiver.accepted).toHaveLength(2);
    const events = receiver.accepted.map((request) => JSON.parse(request.body));
    expect(events.map((event) => event.routing_key)).toEqual([routingKey, routingKey]);
    expect(events.map((event) => event.payload.severity).sort()).toEqual(['critical', 'error']);
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
  });
});
