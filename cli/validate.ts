/**
 * `validate`: the config linter. Prints a summary of every export, or every error of the
 * file; warns about `${VAR}` names missing from this environment (they are resolved at run
 * time, from SSM Parameter Store when deployed) without ever printing a value.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { formatIssue } from '../shared/config/errors.js';
import { configVariableNames, parseConfig } from '../shared/config/load.js';
import type { ExportConfig, ObservabilityConfig } from '../shared/config/types.js';
import { configWarningLines } from '../shared/config/warnings.js';
import { describeBody, effectiveFormat } from '../shared/request/presets/advice.js';
import { exportWithPreset } from '../shared/request/presets/index.js';
import { type CliOutput, consoleOutput, EXIT_CODES, type ExitCode } from './io.js';

/** The config `npm run validate` checks when no `--config` is given. */
const DEFAULT_CONFIG_PATH = 'config/observability.yaml';

/** Options of {@link runValidate}. */
interface ValidateOptions {
  /** The config file, as the user wrote it (messages name it that way). */
  readonly config: string;
  /** Where variables are looked up; only presence is checked, values are never read out. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The host an export sends to, as written in the config: `events.pagerduty.com`, or
 * `${SLACK_WEBHOOK_URL}` when the host comes from a variable. Never a resolved value, and
 * never the path (webhook paths often carry a token).
 *
 * @example
 * destinationHost('https://hooks.example.com/services/T0/B0/x'); // 'hooks.example.com'
 * destinationHost('${SLACK_WEBHOOK_URL}'); // '${SLACK_WEBHOOK_URL}'
 */
const destinationHost = (url: string): string => {
  const leadingReference = /^\$\{[^}]*\}/.exec(url);
  if (leadingReference) return leadingReference[0];
  const afterScheme = url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const authority = afterScheme.split(/[/?#]/)[0] ?? '';
  // Drop userinfo (`user:password@`): it may be a credential.
  return authority.slice(authority.lastIndexOf('@') + 1);
};

const describeFilters = (exp: ExportConfig): string => {
  const parts: string[] = [];
  if (exp.filters.event_kinds) parts.push(`event_kinds ${exp.filters.event_kinds.join(', ')}`);
  if (exp.filters.min_severity) parts.push(`min_severity ${exp.filters.min_severity}`);
  return parts.length === 0 ? 'every event' : parts.join('; ');
};

/** The summary lines of one export. */
const summarizeExport = (exp: ExportConfig, variables: readonly string[]): string[] => {
  // With a preset's headers: what is sent, not only what is written.
  const headers = Object.keys(exportWithPreset(exp).webhook.headers);
  return [
    exp.name,
    `  destination  ${exp.webhook.method} ${destinationHost(exp.webhook.url)} (${exp.destination}, timeout ${exp.webhook.timeout_seconds} s)`,
    `  body         ${describeBody(exp)}, format ${effectiveFormat(exp)}`,
    `  headers      ${headers.length === 0 ? 'none' : headers.join(', ')}`,
    `  filters      ${describeFilters(exp)}`,
    `  retry        ${exp.retry.max_attempts} attempts, backoff ${exp.retry.backoff_seconds.join(', ')} s`,
    `  delivery     batch size ${exp.delivery.batch_size}, max concurrency ${exp.delivery.max_concurrency}`,
    `  variables    ${variables.length === 0 ? 'none' : variables.map((name) => `\${${name}}`).join(', ')}`,
  ];
};

/** One warning per variable missing from the environment, naming the exports that need it. */
const missingVariableWarnings = (
  config: ObservabilityConfig,
  env: Readonly<Record<string, string | undefined>>,
): string[] => {
  const neededBy = new Map<string, string[]>();
  for (const [exportName, names] of configVariableNames(config)) {
    for (const name of names) neededBy.set(name, [...(neededBy.get(name) ?? []), exportName]);
  }
  return [...neededBy]
    .filter(([name]) => !Object.hasOwn(env, name) || env[name] === undefined || env[name] === '')
    .map(
      ([name, exports]) =>
        `WARNING: \${${name}} is not set in this environment (needed by ${exports.join(', ')}); it is resolved at run time, so set it before sending`,
    );
};

/**
 * Validates a config file and prints the summary (exit 0) or every error (exit 2).
 *
 * @example
 * process.exitCode = await runValidate({ config: 'config/observability.yaml' }, consoleOutput);
 */
const runValidate = async (options: ValidateOptions, output: CliOutput): Promise<ExitCode> => {
  const file = options.config;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    output.err(
      `${file}: cannot read the config file (${code === 'ENOENT' ? 'no such file' : code})`,
    );
    return EXIT_CODES.usage;
  }

  const { config, issues, warnings } = await parseConfig(text, file);
  if (config === undefined) {
    for (const issue of issues) output.err(formatIssue(issue));
    for (const warning of warnings) output.err(`WARNING: ${formatIssue(warning)}`);
    output.err(
      `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'}; the config is invalid`,
    );
    return EXIT_CODES.usage;
  }

  const variables = configVariableNames(config);
  const count = config.exports.length;
  output.out(`${file}: valid, ${count} export${count === 1 ? '' : 's'}`);
  for (const exp of config.exports) {
    output.out('');
    for (const line of summarizeExport(exp, variables.get(exp.name) ?? [])) output.out(line);
  }
  // The same lines `cdk synth` prints (infra/synthReport.ts).
  for (const line of configWarningLines(config, warnings)) output.err(line);
  for (const line of missingVariableWarnings(config, options.env ?? process.env)) output.err(line);
  return EXIT_CODES.ok;
};

/** The `validate` command. */
const validateCommand = (): Command =>
  new Command('validate')
    .description(
      'check a config file: print a summary of its exports (exit 0) or every error (exit 2)',
    )
    .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_PATH)
    .action(async (options: { config: string }) => {
      process.exitCode = await runValidate({ config: options.config }, consoleOutput);
    });

export type { ValidateOptions };
export { DEFAULT_CONFIG_PATH, destinationHost, runValidate, validateCommand };
