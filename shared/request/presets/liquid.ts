/**
 * Liquid shared by the preset templates. Templates cannot include one another (there is no file
 * system), so the shared part is prepended as text. It only assigns: tags are not touched by
 * the JSON escaping, and the values are escaped where the template outputs them.
 */

/**
 * Assigns `tp_agent` (the agent id, or `unknown agent`), `tp_summary` (one line:
 * `TapPass policy_block (error) on support-bot: rule no-pii`) and `tp_time` (the event time
 * in UTC, `2026-04-17T10:15:03.000Z`, which every destination parses).
 */
const COMMON_ASSIGNS = `{%- assign tp_agent = agent_id | default: "unknown agent" -%}
{%- assign tp_summary = "TapPass " | append: event_kind | append: " (" | append: severity | append: ") on " | append: tp_agent -%}
{%- if policy_result.rule -%}{%- assign tp_summary = tp_summary | append: ": rule " | append: policy_result.rule -%}{%- endif -%}
{%- assign tp_time = timestamp | date: "%Y-%m-%dT%H:%M:%S.%LZ" -%}
`;

export { COMMON_ASSIGNS };
