/**
 * `test-export`: as a user runs it (a child process of `tsx cli/main.ts`) against real
 * receivers on 127.0.0.1, and in-process for the `--stage` path with a mocked Lambda client
 * whose answers come from the real test-invocation code.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { runTestExport } from '../../cli/testExport.js';
import { handleTestInvocation } from '../../lambdas/delivery.js';
import { loadConfigFile } from '../../shared/config/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import { createHttpClient } from '../../shared/transport/http.js';
import { runCli } from '../helpers/cli.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const SECRET = 'pd-routing-key-5eCr3t';

/** Each spawned CLI gets this long; a hang fails the test rather than the suite. */
const CLI_TIMEOUT_MS = 30_000;

const stack = useTestStack();
let dir: string;
let receiver: Receiver;
let configFile: string;

/** Answers by path: /ok 200, /bad 400 (echoing the key), /down 503, /hang never. */
const byPath = (url: string) => {
  if (url.startsWith('/ok')) return { status: 200, body: '{"status":"success"}' };
  if (url.startsWith('/bad')) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: `{"status":"invalid event","message":"routing key ${SECRET} is not valid"}`,
    };
  }
  if (url.startsWith('/down')) return { status: 503, body: 'upstream unavailable' };
  return 'hang' as const;
};

const exportYaml = (name: string, path: string, timeoutSeconds = 5) => `
  - name: ${name}
    destination: webhook
    webhook:
      url: "${receiver.url}${path}"
      headers:
        Authorization: "Token token=\${PD_ROUTING_KEY}"
      timeout_seconds: ${timeoutSeconds}
    filters:
      event_kinds: [auth_fail]
      min_severity: error`;

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

beforeAll(async () => {
  dir = await stack.tempDir('cli-test-export-');
  receiver = await stack.receiver((_index, request) => byPath(request.url));
  configFile = join(dir, 'observability.yaml');
  await writeFile(
    configFile,
    `exports:${exportYaml('pagerduty-ok', '/ok')}${exportYaml('pagerduty-bad', '/bad')}${exportYaml(
      'pagerduty-down',
      '/down',
    )}${exportYaml('pagerduty-hang', '/hang', 1)}\n`,
  );
});

const testExport = (exportName: string, extra: readonly string[] = []) =>
  runCli(['test-export', '--config', configFile, '--export', exportName, ...extra], {
    env: { PD_ROUTING_KEY: SECRET },
    timeoutMs: CLI_TIMEOUT_MS,
  });

describe('Command: test-export', () => {
  it('sends a synthetic event and prints the masked request, status and latency (exit 0)', async () => {
    // Prepare
    const before = receiver.requests.length;

    // Act
    const { code, stdout, stderr } = await testExport('pagerduty-ok');

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain(`POST ${receiver.url}/ok`);
    expect(stdout).toContain('Authorization: Token token=***');
    expect(stdout).toMatch(/^HTTP 200 OK in \d+ ms$/m);
    expect(stdout).toMatch(/synthetic event ae_test_\w+ \(auth_fail, error\)/);
    expect(`${stdout}${stderr}`).not.toContain(SECRET);
    const sent = receiver.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.authorization).toBe(`Token token=${SECRET}`);
  });

  it('prints the body of a 4xx answer, redacted, and exits 1', async () => {
    // Act
    const { code, stdout, stderr } = await testExport('pagerduty-bad');

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/^HTTP 400 Bad Request in \d+ ms$/m);
    expect(stdout).toContain('routing key *** is not valid');
    expect(stderr).toContain('FAILED: HTTP 400 from receiver (client error)');
    expect(stderr).toContain('without retrying');
    expect(`${stdout}${stderr}`).not.toContain(SECRET);
  });

  it('prints the body of a 5xx answer and says the pipeline would retry (exit 1)', async () => {
    // Act
    const { code, stdout, stderr } = await testExport('pagerduty-down');

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/^HTTP 503 Service Unavailable in \d+ ms$/m);
    expect(stdout).toContain('upstream unavailable');
    expect(stderr).toContain('FAILED: HTTP 503 from receiver (server error)');
    expect(stderr).toContain('the pipeline would retry it (5 attempts in all');
  });

  it('says clearly that a hanging receiver timed out, and exits 1', async () => {
    // Act
    const { code, stdout, stderr } = await testExport('pagerduty-hang');

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/^no response after \d+ ms: timed out after 1 s$/m);
    expect(stderr).toContain('FAILED: timed out after 1 s');
  });

  it('lists the known exports for an unknown one, and exits 2', async () => {
    // Act
    const { code, stdout, stderr } = await testExport('pagerduty');

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      'no export named "pagerduty"; the config has: pagerduty-ok, pagerduty-bad, pagerduty-down, pagerduty-hang',
    );
    expect(stdout).toBe('');
  });
});

