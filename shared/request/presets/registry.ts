/**
 * The destination presets (`webhook.preset`): the registry, the Slack detection by URL host,
 * and the export as the preset completes it.
 *
 * A preset only fills what the export leaves out: an explicit `body_template` wins over the
 * preset's template, and an explicit header wins over the preset's header of the same name
 * (names compared ignoring case). `method` is the export's own (every preset uses POST, the
 * default).
 *
 * No preset named, two detections (`preset: generic` turns both off):
 * - from the config, as loaded: an export without `body_template` whose literal URL is a known
 *   destination's API (PagerDuty Events v2, Opsgenie alerts, Datadog events: each preset's
 *   `hosts` and `paths`) gets that preset. The URL is in the config, so the preset's variables
 *   (`${PD_ROUTING_KEY}`, ...) are known from the config alone and SSM parameters and IAM stay
 *   exact; the page's routing example (`url: https://events.pagerduty.com/v2/enqueue`, no
 *   template) pages PagerDuty as written.
 * - at send time: when the URL, as resolved, has a Slack incoming-webhook host, the `slack`
 *   preset applies, so `url: "${SLACK_WEBHOOK_URL}"` with no template sends a Slack message
 *   rather than raw JSON Slack would refuse. Only presets that need no `${VAR}` can be detected
 *   this late, since the variables an export needs must be known from its config alone.
 */
import type { ExportConfig } from '../../config/types.js';
import { datadog } from './datadog.js';
import { discord } from './discord.js';
import { generic } from './generic.js';
import { msteams } from './msteams.js';
import { isPresetName, type PresetName } from './names.js';
import { opsgenie } from './opsgenie.js';
import { pagerduty } from './pagerduty.js';
import { SLACK_HOSTS, slack } from './slack.js';
import type { Preset } from './types.js';

/** Every preset by name. */
const PRESETS: Readonly<Record<PresetName, Preset>> = {
  pagerduty,
  slack,
  datadog,
  opsgenie,
  msteams,
  discord,
  generic,
};

/** How presets are chosen at send time. Production uses the defaults. */
interface PresetOptions {
  /**
   * Hosts whose URLs get the `slack` preset when the export names no preset. Tests, which
   * cannot reach hooks.slack.com, pass a list with a local host name.
   * @default SLACK_HOSTS (hooks.slack.com, hooks.slack-gov.com)
   */
  readonly slackHosts?: readonly string[];
}

/** The host of a URL, lower case and without a trailing dot; `undefined` if it does not parse. */
const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return undefined;
  }
};

/**
 * The preset a resolved URL implies on its own: `slack` for a Slack incoming-webhook host.
 *
 * @example
 * detectPreset('https://hooks.slack.com/services/T0/B0/x')?.name; // 'slack'
 * detectPreset('https://example.com/hook'); // undefined
 */
const detectPreset = (url: string, options: PresetOptions = {}): Preset | undefined => {
  const host = hostOf(url);
  if (host === undefined) return undefined;
  const hosts = options.slackHosts ?? SLACK_HOSTS;
  return hosts.some((candidate) => candidate.toLowerCase() === host) ? slack : undefined;
};

/** Whether `host` is one of `hosts` (an entry starting with a dot matches any subdomain). */
const hostMatches = (host: string, hosts: readonly string[]): boolean =>
  hosts.some((candidate) =>
    candidate.startsWith('.') ? host.endsWith(candidate) : host === candidate,
  );

/** Presets a literal URL selects on its own: the API endpoint each one's template is made for. */
const DETECTED_FROM_CONFIG: readonly PresetName[] = ['pagerduty', 'opsgenie', 'datadog'];

/** A preset detected from the config, and the host it was detected from (for `validate`). */
interface DetectedPreset {
  readonly preset: Preset;
  readonly host: string;
}

/**
 * The preset an export's config implies: no `preset`, no `body_template`, and a literal URL
 * (no `${VAR}`) on a known destination's API, host and path (`https://events.pagerduty.com/v2/enqueue`).
 * Pure: the same answer when the config is loaded, validated, deployed and sent.
 *
 * @example
 * detectedPreset(pagerdutyAuth); // { preset: pagerduty, host: 'events.pagerduty.com' }
 */
