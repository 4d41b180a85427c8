/**
 * Destination presets (`webhook.preset`): body template, headers and response classifier per
 * destination. See `registry.ts` for how a preset is chosen and applied, `classify.ts` for how
 * answers are read, and one file per destination for what it sends.
 */
export { classifyFor } from './classify.js';
export type { PresetName } from './names.js';
export { isPresetName, PRESET_NAMES } from './names.js';
export type { DetectedPreset, PresetOptions } from './registry.js';
export {
  DETECTED_FROM_CONFIG,
  detectedPreset,
  detectPreset,
  exportWithPreset,
  hostOf,
  PRESETS,
  presetFor,
  SLACK_HOSTS,
} from './registry.js';
export type { Preset, PresetVerdict, ResponseClassifier } from './types.js';
