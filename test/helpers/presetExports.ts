/**
 * Factories for the preset tests: an export with a preset (validated through the real config
 * loader, so every default is applied), the variables each preset needs, and events that
 * stress templates (long fields, characters JSON, Slack or Discord treat specially).
 */
import { stringify } from 'yaml';
import type { ExportConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { auditEvent, configFromYaml } from './pipeline.js';

/** Values for every variable a preset needs, in the shape each destination checks. */
const PRESET_VARIABLES = {
  PD_ROUTING_KEY: 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32',
  DD_API_KEY: '0123456789abcdef0123456789abcdef',
  OPSGENIE_API_KEY: 'eb243592-faa2-4ba2-a551-1afdf565c889',
} as const;

/** The `webhook` map of a test export, as a user writes it. */
interface WebhookSpec {
  readonly url: string;
  readonly preset?: string;
  readonly body_template?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: string;
}

/**
 * One export, through the config loader.
 *
 * @example
 * const exp = await presetExport({ url: receiver.url, preset: 'pagerduty' });
 */
const presetExport = async (
  webhook: WebhookSpec,
  extra: Readonly<Record<string, unknown>> = {},
): Promise<ExportConfig> => {
  const config = await configFromYaml(
    stringify({ exports: [{ name: 'preset-test', destination: 'webhook', webhook, ...extra }] }),
  );
  const [exportConfig] = config.exports;
  if (exportConfig === undefined) throw new Error('the test config has no export');
  return exportConfig;
};

/** A string of `length` UTF-16 code units made of `piece` repeated (cut to length). */
const longString = (piece: string, length: number): string =>
  piece.repeat(Math.ceil(length / piece.length)).slice(0, length);

/** Pieces that need escaping somewhere: JSON, Slack mrkdwn, Discord mentions, Liquid. */
const NASTY =
  '"quoted" \\back\\slash\nnew line\ttab \u0000\u001f\u2028\u2029 <!channel> <@U123> @everyone & <https://evil.example|click> {{ x }} {% raw %} ${PD_ROUTING_KEY} 😀 👨‍👩‍👧 \ud800 </script>';

/**
 * Events every preset must turn into an accepted request: plain ones at every severity, long
 * fields (beyond every destination's limits), nasty strings, and one without an agent id.
 */
const stressEvents = (): AuditEvent[] => [
  auditEvent({ severity: 'critical' }),
  auditEvent({ severity: 'error', event_kind: 'auth_fail' }),
  auditEvent({ severity: 'warn', event_kind: 'detection' }),
  auditEvent({ severity: 'info' }),
  auditEvent({ severity: 'debug' }),
  auditEvent({ agent_id: undefined }),
  auditEvent({
    event_kind: longString('policy_block_', 5000),
    agent_id: longString('agent-😀-', 5000),
    policy_result: { verdict: 'block', rule: longString('r', 3000) },
  }),
  auditEvent({
    event_kind: NASTY,
    agent_id: NASTY,
    policy_result: { verdict: NASTY, rule: NASTY },
    details: { note: NASTY, list: [NASTY, 1, null, true] },
  }),
  auditEvent({ audit_id: longString('ae_', 600), timestamp: '2026-04-17T12:15:03.123456+02:00' }),
];

export type { WebhookSpec };
export { longString, NASTY, PRESET_VARIABLES, presetExport, stressEvents };
