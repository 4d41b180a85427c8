/**
 * What `validate` says about an export's preset: the body line of its summary, and a warning
 * when the config alone cannot tell what will be sent, or when it sends raw JSON to a
 * destination that needs its own format. Never mentions a resolved value (there is none at
 * validation time: only what the config says).
 */
import type { ExportConfig } from '../../config/types.js';
import { detectedPreset, hostMatches, hostOf, PRESETS, presetFor } from './registry.js';
import type { Preset } from './types.js';

/** A URL that is one `${VAR}` and nothing else: host and path only known at send time. */
const BARE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** The preset whose public hosts include the export's literal URL host, if any. */
const presetOfHost = (url: string): Preset | undefined => {
  if (url.includes('${')) return undefined;
  const host = hostOf(url);
  if (host === undefined) return undefined;
  return Object.values(PRESETS).find((preset) => hostMatches(host, preset.hosts));
};

/**
 * How the export's body is made, for the summary's `body` line.
 *
 * @example
 * describeBody(exportConfig); // 'preset pagerduty (PagerDuty Events API v2)'
 */
const describeBody = (exportConfig: ExportConfig): string => {
  const { webhook } = exportConfig;
  const named = webhook.preset;
  if (webhook.body_template !== undefined) {
    return named === undefined || named === 'generic'
      ? 'body_template'
      : `body_template, with the ${named} preset's headers and answer handling`;
  }
  if (named === 'generic') return 'the event as JSON (preset generic)';
  if (named !== undefined) return `preset ${named} (${PRESETS[named].title})`;
  const fromConfig = detectedPreset(exportConfig);
  if (fromConfig !== undefined) {
    return `preset ${fromConfig.preset.name} (detected from the host ${fromConfig.host})`;
  }
  const detected = presetFor(exportConfig, webhook.url);
  if (detected !== undefined) {
    return `preset ${detected.name} (detected from the host ${hostOf(webhook.url)})`;
  }
  return BARE_REFERENCE.test(webhook.url)
    ? 'the event as JSON, or preset slack if the url resolves to a Slack host'
    : 'the event as JSON';
};

/**
 * The format the export's body really has: a preset's template is always JSON.
 *
 * @example
 * effectiveFormat(exportConfig); // 'json'
 */
const effectiveFormat = (exportConfig: ExportConfig): string =>
  exportConfig.webhook.body_template === undefined &&
  presetFor(exportConfig, exportConfig.webhook.url)?.bodyTemplate !== undefined
    ? 'json'
    : exportConfig.format;

/**
 * A warning about the export's preset, or `undefined` when there is nothing to say:
 * - the URL is a bare `${VAR}` and there is neither preset nor template: what is sent depends
 *   on the value (the slack preset for a Slack host, raw event JSON otherwise);
 * - the URL is a known destination's host (PagerDuty, Datadog, ...) but not the API its preset
 *   is detected from, so the raw event JSON it does not accept would be sent.
 *
 * @example
 * presetAdvice(exportConfig);
 * // 'slack-detections: the url is ${SLACK_WEBHOOK_URL} and there is no preset or body_template: ...'
 */
const presetAdvice = (exportConfig: ExportConfig): string | undefined => {
  const { webhook } = exportConfig;
  if (webhook.preset !== undefined || webhook.body_template !== undefined) return undefined;
  if (BARE_REFERENCE.test(webhook.url)) {
    return `${exportConfig.name}: the url is ${webhook.url} and there is no preset or body_template, so what is sent depends on its value: if it is a Slack incoming webhook (hooks.slack.com), the slack preset is detected from the host at send time and a Slack message is sent; otherwise the raw event JSON is sent. Set preset: slack, or preset: generic for raw JSON, to make it explicit`;
  }
  if (detectedPreset(exportConfig) !== undefined) return undefined;
  const known = presetOfHost(webhook.url);
  if (known === undefined || known.name === 'slack' || known.name === 'generic') return undefined;
  if (known.paths === undefined) {
    return `${exportConfig.name}: the url is the ${known.title} (${hostOf(webhook.url)}), but there is no preset or body_template, so the raw event JSON is sent, which it does not accept; add preset: ${known.name}`;
  }
  const paths = known.paths.join(', ');
  return `${exportConfig.name}: the url is on the host of the ${known.title} (${hostOf(webhook.url)}) but not its path ${paths}, and there is no preset or body_template, so the raw event JSON is sent, which it may not accept; add preset: ${known.name} if this is that API, or preset: generic to send the event as JSON`;
};

export { describeBody, effectiveFormat, hostMatches, presetAdvice };
