import {
  GetParametersCommand,
  type GetParametersCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import {
  MissingVariableError,
  SecretStoreError,
  SecretsError,
} from '../../shared/secrets/errors.js';
import {
  EnvSecretResolver,
  SSM_BATCH_LIMIT,
  SsmSecretResolver,
} from '../../shared/secrets/resolvers.js';

const PREFIX = '/tappass-webhooks/dev';

/** The error a promise rejects with, failing the test if it resolves. */
const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
};

describe('Class: EnvSecretResolver', () => {
  const savedEnv = { ...process.env };

  afterEach(() => {
    process.env = { ...savedEnv };
  });

  it('resolves names from the given environment', async () => {
    // Prepare
    const resolver = new EnvSecretResolver({ PD_ROUTING_KEY: 'pd-key', OTHER: 'o' });

    // Act
    const values = await resolver.resolve(['PD_ROUTING_KEY', 'PD_ROUTING_KEY'], 'pagerduty-alerts');

    // Assess
    expect(values).toEqual({ PD_ROUTING_KEY: 'pd-key' });
  });

  it('reads process.env by default', async () => {
    // Prepare
    process.env.TAPPASS_TEST_SECRET = 'from-process-env';
    const resolver = new EnvSecretResolver();

    // Act
    const values = await resolver.resolve(['TAPPASS_TEST_SECRET'], 'x');

    // Assess
    expect(values).toEqual({ TAPPASS_TEST_SECRET: 'from-process-env' });
  });

  it('throws MissingVariableError naming every missing (or empty) name and the export', async () => {
    // Prepare
    const resolver = new EnvSecretResolver({ SET: 'value-of-set', EMPTY: '' });

    // Act
    const error = await rejectionOf(resolver.resolve(['SET', 'MISSING', 'EMPTY'], 'slack'));

    // Assess
    expect(error).toBeInstanceOf(MissingVariableError);
    expect(error).toMatchObject({ variable: 'MISSING', variables: ['MISSING', 'EMPTY'] });
    expect(error.message).toBe(
      'export "slack" needs ${MISSING} and ${EMPTY}, which are not set: export them in the environment or .env',
    );
    expect(error.message).not.toContain('value-of-set');
  });

  it('says "is not set" for one missing name', async () => {
    // Prepare
    const resolver = new EnvSecretResolver({});

    // Act
    const error = await rejectionOf(resolver.resolve(['PD_ROUTING_KEY'], 'pagerduty-alerts'));

    // Assess
    expect(error.message).toBe(
      'export "pagerduty-alerts" needs ${PD_ROUTING_KEY}, which is not set: export it in the environment or .env',
    );
  });

  it('does not read names from the prototype of the environment object', async () => {
    // Prepare
    const resolver = new EnvSecretResolver({});

    // Act
    const error = await rejectionOf(resolver.resolve(['toString'], 'x'));

    // Assess
    expect(error).toBeInstanceOf(MissingVariableError);
  });
});

