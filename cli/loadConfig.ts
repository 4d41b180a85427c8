/**
 * Loading the config for a command other than `validate`: the same errors as `validate`, one
 * per line on stderr, and `undefined` so the command exits 2 without running.
 */
import {
  ConfigError,
  ConfigValidationError,
  formatIssue,
  loadConfigFile,
} from '../shared/config/index.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import type { CliOutput } from './io.js';

/**
 * The validated config, or undefined after printing why not.
 *
 * @example
 * const config = await loadConfigForCommand('config/observability.yaml', consoleOutput);
 * if (!config) return EXIT_CODES.usage;
 */
const loadConfigForCommand = async (
  file: string,
  output: CliOutput,
): Promise<ObservabilityConfig | undefined> => {
  try {
    return await loadConfigFile(file, {
      onWarning: (warning) => output.err(`WARNING: ${formatIssue(warning)}`),
    });
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      for (const line of error.message.split('\n')) output.err(line);
      output.err(`run \`npm run validate -- --config ${file}\` for a summary once it is fixed`);
      return undefined;
    }
    if (error instanceof ConfigError) {
      // The file could not be read: one line, nothing to validate yet.
      output.err(error.message);
      return undefined;
    }
    throw error;
  }
};

export { loadConfigForCommand };
