/**
 * Errors of the secrets domain: `${VAR}` references that cannot be resolved, and failures of
 * the secret store itself.
 *
 * No message built here ever contains a resolved value: only variable names, parameter paths,
 * export names and error class names.
 */

/** Base class of every error raised while resolving `${VAR}` references. */
class SecretsError extends Error {
  /**
   * Whether trying again later may succeed without anyone changing anything. A delivery that
   * fails with a retryable secrets error must not spend the receiver's attempts.
   */
  readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = 'SecretsError';
    this.retryable = options?.retryable ?? false;
  }
}

/** What {@link MissingVariableError} needs to build its message. */
interface MissingVariableDetails {
  /** Every missing variable name, in the order the export references them. */
  readonly variables: readonly string[];
  /** The export that references them. */
  readonly exportName: string;
  /** How to fix it, given by the resolver, e.g. `export it in the environment or .env`. */
  readonly hint: string;
}

const listVariables = (variables: readonly string[]): string => {
  const refs = variables.map((name) => `\${${name}}`);
  if (refs.length <= 1) return refs.join('');
  return `${refs.slice(0, -1).join(', ')} and ${refs.at(-1)}`;
};

/**
 * An export references `${VAR}`s that have no value. Permanent until someone sets them.
 *
 * @example
 * throw new MissingVariableError({
 *   variables: ['PD_ROUTING_KEY'],
 *   exportName: 'pagerduty-alerts',
 *   hint: 'export it in the environment or .env',
 * });
 * // export "pagerduty-alerts" needs ${PD_ROUTING_KEY}, which is not set: export it in the environment or .env
 */
class MissingVariableError extends SecretsError {
  /** The first missing variable. */
  readonly variable: string;
  /** Every missing variable, the first one included. */
  readonly variables: readonly string[];
  readonly exportName: string;

  constructor(details: MissingVariableDetails, options?: ErrorOptions) {
    const verb = details.variables.length > 1 ? 'which are not set' : 'which is not set';
    super(
      `export "${details.exportName}" needs ${listVariables(details.variables)}, ${verb}: ${details.hint}`,
      options,
    );
    this.name = 'MissingVariableError';
    this.variable = details.variables[0] ?? '';
    this.variables = [...details.variables];
    this.exportName = details.exportName;
  }
}

/**
 * Our own secret store failed (SSM throttled, unreachable, access denied). Retryable, and not
 * the receiver's fault: the delivery must not count it as one of the receiver's attempts.
 * The SDK error is kept as `cause`; the message names the export and the error class only.
 */
class SecretStoreError extends SecretsError {
  readonly exportName: string;

  constructor(message: string, exportName: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true });
    this.name = 'SecretStoreError';
    this.exportName = exportName;
  }
}

export type { MissingVariableDetails };
export { MissingVariableError, SecretStoreError, SecretsError };
