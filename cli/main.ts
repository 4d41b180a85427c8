/**
 * The `tappass-webhooks` CLI: one entry point, one file per command. This file only wires
 * the commands and turns usage errors into exit code 2 (see `./io.ts`).
 *
 * @example
 * // npm run validate -- --config config/examples/routing.yaml
 * // tsx cli/main.ts schema --write
 */
import { Command, CommanderError } from 'commander';
import { dlqCommand } from './dlq.js';
import { EXIT_CODES } from './io.js';
import { pushCommand } from './push.js';
import { renderCommand } from './render.js';
import { schemaCommand } from './schema.js';
import { startCommand } from './start.js';
import { testExportCommand } from './testExport.js';
import { validateCommand } from './validate.js';

const program = new Command('tappass-webhooks')
  .description('Ship TapPass audit events to webhooks: config, tests and operations')
  .showHelpAfterError()
  // Throw instead of exiting, so usage errors get our exit code rather than commander's 1.
  .exitOverride();

/** Gives a command and its subcommands (`dlq list`, ...) the program's settings. */
const inherit = (command: Command, parent: Command): Command => {
  command.copyInheritedSettings(parent);
  for (const subcommand of command.commands) inherit(subcommand, command);
  return command;
};

for (const command of [
  validateCommand(),
  schemaCommand(),
  startCommand(),
  testExportCommand(),
  renderCommand(),
  pushCommand(),
  dlqCommand(),
]) {
  program.addCommand(inherit(command, program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version "errors" carry exit code 0; everything else is a usage error.
  process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
}