const detectedPreset = (exportConfig: ExportConfig): DetectedPreset | undefined => {
  const { webhook } = exportConfig;
  if (webhook.preset !== undefined || webhook.body_template !== undefined) return undefined;
  if (webhook.url.includes('${')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(webhook.url);
  } catch {
    return undefined;
  }
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  const path = parsed.pathname.replace(/\/+$/, '');
  for (const name of DETECTED_FROM_CONFIG) {
    const preset = PRESETS[name];
    if (hostMatches(host, preset.hosts) && (preset.paths ?? []).includes(path)) {
      return { preset, host };
    }
  }
  return undefined;
};

/**
 * The preset of an export: the one it names, else the one its config implies
 * ({@link detectedPreset}), else the one its resolved URL implies (Slack; only known at send
 * time: without `url`, that detection does not run).
 *
 * @example
 * presetFor(exportConfig, request.url)?.name; // 'slack'
 */
const presetFor = (
  exportConfig: ExportConfig,
  url?: string,
  options?: PresetOptions,
): Preset | undefined => {
  const named = exportConfig.webhook.preset;
  if (named !== undefined) return isPresetName(named) ? PRESETS[named] : undefined;
  const fromConfig = detectedPreset(exportConfig);
  if (fromConfig !== undefined) return fromConfig.preset;
  return url === undefined ? undefined : detectPreset(url, options);
};

/** Preset headers the export does not set itself, then the export's own. */
const mergeHeaders = (
  fromPreset: Readonly<Record<string, string>>,
  own: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> => {
  const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  const kept = Object.entries(fromPreset).filter(([name]) => !taken.has(name.toLowerCase()));
  return kept.length === 0 ? own : { ...Object.fromEntries(kept), ...own };
};

/** The export completed by a preset; the same object when the preset adds nothing. */
const applyPreset = (exportConfig: ExportConfig, preset: Preset): ExportConfig => {
  const { webhook } = exportConfig;
  const template = webhook.body_template === undefined ? preset.bodyTemplate : undefined;
  const headers = mergeHeaders(preset.headers, webhook.headers);
  if (template === undefined && headers === webhook.headers) return exportConfig;
  return {
    ...exportConfig,
    // A preset's template is JSON; `format: text` only makes sense with one's own template.
    ...(template === undefined ? {} : { format: 'json' as const }),
    webhook: {
      ...webhook,
      headers,
      ...(template === undefined ? {} : { body_template: template }),
    },
  };
};

/** Completed exports, per export object and preset, so each is built (and compiled) once. */
const completed = new WeakMap<ExportConfig, Map<PresetName, ExportConfig>>();

/**
 * The export as its preset completes it (template, headers, format), ready for
 * `prepareRequest`; the export itself when there is no preset. Cached per export object.
 *
 * @param url the resolved URL, for the Slack detection; without it only a named preset or one
 *   detected from the config counts.
 * @example
 * const effective = exportWithPreset(exportConfig, resolvedUrl);
 * const body = await bodyForExport(effective).render(event, variables);
 */
const exportWithPreset = (
  exportConfig: ExportConfig,
  url?: string,
  options?: PresetOptions,
): ExportConfig => {
  const preset = presetFor(exportConfig, url, options);
  if (preset === undefined) return exportConfig;
  let byPreset = completed.get(exportConfig);
  if (byPreset === undefined) {
    byPreset = new Map();
    completed.set(exportConfig, byPreset);
  }
  let effective = byPreset.get(preset.name);
  if (effective === undefined) {
    effective = applyPreset(exportConfig, preset);
    byPreset.set(preset.name, effective);
  }
  return effective;
};

export type { DetectedPreset, PresetOptions };
export {
  DETECTED_FROM_CONFIG,
  detectedPreset,
  detectPreset,
  exportWithPreset,
  hostMatches,
  hostOf,
  PRESETS,
  presetFor,
  SLACK_HOSTS,
};
