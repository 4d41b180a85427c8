/**
 * Secret resolvers: turn the `${VAR}` names an export needs into values, at send time.
 * Environment variables locally and in tests; SSM Parameter Store (SecureString, decrypted,
 * batched, cached with a TTL) on AWS. Values are returned to the caller and never logged or
 * put in an error message here.
 */
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { MissingVariableError, SecretStoreError, SecretsError } from './errors.js';

/** Resolves `${VAR}` names to values for one export. */
interface SecretResolver {
  /**
   * Values for every name, keyed by name.
   *
   * @throws MissingVariableError when a name has no value (listing every missing name).
   * @throws SecretStoreError when the store itself fails (retryable, not the receiver's fault).
   */
  resolve(names: readonly string[], exportName: string): Promise<Record<string, string>>;
}

/**
 * Reads values from environment variables. An empty value counts as missing: an empty routing
 * key or URL is a misconfiguration, not a value (SSM cannot store one either).
 *
 * @example
 * const values = await new EnvSecretResolver().resolve(['PD_ROUTING_KEY'], 'pagerduty-alerts');
 */
class EnvSecretResolver implements SecretResolver {
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>> = process.env) {
    this.#env = env;
  }

  async resolve(names: readonly string[], exportName: string): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const value = Object.hasOwn(this.#env, name) ? this.#env[name] : undefined;
      if (value === undefined || value === '') missing.push(name);
      else values[name] = value;
    }
    if (missing.length > 0) {
      throw new MissingVariableError({
        variables: missing,
        exportName,
        hint: `export ${missing.length > 1 ? 'them' : 'it'} in the environment or .env`,
      });
    }
    return values;
  }
}

/** Options of {@link SsmSecretResolver}. */
interface SsmSecretResolverOptions {
  /** Created once per container at module scope, so tests can mock it. */
  readonly client: SSMClient;
  /** Path prefix of the parameters, e.g. `/tappass-webhooks/dev`; `${VAR}` is `<prefix>/VAR`. */
  readonly parameterPrefix: string;
  /**
   * How long a value is reused before SSM is asked again. Rotating a secret takes effect
   * within this delay.
   * @default 300
   */
  readonly ttlSeconds?: number;
  /** Clock in milliseconds, injectable for tests. @default Date.now */
  readonly now?: () => number;
  /**
   * Longest wait for one lookup, the client's own retries included. Past it the lookup fails
   * like any store failure (the delivery is deferred) and the next resolve asks again: a
   * lookup that never answers must not hold every later resolve of its names.
   * @default LOOKUP_TIMEOUT_MS
   */
  readonly lookupTimeoutMs?: number;
}

/**
 * Default bound of one lookup: the SSM client's own worst case (two tries of 1 s connect +
 * 2 s request, shared/awsClientSettings.ts) plus a second, so the client's timeouts act first
 * and this one catches a client built without them.
 */
const LOOKUP_TIMEOUT_MS = 8_000;

/** A lookup that did not answer within its bound. */
class SecretLookupTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`GetParameters did not answer within ${timeoutMs} ms`);
    this.name = 'SecretLookupTimeoutError';
  }
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `GetParameters` accepts at most 10 names per call. */
const SSM_BATCH_LIMIT = 10;

interface CachedValue {
  readonly value: string;
  readonly expiresAt: number;
}

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

/** The SDK error's class name (`ThrottlingException`), never its payload. */
const errorClass = (error: unknown): string =>
  error instanceof Error && error.name ? error.name : 'UnknownError';

/**
 * Reads SecureString parameters from SSM Parameter Store, decrypted, one batched
 * `GetParameters` call per 10 names not in the cache. Values are cached for `ttlSeconds`;
 * missing parameters are not cached, so creating one fixes the next delivery. Concurrent
 * resolves of the same names share one call (a cold container receives a whole batch at once).
 *
 * @example
 * const ssm = new SSMClient({}); // module scope: once per container
 * const resolver = new SsmSecretResolver({ client: ssm, parameterPrefix: '/tappass-webhooks/dev' });
 * const { PD_ROUTING_KEY } = await resolver.resolve(['PD_ROUTING_KEY'], 'pagerduty-alerts');
 */
class SsmSecretResolver implements SecretResolver {
  readonly #client: SSMClient;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #lookupTimeoutMs: number;
  readonly #cache = new Map<string, CachedValue>();
  readonly #inFlight = new Map<string, Promise<string | undefined>>();

