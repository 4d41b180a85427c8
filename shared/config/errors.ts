/**
 * Config errors: one problem of a config file (`ConfigIssue`), its one-line form, and the
 * errors `loadConfigFile` throws.
 */

/** One problem of a config file, located in the file. Lines and columns are 1-based. */
interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Key path such as `exports[1].webhook.method`; empty for the whole file (syntax, empty file). */
  readonly path: string;
  /** What is wrong and what would be right. Never contains a resolved `${VAR}` value. */
  readonly message: string;
}

/**
 * One issue as one line, the way compilers print them, so editors and terminals link to it.
 *
 * @example
 * formatIssue(issue);
 * // 'config/observability.yaml:12:15 exports[1].webhook.method: "GET" is not a supported method; use POST, PUT or PATCH'
 */
const formatIssue = (issue: ConfigIssue): string => {
  const where = `${issue.file}:${issue.line}:${issue.col}`;
  return issue.path === ''
    ? `${where} ${issue.message}`
    : `${where} ${issue.path}: ${issue.message}`;
};

/** Base of every config error: the file could not be read, or is not a valid config. */
class ConfigError extends Error {
  /** The config file concerned. */
  public readonly file: string;

  public constructor(message: string, file: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.file = file;
  }
}

/** The file was read but is not a valid config; `issues` holds every problem, in file order. */
class ConfigValidationError extends ConfigError {
  public readonly issues: readonly ConfigIssue[];

  public constructor(file: string, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(issues.map(formatIssue).join('\n'), file, options);
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}

export type { ConfigIssue };
export { ConfigError, ConfigValidationError, formatIssue };
