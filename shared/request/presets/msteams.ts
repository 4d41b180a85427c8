/**
 * Microsoft Teams through a Workflows webhook (the "Send webhook alerts to a channel" template,
 * or any flow started by "When a Teams webhook request is received"): a message whose one
 * attachment is an Adaptive Card 1.4 with the summary and a fact set.
 *
 * Answers: 202 accepted (the flow runs afterwards); 4xx permanent with the flow's
 * `error.message` quoted; 429 retried after `Retry-After`; 5xx retried. The retired Office 365
 * connector URLs answered 200 with a failure text in the body
 * (`Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error
 * 429 ...`); such a body is read as the status it names, so it is never counted as delivered.
 */
import type { Verdict } from '../../transport/retry.js';
import { COMMON_ASSIGNS } from './liquid.js';
import { jsonBody, jsonField, messages, quote, withDetail } from './responses.js';
import type { Preset, ResponseClassifier } from './types.js';

/** Text kept per card field; a Teams message holds about 28 KB in all. */
const MSTEAMS_LIMITS = { title: 1000, fact: 1000 } as const;

const TEMPLATE = `${COMMON_ASSIGNS}{%- case severity -%}
{%- when "critical", "error" -%}{%- assign tp_color = "Attention" -%}
{%- when "warn" -%}{%- assign tp_color = "Warning" -%}
{%- else -%}{%- assign tp_color = "Default" -%}
{%- endcase -%}
{
  "type": "message",
  "attachments": [
    {
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": { "width": "Full" },
        "body": [
          {
            "type": "TextBlock",
            "text": "{{ tp_summary | truncate_chars: ${MSTEAMS_LIMITS.title} }}",
            "weight": "Bolder",
            "size": "Medium",
            "color": "{{ tp_color }}",
            "wrap": true
          },
          {
            "type": "FactSet",
            "facts": [
              { "title": "Severity", "value": "{{ severity }}" },
              { "title": "Event kind", "value": "{{ event_kind | truncate_chars: ${MSTEAMS_LIMITS.fact} }}" },
              { "title": "Agent", "value": "{{ tp_agent | truncate_chars: ${MSTEAMS_LIMITS.fact} }}" },
              { "title": "Audit ID", "value": "{{ audit_id | truncate_chars: ${MSTEAMS_LIMITS.fact} }}" },
              { "title": "Time", "value": "{{ tp_time }}" }
            ]
          }
        ]
      }
    }
  ]
}
`;

/** The body of a retired connector's failure, answered with status 200. */
const CONNECTOR_FAILURE = /^Webhook message delivery failed with error: .*?HTTP error (\d{3})/s;

/** A 2xx whose body says the message was not delivered: judged by the status it names. */
const connectorFailure = (body: string): Verdict | undefined => {
  const named = CONNECTOR_FAILURE.exec(body.trim())?.[1];
  if (named === undefined) return undefined;
  const status = Number(named);
  const retry = status === 408 || status === 429 || (status >= 500 && status !== 501);
  const reason = `HTTP 200 from receiver, but Teams says: ${quote(body)}`;
  return retry ? { outcome: 'retry', reason } : { outcome: 'permanent', reason };
};

/** Reads a retired connector's 200-with-failure, and quotes a flow's `error.message`. */
const classify: ResponseClassifier = (result, verdict) => {
  if (verdict.outcome === 'success') return connectorFailure(result.bodySnippet) ?? verdict;
  const error = jsonField(jsonBody(result), 'error');
  const message = messages(jsonField(error, 'message')) ?? messages(error);
  return withDetail(verdict, message === undefined ? undefined : `Teams: ${message}`);
};

/** The `msteams` preset. */
const msteams: Preset = {
  name: 'msteams',
  title: 'Microsoft Teams Workflows webhook (Adaptive Card)',
  bodyTemplate: TEMPLATE,
  headers: {},
  variables: [],
  // Matched by suffix (a leading dot). Only the retired connectors' host: Workflows URLs
  // (*.logic.azure.com, *.powerplatform.com) serve any flow, not only Teams.
  hosts: ['.webhook.office.com'],
  classify,
};

export { MSTEAMS_LIMITS, msteams };