  constructor(options: SsmSecretResolverOptions) {
    const prefix = options.parameterPrefix.replace(/\/+$/, '');
    if (!prefix.startsWith('/')) {
      throw new SecretsError(
        `SSM parameter prefix "${options.parameterPrefix}" must start with "/", e.g. /tappass-webhooks/dev`,
      );
    }
    const ttlSeconds = options.ttlSeconds ?? 300;
    if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) {
      throw new SecretsError(`ttlSeconds must be a number >= 0, got ${ttlSeconds}`);
    }
    this.#client = options.client;
    this.#prefix = prefix;
    this.#ttlMs = ttlSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? LOOKUP_TIMEOUT_MS;
  }

  /** The full parameter name of a variable, e.g. `/tappass-webhooks/dev/PD_ROUTING_KEY`. */
  parameterName(variable: string): string {
    return `${this.#prefix}/${variable}`;
  }

  async resolve(names: readonly string[], exportName: string): Promise<Record<string, string>> {
    const invalid = names.find((name) => !VARIABLE_NAME.test(name));
    if (invalid !== undefined) {
      // Names come from `${NAME}` references; anything else could read another parameter path.
      throw new SecretsError(
        `export "${exportName}": "${invalid}" is not a variable name (letters, digits and _)`,
      );
    }
    const values: Record<string, string> = {};
    const pending: [string, Promise<string | undefined>][] = [];
    const toFetch: string[] = [];
    const now = this.#now();
    const unique = [...new Set(names)];
    for (const name of unique) {
      const cached = this.#cache.get(name);
      if (cached && cached.expiresAt > now) {
        values[name] = cached.value;
        continue;
      }
      const inFlight = this.#inFlight.get(name);
      if (inFlight) pending.push([name, inFlight]);
      else toFetch.push(name);
    }
    for (const batch of chunk(toFetch, SSM_BATCH_LIMIT)) {
      const fetched = this.#fetch(batch);
      for (const name of batch) {
        const value = fetched.then((found) => found.get(name));
        this.#inFlight.set(name, value);
        const settle = () => {
          if (this.#inFlight.get(name) === value) this.#inFlight.delete(name);
        };
        value.then(settle, settle);
        pending.push([name, value]);
      }
    }
    let results: (string | undefined)[];
    try {
      results = await Promise.all(pending.map(([, value]) => value));
    } catch (error) {
      throw new SecretStoreError(
        `could not read SSM parameters under ${this.#prefix} for export "${exportName}" (${errorClass(error)}); the delivery will be retried`,
        exportName,
        { cause: error },
      );
    }
    pending.forEach(([name], index) => {
      const value = results[index];
      if (value !== undefined) values[name] = value;
    });
    const missing = unique.filter((name) => values[name] === undefined);
    if (missing.length > 0) {
      const paths = missing.map((name) => this.parameterName(name));
      throw new MissingVariableError({
        variables: missing,
        exportName,
        hint: `create the SSM parameter${paths.length > 1 ? 's' : ''} ${paths.join(', ')} (SecureString)`,
      });
    }
    return values;
  }

  /**
   * One `GetParameters` call, bounded by the lookup timeout (the call is aborted and the
   * promise rejects, even if the client ignores the abort); resolves to the values found,
   * keyed by variable name.
   */
  async #fetch(batch: readonly string[]): Promise<Map<string, string>> {
    const byPath = new Map(batch.map((name) => [this.parameterName(name), name]));
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new SecretLookupTimeoutError(this.#lookupTimeoutMs);
        abort.abort(error);
        reject(error);
      }, this.#lookupTimeoutMs);
      timer.unref();
    });
    const call = Promise.resolve(
      this.#client.send(
        new GetParametersCommand({ Names: [...byPath.keys()], WithDecryption: true }),
        { abortSignal: abort.signal },
      ),
    );
    // The losing side's rejection is handled here, so it is never reported as unhandled.
    call.catch(() => undefined);
    let response: Awaited<typeof call>;
    try {
      response = await Promise.race([call, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    const found = new Map<string, string>();
    const expiresAt = this.#now() + this.#ttlMs;
    for (const parameter of response.Parameters ?? []) {
      const name = parameter.Name === undefined ? undefined : byPath.get(parameter.Name);
      if (name === undefined || parameter.Value === undefined) continue;
      found.set(name, parameter.Value);
      if (this.#ttlMs > 0) this.#cache.set(name, { value: parameter.Value, expiresAt });
    }
    // Names in `InvalidParameters` (not found) are simply absent from `found`.
    return found;
  }
}

export type { SecretResolver, SsmSecretResolverOptions };
export {
  EnvSecretResolver,
  LOOKUP_TIMEOUT_MS,
  SecretLookupTimeoutError,
  SSM_BATCH_LIMIT,
  SsmSecretResolver,
};