describe('Function: runTestExport()', () => {
  it('names a variable missing from the environment, sends nothing, and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const before = receiver.requests.length;

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: configFile, env: {}, dotEnvPath: join(dir, 'none.env') },
      output,
    );

    // Assess
    expect(code).toBe(2);
    expect(err.join('\n')).toContain(
      'export "pagerduty-ok" needs ${PD_ROUTING_KEY}, which is not set',
    );
    expect(receiver.requests.length).toBe(before);
  });

  it('reads the variable from a .env file', async () => {
    // Prepare
    const { out, output } = collectingOutput();
    const dotEnv = join(dir, 'test.env');
    await writeFile(dotEnv, `PD_ROUTING_KEY=${SECRET}\n`);

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: configFile, env: {}, dotEnvPath: dotEnv },
      output,
    );

    // Assess
    expect(code).toBe(0);
    expect(out).toContain('  Authorization: Token token=***');
  });

  it('prints every problem of an invalid --event file on one line and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const eventFile = join(dir, 'bad-event.json');
    await writeFile(eventFile, JSON.stringify({ audit_id: 'ae_1', severity: 'urgent' }));

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: configFile, event: eventFile, env: {} },
      output,
    );

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      `${eventFile}: not a valid audit event: event_kind: is required; timestamp: is required; severity: must be one of debug, info, warn, error, critical, got "urgent"`,
    ]);
  });

  it('sends a given --event, and warns when it would not pass the export filters', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();
    const eventFile = join(dir, 'event.json');
    await writeFile(
      eventFile,
      JSON.stringify({
        audit_id: 'ae_given_1',
        timestamp: '2026-04-17T10:15:03Z',
        event_kind: 'tool_call',
        severity: 'info',
      }),
    );

    // Act
    const code = await runTestExport(
      {
        export: 'pagerduty-ok',
        config: configFile,
        event: eventFile,
        env: { PD_ROUTING_KEY: SECRET },
      },
      output,
    );

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe('export pagerduty-ok: event ae_given_1 (tool_call, info)');
    expect(err[0]).toContain('does not pass the filters of export "pagerduty-ok"');
  });
});

describe('Function: runTestExport() with --stage', () => {
  const encode = (value: unknown) =>
    new TextEncoder().encode(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];

  /** A Lambda client whose Invoke runs the real test-invocation code against the receiver. */
  const deployedFunction = async () => {
    const lambda = new LambdaClient({ region: 'eu-west-1' });
    const mock = mockClient(lambda);
    const config = await loadConfigFile(configFile);
    const http = createHttpClient();
    mock.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
      const answer = await handleTestInvocation(
        JSON.parse(new TextDecoder().decode(input.Payload)),
        {
          exports: new Map(config.exports.map((exp) => [exp.name, exp])),
          secrets: new EnvSecretResolver({ PD_ROUTING_KEY: SECRET }),
          http,
        },
      );
      return { StatusCode: 200, Payload: encode(answer) };
    });
    return { lambda, mock, close: () => http.close() };
  };

  it("invokes the stage's delivery function and prints its report the same way", async () => {
    // Prepare
    const { out, err, output } = collectingOutput();
    const deployed = await deployedFunction();

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-bad', config: 'not-read.yaml', stage: 'prod' },
      output,
      { lambda: deployed.lambda },
    );
    await deployed.close();

    // Assess
    expect(code).toBe(1);
    const [call] = deployed.mock.commandCalls(InvokeCommand);
    expect(call?.args[0].input.FunctionName).toBe('tappass-prod-delivery');
    const sent = call?.args[0].input.Payload as Uint8Array;
    expect(JSON.parse(new TextDecoder().decode(sent))).toEqual({
      tappass_test_export: { export: 'pagerduty-bad' },
    });
    expect(out[0]).toBe('via tappass-prod-delivery (stage prod, Lambda Invoke)');
    expect(out).toContain('  Authorization: Token token=***');
    expect(out.some((line) => /^HTTP 400 Bad Request in \d+ ms$/.test(line))).toBe(true);
    expect(out).toContain('  {"status":"invalid event","message":"routing key *** is not valid"}');
    expect(err.at(-1)).toContain('FAILED: HTTP 400 from receiver (client error)');
  });

  it('lists the deployed exports for an unknown one and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const deployed = await deployedFunction();

    // Act
    const code = await runTestExport(
      { export: 'slack', config: 'not-read.yaml', stage: 'prod' },
      output,
      { lambda: deployed.lambda },
    );
    await deployed.close();

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      'stage prod: no export named "slack"; the config has: pagerduty-ok, pagerduty-bad, pagerduty-down, pagerduty-hang',
    ]);
  });

  it('reports a function error and returns 1', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const lambda = new LambdaClient({ region: 'eu-west-1' });
    mockClient(lambda)
      .on(InvokeCommand)
      .resolves({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: encode({
          errorType: 'MissingEnvironmentError',
          errorMessage: 'TAPPASS_STAGE is not set',
        }),
      });

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: 'not-read.yaml', stage: 'prod' },
      output,
      { lambda },
    );

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      'the delivery function failed (Unhandled): MissingEnvironmentError: TAPPASS_STAGE is not set',
    ]);
  });

  it('says which function is missing when the stage is not deployed, and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const lambda = new LambdaClient({ region: 'eu-west-1' });
    mockClient(lambda)
      .on(InvokeCommand)
      .rejects(
        Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }),
      );

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: 'not-read.yaml', stage: 'staging', region: 'eu-west-1' },
      output,
      { lambda },
    );

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      'function tappass-staging-delivery was not found in eu-west-1: deploy the stage, or check --stage and --region',
    ]);
  });

  it('says to redeploy when the function does not know test invocations', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const lambda = new LambdaClient({ region: 'eu-west-1' });
    mockClient(lambda)
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: encode({ batchItemFailures: [] }) });

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: 'not-read.yaml', stage: 'prod' },
      output,
      { lambda },
    );

    // Assess
    expect(code).toBe(2);
    expect(err[0]).toContain('did not answer the test invocation: redeploy stage prod');
  });

  it('refuses a stage name that cannot name resources, and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();

    // Act
    const code = await runTestExport(
      { export: 'pagerduty-ok', config: 'not-read.yaml', stage: 'Prod_1' },
      output,
    );

    // Assess
    expect(code).toBe(2);
    expect(err[0]).toContain('stage "Prod_1" cannot be used in resource names');
  });
});
