/**
 * Every destination preset against a local receiver that enforces that destination's documented
 * rules: rendered for ordinary, long and nasty events, sent over real HTTP with the production
 * client, and accepted; the destinations' error answers classified as the presets promise.
 */
import type { ExportConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import { classifyFor, type PresetVerdict } from '../../shared/request/presets/index.js';
import {
  type Destination,
  type DestinationReceiver,
  type Scenario,
  startDestinationReceiver,
} from '../helpers/destinationReceivers.js';
import { auditEvent } from '../helpers/pipeline.js';
import {
  longString,
  NASTY,
  PRESET_VARIABLES,
  presetExport,
  stressEvents,
} from '../helpers/presetExports.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack({ http: true });

/** The path each destination's URL has; the receivers accept any. */
const PATHS: Readonly<Record<Destination, string>> = {
  pagerduty: '/v2/enqueue',
  slack: '/services/T0000/B0000/XXXXXXXX',
  datadog: '/api/v1/events',
  opsgenie: '/v2/alerts',
  msteams: '/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t',
  discord: '/api/webhooks/123/token',
};

const DESTINATIONS = Object.keys(PATHS) as Destination[];

const receiverFor = async <D extends Destination>(
  destination: D,
  scenario?: Scenario<D>,
): Promise<DestinationReceiver> =>
  stack.add(await startDestinationReceiver(destination, scenario), (started) => started.close());

/** Renders and sends one event exactly as the delivery step does, and classifies the answer. */
const deliver = async (exp: ExportConfig, event: AuditEvent) => {
  const request = await prepareRequest(exp, event, PRESET_VARIABLES);
  const result = await stack.http.send(request);
  const verdict: PresetVerdict = classifyFor(exp, result, request.url);
  return { request, result, verdict };
};

const exportFor = (destination: Destination, receiver: DestinationReceiver) =>
  presetExport({ url: `${receiver.url}${PATHS[destination]}`, preset: destination });

/** The JSON body of the n-th request a receiver got (shapes are asserted, not typed). */
// biome-ignore lint/suspicious/noExplicitAny: the tests assert the shape of parsed bodies.
const bodyOf = (receiver: DestinationReceiver, index: number): Record<string, any> =>
  JSON.parse(receiver.requests[index]?.body ?? 'null');

describe('Presets against destination receivers', () => {
  it.each(DESTINATIONS)('%s accepts every stress event', async (destination) => {
    // Prepare
    const receiver = await receiverFor(destination);
    const exp = await exportFor(destination, receiver);
    const events = stressEvents();

    // Act
    const outcomes = [];
    for (const event of events) outcomes.push(await deliver(exp, event));

    // Assess
    expect(receiver.refused.map(({ reply }) => reply.body)).toEqual([]);
    expect(receiver.accepted).toHaveLength(events.length);
    expect(outcomes.map(({ verdict }) => verdict.outcome)).toEqual(events.map(() => 'success'));
  });

  it.each(DESTINATIONS)(
    '%s refuses the raw event JSON (its rules are enforced)',
    async (destination) => {
      // Prepare
      const receiver = await receiverFor(destination);
      const exp = await presetExport({
        url: `${receiver.url}${PATHS[destination]}`,
        preset: 'generic',
      });

      // Act
      const { result, verdict } = await deliver(exp, auditEvent());

      // Assess
      expect(result.status).toBeGreaterThanOrEqual(400);
      expect(verdict.outcome).toBe('permanent');
      expect(receiver.accepted).toHaveLength(0);
    },
  );

  it('pagerduty: caps the summary at 1024 characters, dedups on the audit id, carries the event', async () => {
    // Prepare
    const receiver = await receiverFor('pagerduty');
    const exp = await exportFor('pagerduty', receiver);
    const event = auditEvent({ agent_id: longString('😀', 3000) });

    // Act
    await deliver(exp, event);

    // Assess
    const body = bodyOf(receiver, 0);
    // 1024, or 1023 where the cut would split an emoji's surrogate pair.
    expect(body.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(body.payload.summary.length).toBeGreaterThanOrEqual(1023);
    expect(body.payload.summary.endsWith('😀…')).toBe(true);
    expect(body.dedup_key).toBe(event.audit_id);
    expect(body.payload.custom_details).toEqual(JSON.parse(JSON.stringify(event)));
    expect(body.routing_key).toBe(PRESET_VARIABLES.PD_ROUTING_KEY);
  });

  it('slack: escapes mentions and links, and keeps field text within Block Kit limits', async () => {
    // Prepare
    const receiver = await receiverFor('slack');
    const exp = await exportFor('slack', receiver);

    // Act
    await deliver(exp, auditEvent({ agent_id: NASTY }));
    await deliver(exp, auditEvent({ agent_id: longString('&', 5000) }));

    // Assess
    const nasty = bodyOf(receiver, 0);
    expect(nasty.text).not.toMatch(/<!channel>|<@U123>|<https:/);
    expect(nasty.text).toContain('&lt;!channel&gt;');
    const long = bodyOf(receiver, 1);
    const fields = long.blocks[1].fields.map((field: { text: string }) => field.text.length);
    expect(Math.max(...fields)).toBeLessThanOrEqual(2000);
    expect(receiver.accepted).toHaveLength(2);
  });

  it('opsgenie: 130-character message, alias = audit id, GenieKey header', async () => {
    // Prepare
    const receiver = await receiverFor('opsgenie');
    const exp = await exportFor('opsgenie', receiver);
    const event = auditEvent({ event_kind: longString('k', 500) });

    // Act
    await deliver(exp, event);

    // Assess
    const body = bodyOf(receiver, 0);
    expect(body.message).toHaveLength(130);
    expect(body.alias).toBe(event.audit_id);
    expect(receiver.requests[0]?.headers.authorization).toBe(
      `GenieKey ${PRESET_VARIABLES.OPSGENIE_API_KEY}`,
    );
  });

  it('discord: never lets event data mention anyone', async () => {
    // Prepare
    const receiver = await receiverFor('discord');
    const exp = await exportFor('discord', receiver);

    // Act
    await deliver(exp, auditEvent({ agent_id: '@everyone <@123>' }));

    // Assess
    const body = bodyOf(receiver, 0);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.content).toContain('@everyone');
  });

  it('datadog and msteams: the documented envelopes', async () => {
    // Prepare
    const datadog = await receiverFor('datadog');
    const msteams = await receiverFor('msteams');

    // Act
    await deliver(await exportFor('datadog', datadog), auditEvent({ severity: 'critical' }));
    await deliver(await exportFor('msteams', msteams), auditEvent({ severity: 'warn' }));

    // Assess
    expect(datadog.requests[0]?.headers['dd-api-key']).toBe(PRESET_VARIABLES.DD_API_KEY);
    expect(bodyOf(datadog, 0).alert_type).toBe('error');
    const card = bodyOf(msteams, 0).attachments[0];
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content).toEqual(expect.objectContaining({ type: 'AdaptiveCard', version: '1.4' }));
  });
});

