/**
 * The exports of a config by name: how the delivery function, the local stack and the CLI
 * find the export a message names.
 */
import type { ExportConfig, ObservabilityConfig } from './types.js';

/**
 * @example
 * exportsByName(config).get('pagerduty-alerts');
 */
const exportsByName = (config: ObservabilityConfig): ReadonlyMap<string, ExportConfig> =>
  new Map(config.exports.map((exportConfig) => [exportConfig.name, exportConfig]));

export { exportsByName };
