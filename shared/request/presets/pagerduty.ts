/**
 * PagerDuty Events API v2 (`POST https://events.pagerduty.com/v2/enqueue`): one `trigger` per
 * audit event, de-duplicated by audit id, so a redelivered event updates the same alert.
 *
 * Answers: 202 accepted; 400 invalid event (permanent, PagerDuty's `errors` quoted in the
 * reason); 429 and 5xx retried (the generic table already says so).
 */

import { COMMON_ASSIGNS } from './liquid.js';
import { jsonBody, jsonField, messages, withDetail } from './responses.js';
import type { Preset, ResponseClassifier } from './types.js';

/** PagerDuty caps `payload.summary` at 1024 characters and `dedup_key` at 255. */
const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, source: 255, class: 255 } as const;

const TEMPLATE = `${COMMON_ASSIGNS}{%- case severity -%}
{%- when "critical" -%}{%- assign tp_severity = "critical" -%}
{%- when "error" -%}{%- assign tp_severity = "error" -%}
{%- when "warn" -%}{%- assign tp_severity = "warning" -%}
{%- else -%}{%- assign tp_severity = "info" -%}
{%- endcase -%}
{
  "routing_key": "\${PD_ROUTING_KEY}",
  "event_action": "trigger",
  "dedup_key": "{{ audit_id | truncate_chars: ${PAGERDUTY_LIMITS.dedupKey}, "" }}",
  "client": "TapPass",
  "payload": {
    "summary": "{{ tp_summary | truncate_chars: ${PAGERDUTY_LIMITS.summary} }}",
    "source": "{{ agent_id | default: "tappass" | truncate_chars: ${PAGERDUTY_LIMITS.source} }}",
    "severity": "{{ tp_severity }}",
    "timestamp": "{{ tp_time }}",
    "class": "{{ event_kind | truncate_chars: ${PAGERDUTY_LIMITS.class} }}",
    "group": "tappass",
    "custom_details": {{ event_json }}
  }
}
`;

/** Quotes PagerDuty's `{"status": "invalid event", "errors": [...]}` in the reason. */
const classify: ResponseClassifier = (result, verdict) => {
  const body = jsonBody(result);
  const errors = messages(jsonField(body, 'errors')) ?? messages(jsonField(body, 'message'));
  const status = messages(jsonField(body, 'status'));
  const detail =
    errors === undefined ? undefined : `PagerDuty: ${status ? `${status}: ` : ''}${errors}`;
  return withDetail(verdict, detail);
};

/** The `pagerduty` preset. */
const pagerduty: Preset = {
  name: 'pagerduty',
  title: 'PagerDuty Events API v2',
  bodyTemplate: TEMPLATE,
  headers: {},
  variables: ['PD_ROUTING_KEY'],
  hosts: ['events.pagerduty.com', 'events.eu.pagerduty.com'],
  paths: ['/v2/enqueue'],
  classify,
};

export { PAGERDUTY_LIMITS, pagerduty };
