/**
 * Loads `config/observability.yaml`: YAML with source positions, the schema, the cross-key
 * checks, and every problem of the file reported at once, each at its line and column.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { exportVariableNames } from '../request/variables.js';
import { checkConfig } from './checks.js';
import { ConfigError, type ConfigIssue, ConfigValidationError } from './errors.js';
import { configErrorMap, toConfigIssues } from './issues.js';
import { createLocator } from './positions.js';
import { ObservabilityConfigSchema } from './schema.js';
import type { ObservabilityConfig } from './types.js';

/** What {@link parseConfig} found: the config when the file is valid, and every problem. */
interface ConfigParseResult {
  /** Present exactly when `issues` is empty; every default applied, deeply frozen. */
  readonly config?: ObservabilityConfig;
  /** Errors, in file order. */
  readonly issues: readonly ConfigIssue[];
  /** Risky but valid settings, in file order. They never fail a file. */
  readonly warnings: readonly ConfigIssue[];
}

/** Options of {@link loadConfigFile}. */
interface LoadConfigOptions {
  /** Called once per warning; by default warnings are dropped. */
  readonly onWarning?: (warning: ConfigIssue) => void;
}

/** YAML aliases expand on read; a few are useful, thousands are a "billion laughs" attack. */
const MAX_ALIAS_COUNT = 100;

const EMPTY_FILE_MESSAGE =
  'the file is empty; it needs an "exports:" list with at least one export (see config/examples/)';

const byPosition = (a: ConfigIssue, b: ConfigIssue): number => a.line - b.line || a.col - b.col;

const sorted = (issues: readonly ConfigIssue[]): ConfigIssue[] => [...issues].sort(byPosition);

const yamlMessage = (error: YAMLError): string => {
  const message = error.message.replace(/\s+/g, ' ').trim();
  if (error.code === 'DUPLICATE_KEY') {
    return 'duplicate key: a key may appear only once in a map; remove or rename one';
  }
  return `YAML syntax error: ${message}`;
};

/** Config objects are shared by every module of a process; nothing may change them. */
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

/**
 * Parses and validates a config file's text. Pure: reads no file and no environment, so
 * `${VAR}` values are neither needed nor looked at.
 *
 * @param fileName how messages name the file, e.g. `config/observability.yaml`.
 * @example
 * const { config, issues, warnings } = await parseConfig(text, 'config/observability.yaml');
 * if (!config) for (const issue of issues) console.error(formatIssue(issue));
 */
const parseConfig = async (text: string, fileName: string): Promise<ConfigParseResult> => {
  const lineCounter = new LineCounter();
  // `merge: true`: YAML merge keys (`<<: *defaults`) share settings between exports.
  const doc = parseDocument(text, {
    lineCounter,
    merge: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const locate = createLocator({ doc, lineCounter, text });
  const atFileStart = (message: string): ConfigIssue => ({
    file: fileName,
    line: 1,
    col: 1,
    path: '',
    message,
  });
  const fromYaml = (error: YAMLError): ConfigIssue => ({
    file: fileName,
    ...locate.offset(error.pos[0]),
    path: '',
    message: yamlMessage(error),
  });

  const warnings: ConfigIssue[] = doc.warnings.map(fromYaml);
  if (doc.errors.length > 0) {
    return { issues: sorted(doc.errors.map(fromYaml)), warnings: sorted(warnings) };
  }
  if (doc.contents === null) return { issues: [atFileStart(EMPTY_FILE_MESSAGE)], warnings };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { issues: [atFileStart(`the YAML cannot be read: ${reason}`)], warnings };
  }

  const issues: ConfigIssue[] = [];
  const result = ObservabilityConfigSchema.safeParse(raw, { error: configErrorMap });
  if (!result.success) {
    issues.push(
      ...toConfigIssues(result.error.issues, {
        schema: ObservabilityConfigSchema,
        locate,
        file: fileName,
      }),
    );
  }
  await checkConfig(raw, { file: fileName, locate, issues, warnings });

  if (!result.success || issues.length > 0) {
    return { issues: sorted(issues), warnings: sorted(warnings) };
  }
  const config: ObservabilityConfig = deepFreeze(result.data);
  return { config, issues: [], warnings: sorted(warnings) };
};

/**
 * Reads and validates a config file.
 *
 * @throws ConfigError when the file cannot be read.
 * @throws ConfigValidationError with every problem of the file (message: one per line).
 * @example
 * const config = await loadConfigFile('config/observability.yaml');
 */
const loadConfigFile = async (
  path: string,
  options: LoadConfigOptions = {},
): Promise<ObservabilityConfig> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const reason = code === 'ENOENT' ? 'no such file' : code;
    throw new ConfigError(`cannot read config file ${path}: ${reason}`, path, { cause: error });
  }
  const { config, issues, warnings } = await parseConfig(text, path);
  for (const warning of warnings) options.onWarning?.(warning);
  if (config === undefined) throw new ConfigValidationError(path, issues);
  return config;
};

/**
 * The `${VAR}` names each export needs (url, header values, body template), by export name.
 *
 * @example
 * configVariableNames(config).get('pagerduty-alerts'); // ['PD_ROUTING_KEY']
 */
const configVariableNames = (config: ObservabilityConfig): Map<string, string[]> =>
  new Map(config.exports.map((exp) => [exp.name, exportVariableNames(exp)]));

export type { ConfigParseResult, LoadConfigOptions };
export { configVariableNames, loadConfigFile, parseConfig };
