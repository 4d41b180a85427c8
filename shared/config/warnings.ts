/**
 * The warnings of a valid config as `validate` prints them, one line each: what the loader
 * found (`WARNING: <file>:<line>: ...`) and the destination presets' advice (a body the
 * receiver refuses, for example). `cdk synth` prints the same lines, so a deploy says what
 * `npm run validate` says (docs/deploying.md).
 */
import { presetAdvice } from '../request/presets/advice.js';
import { type ConfigIssue, formatIssue } from './errors.js';
import type { ObservabilityConfig } from './types.js';

/**
 * The lines, in the order `validate` prints them.
 *
 * @example
 * configWarningLines(config, warnings); // ['WARNING: export "pagerduty-auth": ...']
 */
const configWarningLines = (
  config: ObservabilityConfig,
  warnings: readonly ConfigIssue[],
): string[] => [
  ...warnings.map((warning) => `WARNING: ${formatIssue(warning)}`),
  ...config.exports.flatMap((exportConfig) => {
    const advice = presetAdvice(exportConfig);
    return advice === undefined ? [] : [`WARNING: ${advice}`];
  }),
];

export { configWarningLines };
