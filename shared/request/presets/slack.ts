/**
 * Slack incoming webhooks (`https://hooks.slack.com/services/...`): a `text` summary (what
 * notifications show) and Block Kit blocks with the severity, agent, event kind and audit id.
 * Event values are escaped for mrkdwn (`&`, `<`, `>`), so event data cannot ping `<!channel>`
 * or smuggle a link.
 *
 * Answers: 200 `ok`; Slack's plain-text error codes (`invalid_payload`, `no_text`,
 * `channel_not_found`, `channel_is_archived`, `action_prohibited`, `no_service`, ...) come
 * with 400/403/404/410 and are permanent, quoted with a hint; 429 is retried after
 * `Retry-After`; 5xx (`rollup_error`) is retried.
 */
import { COMMON_ASSIGNS } from './liquid.js';
import { withDetail } from './responses.js';
import type { Preset, ResponseClassifier } from './types.js';

/** Slack's hosts for incoming webhooks: commercial Slack and GovSlack. */
const SLACK_HOSTS = ['hooks.slack.com', 'hooks.slack-gov.com'] as const;

/** Block Kit limits: 3000 characters of section text, 2000 per field. */
const SLACK_LIMITS = { text: 3000, sectionText: 3000, field: 2000 } as const;

// Field values leave room for their "*Label*\n" prefix within the 2000-character field limit.
const FIELD_VALUE = SLACK_LIMITS.field - 100;

const TEMPLATE = `${COMMON_ASSIGNS}{
  "text": "{{ tp_summary | slack_escape | truncate_chars: ${SLACK_LIMITS.text} }}",
  "blocks": [
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "*{{ tp_summary | slack_escape | truncate_chars: ${SLACK_LIMITS.sectionText - 2} }}*"
      }
    },
    {
      "type": "section",
      "fields": [
        { "type": "mrkdwn", "text": "*Severity*\\n{{ severity }}" },
        { "type": "mrkdwn", "text": "*Agent*\\n{{ tp_agent | slack_escape | truncate_chars: ${FIELD_VALUE} }}" },
        { "type": "mrkdwn", "text": "*Event kind*\\n{{ event_kind | slack_escape | truncate_chars: ${FIELD_VALUE} }}" },
        { "type": "mrkdwn", "text": "*Audit ID*\\n{{ audit_id | slack_escape | truncate_chars: ${FIELD_VALUE} }}" }
      ]
    },
    {
      "type": "context",
      "elements": [
        { "type": "mrkdwn", "text": "TapPass audit event at {{ tp_time | slack_escape | truncate_chars: 100 }}" }
      ]
    }
  ]
}
`;

/** What to do about each error code Slack documents for incoming webhooks. */
const SLACK_HINTS: Readonly<Record<string, string>> = {
  invalid_payload: 'the body is not a message Slack understands; check body_template',
  no_text: 'the message has no text; check body_template',
  invalid_blocks: 'a block is invalid or too long; check body_template',
  invalid_blocks_format: 'blocks must be an array of block objects; check body_template',
  too_many_attachments: 'at most 100 attachments per message',
  user_not_found: 'the user in the message does not exist',
  channel_not_found: "the webhook's channel no longer exists; create a new webhook",
  channel_is_archived: "the webhook's channel is archived; unarchive it or create a new webhook",
  action_prohibited: 'a workspace admin restricts posting there',
  posting_to_general_channel_denied: 'only admins may post in that channel',
  no_service: 'the webhook is disabled, revoked or invalid; create a new webhook',
  no_service_id: 'the webhook URL is incomplete; copy it again from Slack',
  no_team: 'the workspace of the webhook URL does not exist; copy it again from Slack',
  team_disabled: 'the workspace is disabled',
  invalid_token: 'the webhook URL is invalid or revoked; create a new webhook',
  rollup_error: 'a Slack server error',
};

/** Slack's errors are bare lower-case codes; anything else (HTML, long text) is not quoted. */
const SLACK_CODE = /^[a-z][a-z0-9_]{1,63}$/;

/** The verdict with Slack's error code and what to do about it in the reason. */
const classify: ResponseClassifier = (result, verdict) => {
  const code = result.bodySnippet.trim();
  if (!SLACK_CODE.test(code) || code === 'ok') return verdict;
  const hint = SLACK_HINTS[code];
  return withDetail(verdict, `Slack: ${code}${hint === undefined ? '' : ` (${hint})`}`);
};

/** The `slack` preset. */
const slack: Preset = {
  name: 'slack',
  title: 'Slack incoming webhook',
  bodyTemplate: TEMPLATE,
  headers: {},
  variables: [],
  hosts: SLACK_HOSTS,
  classify,
};

export { SLACK_HINTS, SLACK_HOSTS, SLACK_LIMITS, slack };
