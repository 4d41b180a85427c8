/**
 * Discord webhooks (`https://discord.com/api/webhooks/<id>/<token>`): the summary as `content`
 * plus an embed with the severity (as its colour), agent and audit id. `allowed_mentions` is
 * empty, so `@everyone` or `<@id>` in event data never pings anyone.
 *
 * Answers: 204 (or 200 with `?wait=true`) accepted; 400 (`Invalid Form Body`) and 404
 * (`Unknown Webhook`: deleted) permanent with Discord's message and code quoted; 429 retried
 * after the wait Discord gives: `X-RateLimit-Reset-After`, else `Retry-After`, else the body's
 * `retry_after` (seconds, a float; the headers come first since some API versions put
 * milliseconds in the body); 5xx retried.
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

/**
 * Discord's limits: content 2000 characters; embed title 256, field name 256, field value
 * 1024, 6000 characters over the whole embed.
 */
const DISCORD_LIMITS = { content: 2000, title: 256, fieldValue: 1024, embedTotal: 6000 } as const;

const TEMPLATE = `${COMMON_ASSIGNS}{%- case severity -%}
{%- when "critical" -%}{%- assign tp_color = 10038562 -%}
{%- when "error" -%}{%- assign tp_color = 15158332 -%}
{%- when "warn" -%}{%- assign tp_color = 15105570 -%}
{%- when "info" -%}{%- assign tp_color = 3447003 -%}
{%- else -%}{%- assign tp_color = 9807270 -%}
{%- endcase -%}
{
  "content": "{{ tp_summary | truncate_chars: ${DISCORD_LIMITS.content} }}",
  "allowed_mentions": { "parse": [] },
  "embeds": [
    {
      "title": "{{ event_kind | truncate_chars: ${DISCORD_LIMITS.title} }}",
      "color": {{ tp_color }},
      "fields": [
        { "name": "Severity", "value": "{{ severity }}", "inline": true },
        { "name": "Agent", "value": "{{ tp_agent | truncate_chars: ${DISCORD_LIMITS.fieldValue} }}", "inline": true },
        { "name": "Audit ID", "value": "{{ audit_id | truncate_chars: ${DISCORD_LIMITS.fieldValue} }}", "inline": false }
      ],
      "footer": { "text": "TapPass" },
      "timestamp": "{{ tp_time }}"
    }
  ]
}
`;

/** The wait Discord asks for, from the most reliable place that has it. */
const discordWait = (result: Parameters<ResponseClassifier>[0], body: unknown) =>
  secondsFrom(header(result, 'x-ratelimit-reset-after')) ??
  result.retryAfterSeconds ??
  secondsFrom(jsonField(body, 'retry_after'));

/** Quotes Discord's `{"message", "code"}` and honours its rate-limit waits. */
const classify: ResponseClassifier = (result, verdict) => {
  const body = jsonBody(result);
  const message = messages(jsonField(body, 'message'));
  const code = jsonField(body, 'code');
  const detail =
    message === undefined
      ? undefined
      : `Discord: ${message}${typeof code === 'number' ? ` (code ${code})` : ''}`;
  const detailed = withDetail(verdict, detail);
  return result.status === 429 ? withWait(detailed, discordWait(result, body)) : detailed;
};

/** The `discord` preset. */
const discord: Preset = {
  name: 'discord',
  title: 'Discord webhook',
  bodyTemplate: TEMPLATE,
  headers: {},
  variables: [],
  hosts: ['discord.com', 'discordapp.com', 'canary.discord.com', 'ptb.discord.com'],
  classify,
};

export { DISCORD_LIMITS, discord };