describe('Class: SsmSecretResolver', () => {
  const ssmMock = mockClient(SSMClient);
  let clock = 1_000_000;

  /** Answers GetParameters from a map of full parameter names to values. */
  const serveParameters = (parameters: Record<string, string>) => {
    ssmMock.on(GetParametersCommand).callsFake((input: GetParametersCommandInput) => {
      const names = input.Names ?? [];
      return {
        Parameters: names
          .filter((name) => Object.hasOwn(parameters, name))
          .map((name) => ({ Name: name, Type: 'SecureString', Value: parameters[name] })),
        InvalidParameters: names.filter((name) => !Object.hasOwn(parameters, name)),
      };
    });
  };

  const newResolver = (ttlSeconds?: number) =>
    new SsmSecretResolver({
      client: new SSMClient({ region: 'eu-west-1' }),
      parameterPrefix: PREFIX,
      ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
      now: () => clock,
    });

  const calls = () => ssmMock.commandCalls(GetParametersCommand);

  beforeEach(() => {
    ssmMock.reset();
    clock = 1_000_000;
  });

  afterAll(() => {
    ssmMock.restore();
  });

  it('reads every name in one decrypted GetParameters call', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'value-a', [`${PREFIX}/B`]: 'value-b' });
    const resolver = newResolver();

    // Act
    const values = await resolver.resolve(['A', 'B', 'A'], 'pagerduty-alerts');

    // Assess
    expect(values).toEqual({ A: 'value-a', B: 'value-b' });
    expect(calls()).toHaveLength(1);
    expect(calls()[0]?.args[0].input).toEqual({
      Names: [`${PREFIX}/A`, `${PREFIX}/B`],
      WithDecryption: true,
    });
  });

  it('splits more than 10 names into calls of at most 10', async () => {
    // Prepare
    const names = Array.from({ length: 23 }, (_, i) => `VAR_${i}`);
    serveParameters(Object.fromEntries(names.map((name) => [`${PREFIX}/${name}`, `v-${name}`])));
    const resolver = newResolver();

    // Act
    const values = await resolver.resolve(names, 'big');

    // Assess
    expect(Object.keys(values)).toHaveLength(23);
    expect(values.VAR_22).toBe('v-VAR_22');
    expect(calls().map((call) => call.args[0].input.Names?.length)).toEqual([
      SSM_BATCH_LIMIT,
      SSM_BATCH_LIMIT,
      3,
    ]);
  });

  it('serves repeated resolves from the cache within the TTL', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'value-a' });
    const resolver = newResolver(300);
    await resolver.resolve(['A'], 'x');

    // Act
    clock += 299_000;
    const values = await resolver.resolve(['A'], 'x');

    // Assess
    expect(values).toEqual({ A: 'value-a' });
    expect(calls()).toHaveLength(1);
  });

  it('asks SSM again after the TTL, picking up a rotated value', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'old-value' });
    const resolver = newResolver(300);
    await resolver.resolve(['A'], 'x');
    serveParameters({ [`${PREFIX}/A`]: 'rotated-value' });

    // Act
    clock += 300_001;
    const values = await resolver.resolve(['A'], 'x');

    // Assess
    expect(values).toEqual({ A: 'rotated-value' });
    expect(calls()).toHaveLength(2);
  });

  it('only asks for the names that are not cached', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'value-a', [`${PREFIX}/B`]: 'value-b' });
    const resolver = newResolver();
    await resolver.resolve(['A'], 'x');

    // Act
    const values = await resolver.resolve(['A', 'B'], 'x');

    // Assess
    expect(values).toEqual({ A: 'value-a', B: 'value-b' });
    expect(calls().map((call) => call.args[0].input.Names)).toEqual([
      [`${PREFIX}/A`],
      [`${PREFIX}/B`],
    ]);
  });

  it('shares one call between concurrent resolves of the same names', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'value-a' });
    const resolver = newResolver();

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () => resolver.resolve(['A'], 'x')),
    );

    // Assess
    expect(results.every((values) => values.A === 'value-a')).toBe(true);
    expect(calls()).toHaveLength(1);
  });

  it('turns InvalidParameters into MissingVariableError naming the parameter path, without values', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'value-a' });
    const resolver = newResolver();

    // Act
    const error = await rejectionOf(resolver.resolve(['A', 'PD_ROUTING_KEY'], 'pagerduty-alerts'));

    // Assess
    expect(error).toBeInstanceOf(MissingVariableError);
    expect(error).toMatchObject({
      variable: 'PD_ROUTING_KEY',
      exportName: 'pagerduty-alerts',
      retryable: false,
    });
    expect(error.message).toBe(
      'export "pagerduty-alerts" needs ${PD_ROUTING_KEY}, which is not set: create the SSM parameter /tappass-webhooks/dev/PD_ROUTING_KEY (SecureString)',
    );
    expect(error.message).not.toContain('value-a');
  });

  it('does not cache a missing parameter, so creating it fixes the next resolve', async () => {
    // Prepare
    serveParameters({});
    const resolver = newResolver();
    await rejectionOf(resolver.resolve(['A'], 'x'));
    serveParameters({ [`${PREFIX}/A`]: 'created' });

    // Act
    const values = await resolver.resolve(['A'], 'x');

    // Assess
    expect(values).toEqual({ A: 'created' });
    expect(calls()).toHaveLength(2);
  });

  it('turns SDK throttling into a retryable SecretStoreError that keeps the cause', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    ssmMock.on(GetParametersCommand).rejects(throttled);
    const resolver = newResolver();

    // Act
    const error = await rejectionOf(resolver.resolve(['A'], 'pagerduty-alerts'));

    // Assess
    expect(error).toBeInstanceOf(SecretStoreError);
    expect(error).toBeInstanceOf(SecretsError);
    expect(error).toMatchObject({ retryable: true, exportName: 'pagerduty-alerts' });
    expect(error.cause).toBe(throttled);
    expect(error.message).toContain('ThrottlingException');
    expect(error.message).toContain('pagerduty-alerts');
    expect(error.message).toContain(PREFIX);
  });

  it('keeps cached values out of a SecretStoreError when a later call fails', async () => {
    // Prepare
    serveParameters({ [`${PREFIX}/A`]: 'cached-secret-value' });
    const resolver = newResolver();
    await resolver.resolve(['A'], 'x');
    ssmMock
      .on(GetParametersCommand)
      .rejects(
        Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
      );

    // Act
    const error = await rejectionOf(resolver.resolve(['A', 'B'], 'x'));

    // Assess
    expect(error).toBeInstanceOf(SecretStoreError);
    expect(error.message).toContain('AccessDeniedException');
    expect(error.message).not.toContain('cached-secret-value');
  });

  it('recovers after a failed call: the next resolve asks again', async () => {
    // Prepare
    ssmMock.on(GetParametersCommand).rejectsOnce(new Error('socket hang up'));
    const resolver = newResolver();
    await rejectionOf(resolver.resolve(['A'], 'x'));
    serveParameters({ [`${PREFIX}/A`]: 'value-a' });

    // Act
    const values = await resolver.resolve(['A'], 'x');

    // Assess
    expect(values).toEqual({ A: 'value-a' });
    expect(calls()).toHaveLength(2);
  });

  it('bounds a lookup that never answers: a retryable SecretStoreError, the call aborted, and the next resolve asks again', async () => {
    // Prepare: the first call hangs for good; concurrent resolves share it.
    const signals: AbortSignal[] = [];
    ssmMock
      .on(GetParametersCommand)
      .callsFakeOnce(() => new Promise(() => undefined))
      .callsFake((input: GetParametersCommandInput) => ({
        Parameters: (input.Names ?? []).map((name) => ({ Name: name, Value: 'value-a' })),
      }));
    const client = new SSMClient({ region: 'eu-west-1' });
    const send = client.send.bind(client);
    client.send = ((command: never, options?: { abortSignal?: AbortSignal }) => {
      if (options?.abortSignal) signals.push(options.abortSignal);
      return send(command, options as never);
    }) as typeof client.send;
    const resolver = new SsmSecretResolver({
      client,
      parameterPrefix: PREFIX,
      lookupTimeoutMs: 50,
      now: () => clock,
    });

    // Act
    const errors = await Promise.all([
      rejectionOf(resolver.resolve(['A'], 'x')),
      rejectionOf(resolver.resolve(['A'], 'y')),
    ]);
    const values = await resolver.resolve(['A'], 'x');

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(SecretStoreError);
      expect((error as SecretStoreError).retryable).toBe(true);
      expect(error.message).toContain('SecretLookupTimeoutError');
    }
    expect(values).toEqual({ A: 'value-a' });
    expect(calls()).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
  });

  it('refuses a name that is not a variable name, without calling SSM', async () => {
    // Prepare
    const resolver = newResolver();

    // Act
    const error = await rejectionOf(resolver.resolve(['../prod/KEY'], 'x'));

    // Assess
    expect(error).toBeInstanceOf(SecretsError);
    expect(error).toMatchObject({ retryable: false });
    expect(calls()).toHaveLength(0);
  });

  it('does not call SSM for an empty list of names', async () => {
    // Prepare
    const resolver = newResolver();

    // Act
    const values = await resolver.resolve([], 'x');

    // Assess
    expect(values).toEqual({});
    expect(calls()).toHaveLength(0);
  });

  it('normalises a trailing slash and rejects a prefix without a leading one', () => {
    // Prepare
    const client = new SSMClient({ region: 'eu-west-1' });

    // Act
    const resolver = new SsmSecretResolver({ client, parameterPrefix: `${PREFIX}/` });
    const invalid = () =>
      new SsmSecretResolver({ client, parameterPrefix: 'tappass-webhooks/dev' });

    // Assess
    expect(resolver.parameterName('A')).toBe(`${PREFIX}/A`);
    expect(invalid).toThrow(/must start with "\/"/);
  });
});
