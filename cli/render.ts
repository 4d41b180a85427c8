/**
 * `render`: a dry run. Prints the exact request an export would send for an event (method,
 * URL, headers, body) with every secret value masked, and sends nothing. A `${VAR}` missing
 * from the environment is rendered as a visible `<NAME>` with a warning, so a template can be
 * checked before its secrets exist on this machine.
 */
import { Command } from 'commander';
import { environmentWithDotEnv } from '../local/stack.js';
import type { AuditEvent } from '../shared/events/auditEvent.js';
import { syntheticEvent } from '../shared/events/syntheticEvent.js';
import { preparationFailureOf } from '../shared/pipeline/delivery/failures.js';
import { prepareRequest } from '../shared/request/prepareRequest.js';
import { maskSignatures, SECRET_PREFIX } from '../shared/request/signing.js';
import { exportVariableNames, findVariableReferences } from '../shared/request/variables.js';
import { maskHeaders, redactSecrets } from '../shared/secrets/masking.js';
import { readEventFile } from './eventFile.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';
import { loadConfigForCommand } from './loadConfig.js';
import { DEFAULT_CONFIG_PATH } from './validate.js';

/** Options of {@link runRender}. */
interface RenderOptions {
  readonly export: string;
  readonly config: string;
  /** The event to render; a synthetic one passing the export's filters when absent. */
  readonly event?: string;
  /** Where `${VAR}`s are read (a `.env` file adds to it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default '.env' */
  readonly dotEnvPath?: string;
}

/** What stands in for a variable that has no value here: visible, and never a real value. */
const placeholder = (name: string): string => `<${name}>`;

/**
 * What stands in for a signing secret that has no value here: a valid key (zero bytes), so
 * the request still renders; its signature is masked like every signature.
 */
const SIGNING_PLACEHOLDER = `${SECRET_PREFIX}${Buffer.alloc(32).toString('base64')}`;

/**
 * Renders and prints the request: `METHOD URL`, one `Name: value` line per header, a blank
 * line and the body, on stdout; warnings and the dry-run note on stderr.
 *
 * @example
 * process.exitCode = await runRender(
 *   { export: 'pagerduty-alerts', config: 'config/observability.yaml', event: 'event.json' },
 *   consoleOutput,
 * );
 */
const runRender = async (options: RenderOptions, output: CliOutput): Promise<ExitCode> => {
  const config = await loadConfigForCommand(options.config, output);
  if (!config) return EXIT_CODES.usage;
  const exportConfig = config.exports.find((exp) => exp.name === options.export);
  if (!exportConfig) {
    const known = config.exports.map((exp) => exp.name).join(', ');
    output.err(`${options.config}: no export named "${options.export}"; the config has: ${known}`);
    return EXIT_CODES.usage;
  }
  let event: AuditEvent;
  if (options.event === undefined) {
    event = syntheticEvent(exportConfig);
  } else {
    const read = await readEventFile(options.event, output);
    if (!read) return EXIT_CODES.usage;
    event = read;
  }

  const env = environmentWithDotEnv(options.env ?? process.env, options.dotEnvPath ?? '.env');
  const values: Record<string, string> = {};
  const secretValues: string[] = [];
  const signingVariables = new Set(
    (exportConfig.webhook.signing?.secrets ?? []).flatMap(findVariableReferences),
  );
  for (const name of exportVariableNames(exportConfig)) {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined || value === '') {
      const signing = signingVariables.has(name);
      values[name] = signing ? SIGNING_PLACEHOLDER : placeholder(name);
      const standIn = signing
        ? 'signed with a placeholder key'
        : `rendered as ${placeholder(name)}`;
      output.err(`WARNING: \${${name}} is not set in this environment or .env: ${standIn}`);
    } else {
      values[name] = value;
      secretValues.push(value);
    }
  }

  let request: Awaited<ReturnType<typeof prepareRequest>>;
  try {
    request = await prepareRequest(exportConfig, event, values);
  } catch (error) {
    // What would dead-letter the delivery (a template or signing-key error) is the user's to fix.
    const failure = preparationFailureOf(error);
    if (failure === undefined) throw error;
    output.err(failure.message);
    return EXIT_CODES.usage;
  }
  const source = options.event === undefined ? 'a synthetic event' : options.event;
  output.err(
    `dry run: export ${exportConfig.name}, ${source} (${event.audit_id}); secret values masked as ***, nothing sent`,
  );
  output.out(`${request.method} ${redactSecrets(request.url, secretValues)}`);
  // Signatures are derived from secrets: shown as `v1,***`.
  const headers = maskSignatures(maskHeaders(request.headers, secretValues));
  for (const [name, value] of Object.entries(headers)) {
    output.out(`${name}: ${value}`);
  }
  output.out('');
  output.out(redactSecrets(request.body, secretValues));
  return EXIT_CODES.ok;
};

/** The `render` command. */
const renderCommand = (): Command =>
  new Command('render')
    .description(
      'dry run: print the exact request an export sends for an event (secrets masked); sends nothing',
    )
    .requiredOption('-e, --export <name>', 'the export to render')
    .option('--event <file>', 'the audit event (JSON); default: a synthetic one for the export')
    .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_PATH)
    .action(async (options: { export: string; event?: string; config: string }) => {
      process.exitCode = await runRender(options, consoleOutput);
    });

export type { RenderOptions };
export { renderCommand, runRender };
