/**
 * The CLI's commands, each with the one line the top-level help shows and a loader that
 * imports its module only when it runs: `tappass --help` or `tappass validate` never load the
 * local stack, the AWS SDK or the other commands.
 */
import { Command } from 'commander';

/** One command of the CLI. */
interface CommandEntry {
  /** The word that selects it: `tappass <name> …`. */
  readonly name: string;
  /** Its description, for the top-level help (a test keeps it equal to the command's own). */
  readonly summary: string;
  /** Imports the command's module and builds the command. */
  readonly load: () => Promise<Command>;
}

/**
 * `tappass observability test --export NAME`: the product page's spelling of `test-export`,
 * the same command (options, output, exit codes) under another name.
 */
const observabilityCommand = (testExport: Command): Command =>
  new Command('observability')
    .description('the product page\'s commands: "observability test" is test-export')
    .addCommand(testExport.name('test'));

/** Every command, in help order. */
const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'check a config file: print a summary of its exports (exit 0) or every error (exit 2)',
    load: async () => (await import('./validate.js')).validateCommand(),
  },
  {
    name: 'schema',
    summary: 'print the JSON Schema of observability.yaml (generated from the zod schema)',
    load: async () => (await import('./schema.js')).schemaCommand(),
  },
  {
    name: 'start',
    summary:
      'run the whole pipeline locally on an embedded SQS server; without --config, run the demo',
    load: async () => (await import('./start.js')).startCommand(),
  },
  {
    name: 'test-export',
    summary:
      'send one event to one export and print the request (secrets masked), the answer and the verdict',
    load: async () => (await import('./testExport.js')).testExportCommand(),
  },
  {
    name: 'observability',
    summary: 'the product page\'s commands: "observability test" is test-export',
    load: async () => observabilityCommand((await import('./testExport.js')).testExportCommand()),
  },
  {
    name: 'render',
    summary:
      'dry run: print the exact request an export sends for an event (secrets masked); sends nothing',
    load: async () => (await import('./render.js')).renderCommand(),
  },
  {
    name: 'push',
    summary: 'validate audit events and push them onto the ingest queue (local stack by default)',
    load: async () => (await import('./push.js')).pushCommand(),
  },
  {
    name: 'dlq',
    summary: "inspect and replay a stage's dead letters (the dead-letter archive, kept 14 days)",
    load: async () => (await import('./dlq.js')).dlqCommand(),
  },
];

/**
 * The commands for one command line: the one it names, loaded; the others as name and
 * description only (enough for the help and for "unknown command").
 *
 * @param args the arguments after `node main.js`.
 * @example
 * for (const command of await commandsFor(process.argv.slice(2))) program.addCommand(command);
 */
const commandsFor = async (args: readonly string[]): Promise<Command[]> => {
  const words = args.filter((arg) => !arg.startsWith('-'));
  // `tappass help validate` asks for the help of `validate`.
  const requested = words[0] === 'help' ? words[1] : words[0];
  return Promise.all(
    COMMANDS.map((entry) =>
      entry.name === requested
        ? entry.load()
        : Promise.resolve(new Command(entry.name).description(entry.summary)),
    ),
  );
};

export type { CommandEntry };
export { COMMANDS, commandsFor };