describe('Presets: classification of destination errors over HTTP', () => {
  it.each([
    ['pagerduty', 'rate-limited', 'retry', undefined, 'HTTP 429'],
    ['pagerduty', 'server-error', 'retry', undefined, 'HTTP 500'],
    ['slack', 'archived', 'permanent', undefined, 'Slack: channel_is_archived'],
    ['slack', 'channel-not-found', 'permanent', undefined, 'Slack: channel_not_found'],
    ['slack', 'prohibited', 'permanent', undefined, 'Slack: action_prohibited'],
    ['slack', 'revoked', 'permanent', undefined, 'Slack: no_service'],
    ['slack', 'rate-limited', 'retry', 30, 'Slack: rate_limited'],
    ['slack', 'server-error', 'retry', undefined, 'Slack: rollup_error'],
    ['datadog', 'rate-limited', 'retry', 7, 'Datadog: Rate limit exceeded'],
    ['opsgenie', 'rate-limited', 'retry', undefined, 'Opsgenie: Too many requests'],
    ['msteams', 'rate-limited', 'retry', 12, 'Teams: Rate limit'],
    ['msteams', 'connector-throttled', 'retry', undefined, 'HTTP error 429'],
    ['msteams', 'connector-refused', 'permanent', undefined, 'HTTP error 413'],
    ['discord', 'rate-limited', 'retry', 5, 'Discord: You are being rate limited.'],
    ['discord', 'rate-limited-body-only', 'retry', 4, 'Discord: You are being rate limited.'],
    ['discord', 'unknown-webhook', 'permanent', undefined, 'Discord: Unknown Webhook (code 10015)'],
  ] as const)('%s, %s → %s (wait %s s)', async (destination, scenario, outcome, wait, reason) => {
    // Prepare
    const receiver = await receiverFor(destination, scenario as Scenario<typeof destination>);
    const exp = await exportFor(destination, receiver);

    // Act
    const { verdict } = await deliver(exp, auditEvent());

    // Assess
    expect(verdict.outcome).toBe(outcome);
    expect(verdict.retryAfterSeconds).toBe(wait);
    expect(verdict.outcome === 'success' ? '' : verdict.reason).toContain(reason);
    expect(receiver.requests).toHaveLength(1);
  });
});
