/**
 * Opsgenie Alert API (`POST https://api.opsgenie.com/v2/alerts`, `api.eu.opsgenie.com` for EU
 * accounts), authenticated with an API integration key (`Authorization: GenieKey ...`). The
 * alias is the audit id, so a redelivered event is de-duplicated into the same alert.
 *
 * Opsgenie processes alerts asynchronously: 202 means "request will be processed", not that
 * the alert exists. Answers: 202 accepted; 400/401/403/422 permanent with Opsgenie's `message`
 * quoted; 429 and 5xx retried.
 */
import { COMMON_ASSIGNS } from './liquid.js';
import { jsonBody, jsonField, messages, withDetail } from './responses.js';
import type { Preset, ResponseClassifier } from './types.js';

/**
 * Opsgenie's field limits: message 130 characters, alias 512, description 15000, entity 512,
 * source 100, tags 50 characters each; details 8000 characters in all.
 */
const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  entity: 512,
  tag: 50,
  detail: 1_000,
} as const;

const TEMPLATE = `${COMMON_ASSIGNS}{%- case severity -%}
{%- when "critical" -%}{%- assign tp_priority = "P1" -%}
{%- when "error" -%}{%- assign tp_priority = "P2" -%}
{%- when "warn" -%}{%- assign tp_priority = "P3" -%}
{%- when "info" -%}{%- assign tp_priority = "P4" -%}
{%- else -%}{%- assign tp_priority = "P5" -%}
{%- endcase -%}
{%- assign tp_description = tp_summary | append: "\\n\\n" | append: event_json -%}
{
  "message": "{{ tp_summary | truncate_chars: ${OPSGENIE_LIMITS.message} }}",
  "alias": "{{ audit_id | truncate_chars: ${OPSGENIE_LIMITS.alias}, "" }}",
  "description": "{{ tp_description | truncate_chars: ${OPSGENIE_LIMITS.description} }}",
  "priority": "{{ tp_priority }}",
  "source": "TapPass",
  "entity": "{{ tp_agent | truncate_chars: ${OPSGENIE_LIMITS.entity} }}",
  "tags": [
    "tappass",
    "severity:{{ severity }}",
    "{{ event_kind | truncate_chars: ${OPSGENIE_LIMITS.tag}, "" }}"
  ],
  "details": {
    "audit_id": "{{ audit_id | truncate_chars: ${OPSGENIE_LIMITS.detail} }}",
    "event_kind": "{{ event_kind | truncate_chars: ${OPSGENIE_LIMITS.detail} }}",
    "severity": "{{ severity }}",
    "agent_id": "{{ tp_agent | truncate_chars: ${OPSGENIE_LIMITS.detail} }}",
    "timestamp": "{{ tp_time }}"
  }
}
`;

/** Quotes Opsgenie's `{"message": "...", "errors": {...}}` in the reason. */
const classify: ResponseClassifier = (result, verdict) => {
  const message = messages(jsonField(jsonBody(result), 'message'));
  return withDetail(verdict, message === undefined ? undefined : `Opsgenie: ${message}`);
};

/** The `opsgenie` preset. */
const opsgenie: Preset = {
  name: 'opsgenie',
  title: 'Opsgenie Alert API',
  bodyTemplate: TEMPLATE,
  headers: { Authorization: 'GenieKey ${OPSGENIE_API_KEY}' },
  variables: ['OPSGENIE_API_KEY'],
  hosts: ['api.opsgenie.com', 'api.eu.opsgenie.com'],
  paths: ['/v2/alerts'],
  classify,
};

export { OPSGENIE_LIMITS, opsgenie };
