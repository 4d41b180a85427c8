/**
 * The `webhook.preset` key of an export: which destination preset supplies the body template,
 * headers and response classifier (see `shared/request/presets/`).
 */
import { z } from 'zod';
import { PRESET_NAMES } from '../request/presets/names.js';
import { PRESETS } from '../request/presets/registry.js';
import { suggest } from './suggest.js';
import { describeValue, orList } from './wording.js';

/** `pagerduty (PagerDuty Events API v2, needs ${PD_ROUTING_KEY})`, for the description. */
const describePreset = (name: (typeof PRESET_NAMES)[number]): string => {
  const preset = PRESETS[name];
  const needs =
    preset.variables.length === 0
      ? ''
      : `, needs ${preset.variables.map((variable) => `\${${variable}}`).join(', ')}`;
  return `${name} (${preset.title}${needs})`;
};

const PresetSchema = z
  .enum(PRESET_NAMES, {
    error: (issue) => {
      if (issue.code !== 'invalid_value') return undefined;
      const guess =
        typeof issue.input === 'string' ? suggest(issue.input, PRESET_NAMES) : undefined;
      const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
      return `${describeValue(issue.input)} is not a preset${hint}; use ${orList(PRESET_NAMES)}`;
    },
  })
  .optional()
  .meta({
    title: 'Destination preset',
    description: `Fills in what the destination expects: the body template, headers and how its answers are read. Your own body_template and headers win over the preset's. One of: ${PRESET_NAMES.map(describePreset).join('; ')}. Absent: the event as JSON, except that a URL resolving to hooks.slack.com gets the slack preset; write generic to always send the event as JSON.`,
    examples: ['pagerduty', 'slack'],
  });

export { PresetSchema };
