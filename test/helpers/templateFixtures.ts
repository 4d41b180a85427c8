/**
 * Fixtures for template tests: the seed's PagerDuty template exactly as the YAML block scalar
 * (`body_template: |`) yields it, and an audit event factory.
 */
import type { BodyFormat, ExportConfig } from '../../shared/config/types.js';
import { DEFAULTS } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';

/** The seed's `pagerduty-alerts` body_template, verbatim (block scalar: trailing newline). */
const SEED_PAGERDUTY_TEMPLATE = `{
  "routing_key": "\${PD_ROUTING_KEY}",
  "event_action": "trigger",
  "payload": {
    "summary": "TapPass {{event_kind}} on {{agent_id}}",
    "severity": "{{severity}}",
    "source": "tappass",
    "custom_details": {{event_json}}
  }
}
`;

/** A valid audit event; `overrides` replace or add fields. */
const templateEvent = (overrides: Record<string, unknown> = {}): AuditEvent => ({
  audit_id: 'ae_01JC0000000000000000000000',
  timestamp: '2026-04-17T10:15:03Z',
  event_kind: 'policy_block',
  severity: 'error',
  agent_id: 'support-bot',
  policy_result: { verdict: 'block', rule: 'no-pii', scores: [0.9, 0.1] },
  ...overrides,
});

/** An export with the given body template and format, every other key at its default. */
const exportWithTemplate = (
  name: string,
  template: string | undefined,
  format: BodyFormat = 'json',
): ExportConfig => ({
  name,
  destination: 'webhook',
  format,
  webhook: {
    url: 'https://events.pagerduty.com/v2/enqueue',
    method: DEFAULTS.method,
    headers: {},
    ...(template === undefined ? {} : { body_template: template }),
    timeout_seconds: DEFAULTS.timeoutSeconds,
  },
  filters: {},
  retry: { max_attempts: DEFAULTS.maxAttempts, backoff_seconds: DEFAULTS.backoffSeconds },
  delivery: { batch_size: DEFAULTS.batchSize, max_concurrency: DEFAULTS.maxConcurrency },
});

export { exportWithTemplate, SEED_PAGERDUTY_TEMPLATE, templateEvent };
