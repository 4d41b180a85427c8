/**
 * The names of the destination presets, in one dependency-free module so the config types, the
 * schema and the preset registry can all import them without a cycle.
 */

/** Every `webhook.preset` a config may name. `generic` is the event as JSON, as with no preset. */
const PRESET_NAMES = [
  'pagerduty',
  'slack',
  'datadog',
  'opsgenie',
  'msteams',
  'discord',
  'generic',
] as const;

type PresetName = (typeof PRESET_NAMES)[number];

/** Whether a value is a preset name (for raw config data, before the schema has run). */
const isPresetName = (value: unknown): value is PresetName =>
  typeof value === 'string' && (PRESET_NAMES as readonly string[]).includes(value);

export type { PresetName };
export { isPresetName, PRESET_NAMES };
