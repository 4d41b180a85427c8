/**
 * The `tappass-webhooks` CLI: one entry point, one file per command. This file only wires
 * the commands and turns usage errors into exit code 2 (see `./io.ts`).
 *
 * @example
 * // tappass validate --config config/examples/routing.yaml   (bin/tappass.js)
 * // npm run validate -- --config config/examples/routing.yaml
 * // tsx cli/main.ts schema --write
 */
import { Command, CommanderError } from 'commander';
import { commandsFor } from './commands.js';
import { EXIT_CODES } from './io.js';

const program = new Command('tappass')
  .description('Ship TapPass audit events to webhooks: config, tests and operations')
  // A usage error is one line that says where the help is, not the whole help text.
  .configureOutput({
    outputError: (message, write) => write(`${message.trimEnd()} (see --help)\n`),
  })
  // Throw instead of exiting, so usage errors get our exit code rather than commander's 1.
  .exitOverride();

/** Gives a command and its subcommands (`dlq list`, ...) the program's settings. */
const inherit = (command: Command, parent: Command): Command => {
  command.copyInheritedSettings(parent);
  for (const subcommand of command.commands) inherit(subcommand, command);
  return command;
};

// Only the command that runs is imported (./commands.ts): the CLI answers at once.
for (const command of await commandsFor(process.argv.slice(2))) {
  program.addCommand(inherit(command, program));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version "errors" carry exit code 0; everything else is a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  } else {
    // A failure no command foresaw: still one line and a documented code, never a stack
    // trace (the commands describe the failures they expect themselves).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split('\n', 1)[0]}\n`);
    process.exitCode = EXIT_CODES.failed;
  }
}
