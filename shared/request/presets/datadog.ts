/**
 * Datadog Events API v1 (`POST https://api.datadoghq.com/api/v1/events`, or your site's API
 * host: `api.datadoghq.eu`, `api.us3.datadoghq.com`, ...), authenticated with `DD-API-KEY`.
 * v1 takes a flat event (title, text, alert_type, tags) with the same key on every site; the
 * event lands in the Event Explorer where monitors can match its tags.
 *
 * `date_happened` is left out on purpose: Datadog refuses events dated more than 18 hours back,
 * which would turn a late retry or a redriven dead letter into a permanent failure. The event
 * time is in the text instead.
 *
 * Answers: 202 accepted; 400 and 403 (bad key) permanent with Datadog's `errors` quoted; 429
 * retried after `X-RateLimit-Reset` (seconds until the limit resets) when there is no
 * `Retry-After`; 5xx retried.
 */
import { COMMON_ASSIGNS } from './liquid.js';
import {
  header,
  jsonBody,
  jsonField,
  messages,
  secondsFrom,
  withDetail,
  withWait,
} from './responses.js';
import type { Preset, ResponseClassifier } from './types.js';

/** Datadog shows the first 4000 characters of `text`; titles are kept to 100, tags to 200. */
const DATADOG_LIMITS = { title: 100, text: 4000, tag: 200, aggregationKey: 100 } as const;

const TEMPLATE = `${COMMON_ASSIGNS}{%- case severity -%}
{%- when "critical", "error" -%}{%- assign tp_alert_type = "error" -%}
{%- when "warn" -%}{%- assign tp_alert_type = "warning" -%}
{%- else -%}{%- assign tp_alert_type = "info" -%}
{%- endcase -%}
{%- assign tp_text = tp_summary | append: "\\n\\naudit_id: " | append: audit_id | append: "\\ntime: " | append: tp_time | append: "\\n\\n" | append: event_json -%}
{
  "title": "{{ tp_summary | truncate_chars: ${DATADOG_LIMITS.title} }}",
  "text": "{{ tp_text | truncate_chars: ${DATADOG_LIMITS.text} }}",
  "alert_type": "{{ tp_alert_type }}",
  "priority": "normal",
  "aggregation_key": "{{ audit_id | truncate_chars: ${DATADOG_LIMITS.aggregationKey}, "" }}",
  "tags": [
    "source:tappass",
    "severity:{{ severity }}",
    "event_kind:{{ event_kind | truncate_chars: ${DATADOG_LIMITS.tag - 11}, "" }}",
    "agent_id:{{ tp_agent | truncate_chars: ${DATADOG_LIMITS.tag - 9}, "" }}"
  ]
}
`;

/** Quotes Datadog's `{"errors": [...]}` and honours `X-RateLimit-Reset` on a 429. */
const classify: ResponseClassifier = (result, verdict) => {
  const errors = messages(jsonField(jsonBody(result), 'errors'));
  const detailed = withDetail(verdict, errors === undefined ? undefined : `Datadog: ${errors}`);
  if (result.status !== 429 || verdict.retryAfterSeconds !== undefined) return detailed;
  return withWait(detailed, secondsFrom(header(result, 'x-ratelimit-reset')));
};

/** The `datadog` preset. */
const datadog: Preset = {
  name: 'datadog',
  title: 'Datadog Events API v1',
  bodyTemplate: TEMPLATE,
  headers: { 'DD-API-KEY': '${DD_API_KEY}' },
  variables: ['DD_API_KEY'],
  hosts: [
    'api.datadoghq.com',
    'api.datadoghq.eu',
    'api.us3.datadoghq.com',
    'api.us5.datadoghq.com',
    'api.ap1.datadoghq.com',
    'api.ap2.datadoghq.com',
    'api.ddog-gov.com',
    'api.us2.ddog-gov.com',
  ],
  paths: ['/api/v1/events'],
  classify,
};

export { DATADOG_LIMITS, datadog };
