import { classifyFor, type PresetName } from '../../shared/request/presets/index.js';
import type { SendResult } from '../../shared/transport/http.js';
import { presetExport } from '../helpers/presetExports.js';

/** A received answer, as `http.ts` describes it. */
const answer = (
  status: number,
  body = '',
  headers: Record<string, string> = {},
  retryAfterSeconds?: number,
): SendResult => ({
  status,
  latencyMs: 5,
  bodySnippet: body,
  bodyTruncated: false,
  ...(status >= 200 && status < 300 ? {} : { errorClass: 'http_status' as const }),
  headers,
  ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
});

const classify = async (preset: PresetName | undefined, result: SendResult, url?: string) => {
  const exp = await presetExport({
    url: url ?? 'https://example.com/hook',
    ...(preset === undefined ? {} : { preset }),
  });
  return classifyFor(exp, result, url ?? 'https://example.com/hook');
};

describe('Function: classifyFor()', () => {
  it.each([
    // preset, result, outcome, reason contains, retryAfterSeconds
    ['pagerduty', answer(202, '{"status":"success"}'), 'success', undefined, undefined],
    [
      'pagerduty',
      answer(
        400,
        '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect (should be 32 characters)"]}',
      ),
      'permanent',
      "PagerDuty: invalid event: Length of 'routing_key' is incorrect (should be 32 characters)",
      undefined,
    ],
    ['pagerduty', answer(429, '{"status":"throttle event"}'), 'retry', 'HTTP 429', undefined],
    ['pagerduty', answer(503, '<html>'), 'retry', 'server error', undefined],
    ['slack', answer(200, 'ok'), 'success', undefined, undefined],
    ['slack', answer(400, 'invalid_payload'), 'permanent', 'Slack: invalid_payload', undefined],
    ['slack', answer(404, 'channel_not_found'), 'permanent', 'Slack: channel_not_found', undefined],
    [
      'slack',
      answer(410, 'channel_is_archived'),
      'permanent',
      "Slack: channel_is_archived (the webhook's channel is archived",
      undefined,
    ],
    ['slack', answer(403, 'action_prohibited'), 'permanent', 'Slack: action_prohibited', undefined],
    ['slack', answer(404, 'no_service'), 'permanent', 'Slack: no_service', undefined],
    ['slack', answer(429, 'rate_limited', {}, 30), 'retry', 'Slack: rate_limited', 30],
    ['slack', answer(500, 'rollup_error'), 'retry', 'Slack: rollup_error', undefined],
    ['slack', answer(400, '<html>bad</html>'), 'permanent', 'client error', undefined],
    ['datadog', answer(202, '{"status":"ok"}'), 'success', undefined, undefined],
    [
      'datadog',
      answer(403, '{"errors":["Forbidden"]}'),
      'permanent',
      'Datadog: Forbidden',
      undefined,
    ],
    [
      'datadog',
      answer(429, '{"errors":["Rate limit exceeded"]}', { 'x-ratelimit-reset': '7' }),
      'retry',
      'Datadog: Rate limit exceeded',
      7,
    ],
    [
      'datadog',
      answer(429, '', { 'x-ratelimit-reset': '7', 'retry-after': '20' }, 20),
      'retry',
      'HTTP 429',
      20,
    ],
    [
      'opsgenie',
      answer(202, '{"result":"Request will be processed"}'),
      'success',
      undefined,
      undefined,
    ],
    [
      'opsgenie',
      answer(422, '{"message":"Request body is not processable. Please check the errors."}'),
      'permanent',
      'Opsgenie: Request body is not processable',
      undefined,
    ],
    [
      'opsgenie',
      answer(429, '{"message":"Too many requests"}'),
      'retry',
      'Opsgenie: Too many requests',
      undefined,
    ],
    ['msteams', answer(202), 'success', undefined, undefined],
    [
      'msteams',
      answer(
        200,
        'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0',
      ),
      'retry',
      'Teams says: Webhook message delivery failed',
      undefined,
    ],
    [
      'msteams',
      answer(
        200,
        'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0',
      ),
      'permanent',
      'HTTP error 413',
      undefined,
    ],
    [
      'msteams',
      answer(400, '{"error":{"code":"InvalidRequestContent","message":"Bad card"}}'),
      'permanent',
      'Teams: Bad card',
      undefined,
    ],
    ['discord', answer(204), 'success', undefined, undefined],
    [
      'discord',
      answer(
        429,
        '{"message":"You are being rate limited.","retry_after":4.5,"global":false}',
        { 'x-ratelimit-reset-after': '4.500', 'retry-after': '9' },
        9,
      ),
      'retry',
      'Discord: You are being rate limited.',
      5,
    ],
    [
      'discord',
      answer(429, '{"message":"You are being rate limited.","retry_after":3.2,"global":true}'),
      'retry',
      'rate limited',
      4,
    ],
    [
      'discord',
      answer(429, '{"message":"You are being rate limited.","retry_after":3.2}', {}, 6),
      'retry',
      'rate limited',
      6,
    ],
    [
      'discord',
      answer(404, '{"message":"Unknown Webhook","code":10015}'),
      'permanent',
      'Discord: Unknown Webhook (code 10015)',
      undefined,
    ],
    ['generic', answer(429, 'slow down', {}, 12), 'retry', 'HTTP 429', 12],
    [undefined, answer(410, 'channel_is_archived'), 'permanent', 'client error', undefined],
  ] as const)('%s: %j → %s', async (preset, result, outcome, reason, retryAfter) => {
    // Act
    const verdict = await classify(preset, result);

    // Assess
    expect(verdict.outcome).toBe(outcome);
    if (reason !== undefined && verdict.outcome !== 'success') {
      expect(verdict.reason).toContain(reason);
    }
    expect(verdict.retryAfterSeconds).toBe(retryAfter);
  });

  it('reads Slack error codes for an export without a preset sending to a Slack host', async () => {
    // Act
    const verdict = await classify(
      undefined,
      answer(404, 'channel_not_found'),
      'https://hooks.slack.com/services/T0/B0/x',
    );

    // Assess
    expect(verdict).toEqual({
      outcome: 'permanent',
      reason:
        "HTTP 404 from receiver (client error); Slack: channel_not_found (the webhook's channel no longer exists; create a new webhook)",
    });
  });

  it('keeps the generic verdict when a destination body is cut or not what it expects', async () => {
    // Prepare
    const truncated = { ...answer(400, '{"errors":["x"'), bodyTruncated: true };

    // Act
    const pagerduty = await classify('pagerduty', truncated);
    const discord = await classify('discord', answer(429, '{"retry_after":"soon"}'));

    // Assess
    expect(pagerduty).toEqual({
      outcome: 'permanent',
      reason: 'HTTP 400 from receiver (client error)',
    });
    expect(discord).toEqual({ outcome: 'retry', reason: 'HTTP 429 from receiver (rate limited)' });
  });

  it('quotes at most 200 characters of a destination message, on one line', async () => {
    // Prepare
    const long = JSON.stringify({ message: `bad\n${'x'.repeat(1000)}` });

    // Act
    const verdict = await classify('opsgenie', answer(422, long));

    // Assess
    expect(verdict.outcome).toBe('permanent');
    const quoted = verdict.outcome === 'permanent' ? verdict.reason.split('Opsgenie: ')[1] : '';
    expect(quoted).toHaveLength(200);
    expect(quoted).not.toContain('\n');
  });
});
