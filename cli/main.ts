/**
 * The `tappass-webhooks` CLI: one entry point, one file per command. This file only wires
 * the commands and turns usage errors into exit code 2 (see `./io.ts`).
 *
 * @example
 * // npm run validate -- --config config/examples/routing.yaml
 * // tsx cli/main.ts schema --write
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CODES } from './io.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

const program = new Command('tappass-webhooks')
  .description('Ship TapPass audit events to webhooks: config, tests and operations')
  .showHelpAfterError()
  // Throw instead of exiting, so usage errors get our exit code rather than commander's 1.
  .exitOverride();

for (const command of [validateCommand(), schemaCommand()]) {
  program.addCommand(command.copyInheritedSettings(program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version "errors" carry exit code 0; everything else is a usage error.
  process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
}
