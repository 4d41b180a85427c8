/**
 * One test delivery, as `test-export` runs it locally and the deployed delivery function runs
 * it for a test invocation: real receivers on 127.0.0.1, secrets from a fake or mocked store.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, handleTestInvocation } from '../../lambdas/delivery.js';
import type { ExportConfig } from '../../shared/config/types.js';
import { answerTestInvocation, testDelivery } from '../../shared/pipeline/delivery/testDelivery.js';
import { SecretStoreError } from '../../shared/secrets/errors.js';
import {
  EnvSecretResolver,
  type SecretResolver,
  SsmSecretResolver,
} from '../../shared/secrets/resolvers.js';
import {
  createHttpClient,
  defaultHttpClient,
  type HttpClient,
} from '../../shared/transport/http.js';
import { guardedConnector, guardedHttpClient } from '../../shared/transport/networkGuard.js';
import { auditEvent, cleanupStack, configFromYaml } from '../helpers/pipeline.js';
import { type Receiver, startReceiver } from '../helpers/receivers.js';

const SECRET = 's3cr3t-routing-key';

const cleanup = cleanupStack();
let http: HttpClient;

beforeEach(() => {
  http = cleanup.add(createHttpClient(), (client) => client.close());
});

afterEach(async () => {
  await cleanup.run();
});

const receiver = async (...args: Parameters<typeof startReceiver>): Promise<Receiver> =>
  cleanup.add(await startReceiver(...args), (started) => started.close());

/** One export sending to `url` with the secret in its URL, a header and its body. */
const exportFor = async (url: string, extra = ''): Promise<ExportConfig> => {
  const config = await configFromYaml(`
exports:
  - name: alerts
    destination: webhook
    webhook:
      url: "${url}/hook?key=\${ROUTING_KEY}"
      headers:
        Authorization: "Token token=\${ROUTING_KEY}"
      body_template: '{"routing_key": "\${ROUTING_KEY}", "summary": "{{event_kind}} on {{agent_id}}"}'
      timeout_seconds: 1
    filters:
      event_kinds: [auth_fail]
      min_severity: warn
${extra}`);
  const [exportConfig] = config.exports;
  if (!exportConfig) throw new Error('no export');
  return exportConfig;
};

/** The export with `allow_private_network: true`: the receivers listen on 127.0.0.1. */
const allowPrivate = (exportConfig: ExportConfig): ExportConfig => ({
  ...exportConfig,
  webhook: { ...exportConfig.webhook, allow_private_network: true },
});

const exportsOf = (...configs: ExportConfig[]) =>
  new Map(configs.map((config) => [config.name, config]));

const secrets = new EnvSecretResolver({ ROUTING_KEY: SECRET });

describe('Function: testDelivery()', () => {
  it('sends the exact request and reports it with the secret masked everywhere', async () => {
    // Prepare
    const target = await receiver({ status: 202, body: `accepted key ${SECRET}` });
    const exportConfig = await exportFor(target.url);

    // Act
    const report = await testDelivery({
      exportConfig,
      event: auditEvent({ event_kind: 'auth_fail' }),
      secrets,
      http,
    });

    // Assess
    const [request] = target.requests;
    expect(request?.url).toBe(`/hook?key=${SECRET}`);
    expect(request?.headers.authorization).toBe(`Token token=${SECRET}`);
    expect(report.request).toMatchObject({
      method: 'POST',
      url: `${target.url}/hook?key=***`,
      headers: { Authorization: 'Token token=***' },
      timeoutSeconds: 1,
    });
    expect(report.result).toMatchObject({ status: 202, bodySnippet: 'accepted key ***' });
    expect(report.verdict).toEqual({ outcome: 'success' });
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('classifies a 503 as retry and keeps its body, redacted', async () => {
    // Prepare
    const target = await receiver({ status: 503, body: `down; your key ${SECRET} is fine` });
    const exportConfig = await exportFor(target.url);

    // Act
    const report = await testDelivery({ exportConfig, event: auditEvent(), secrets, http });

    // Assess
    expect(report.verdict.outcome).toBe('retry');
    expect(report.result.bodySnippet).toBe('down; your key *** is fine');
    expect(report.maxAttempts).toBe(5);
  });

  it('says whether a given event passes the export filters', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);

    // Act
    const report = await testDelivery({
      exportConfig,
      event: auditEvent({ event_kind: 'tool_call', severity: 'info' }),
      secrets,
      http,
    });

    // Assess
    expect(report.event).toMatchObject({ event_kind: 'tool_call', passes_filters: false });
  });

  it('refuses a private address through the guard, as a deployed delivery would', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);
    const guardedHttp = cleanup.add(createHttpClient({ connect: guardedConnector() }), (client) =>
      client.close(),
    );

    // Act
    const report = await testDelivery({
      exportConfig,
      event: auditEvent(),
      secrets,
      http,
      guardedHttp,
    });

    // Assess
    expect(target.requests).toHaveLength(0);
    expect(report.result.errorClass).toBe('blocked_address');
    expect(report.verdict.outcome).toBe('permanent');
  });

  it('sends to a private address when the export allows it, even with the guard', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = allowPrivate(await exportFor(target.url));
    const guardedHttp = cleanup.add(createHttpClient({ connect: guardedConnector() }), (client) =>
      client.close(),
    );

    // Act
    const report = await testDelivery({
      exportConfig,
      event: auditEvent(),
      secrets,
      http,
      guardedHttp,
    });

    // Assess
    expect(target.requests).toHaveLength(1);
    expect(report.verdict.outcome).toBe('success');
  });
});

describe('Function: answerTestInvocation()', () => {
  it('makes a synthetic event that passes the export filters when none is given', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);

    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: { export: 'alerts' } },
      { exports: exportsOf(exportConfig), secrets, http },
    );

    // Assess
    expect(response.ok).toBe(true);
    if (!response.ok) return;
    expect(response.report.event).toMatchObject({
      event_kind: 'auth_fail',
      synthetic: true,
      passes_filters: true,
    });
    expect(target.requests).toHaveLength(1);
  });

  it('names the known exports for an unknown one, and sends nothing', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);

    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: { export: 'alert' } },
      { exports: exportsOf(exportConfig), secrets, http },
    );

    // Assess
    expect(response).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'unknown_export', known_exports: ['alerts'] }),
    });
    expect(target.requests).toHaveLength(0);
  });

  it('reports every problem of an invalid event', async () => {
    // Prepare
    const exportConfig = await exportFor('http://127.0.0.1:9');

    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: { export: 'alerts', event: { audit_id: 'x', severity: 'urgent' } } },
      { exports: exportsOf(exportConfig), secrets, http },
    );

    // Assess
    expect(response.ok).toBe(false);
    if (response.ok) return;
    expect(response.error.code).toBe('invalid_event');
    expect(response.error.problems?.map((problem) => problem.path)).toEqual([
      'event_kind',
      'timestamp',
      'severity',
    ]);
  });

  it('names a missing variable without sending', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);

    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: { export: 'alerts' } },
      { exports: exportsOf(exportConfig), secrets: new EnvSecretResolver({}), http },
    );

    // Assess
    expect(response).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'missing_variable', variables: ['ROUTING_KEY'] }),
    });
    expect(target.requests).toHaveLength(0);
  });

  it('reports a failing secret store as such', async () => {
    // Prepare
    const exportConfig = await exportFor('http://127.0.0.1:9');
    const failing: SecretResolver = {
      resolve: async (_names, exportName) => {
        throw new SecretStoreError(
          'could not read SSM parameters (ThrottlingException)',
          exportName,
        );
      },
    };

    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: { export: 'alerts' } },
      { exports: exportsOf(exportConfig), secrets: failing, http },
    );

    // Assess
    expect(response).toEqual({
      ok: false,
      error: { code: 'secrets', message: 'could not read SSM parameters (ThrottlingException)' },
    });
  });

  it('refuses a payload that is not a test invocation of this shape', async () => {
    // Act
    const response = await answerTestInvocation(
      { tappass_test_export: 'alerts' },
      { exports: new Map(), secrets, http },
    );

    // Assess
    expect(response.ok).toBe(false);
    if (response.ok) return;
    expect(response.error.code).toBe('bad_request');
  });
});

describe('Function: handleTestInvocation()', () => {
  it('resolves the secret from SSM and returns the masked report', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const exportConfig = await exportFor(target.url);
    const ssm = new SSMClient({ region: 'us-east-1' });
    const ssmMock = cleanup.add(mockClient(ssm), (mock) => mock.restore());
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [{ Name: '/tappass/test/ROUTING_KEY', Value: SECRET }],
    });
    const resolver = new SsmSecretResolver({ client: ssm, parameterPrefix: '/tappass/test' });

    // Act
    const response = await handleTestInvocation(
      { tappass_test_export: { export: 'alerts', event: auditEvent({ event_kind: 'auth_fail' }) } },
      { exports: exportsOf(exportConfig), secrets: resolver, http },
    );

    // Assess
    expect(target.requests[0]?.headers.authorization).toBe(`Token token=${SECRET}`);
    expect(response.ok).toBe(true);
    if (!response.ok) return;
    expect(response.report.request.headers.Authorization).toBe('Token token=***');
    expect(JSON.stringify(response)).not.toContain(SECRET);
  });
});

describe('Function: handler()', () => {
  it('answers a test invocation from its runtime, without the batch path', async () => {
    // Prepare
    const savedEnv = { ...process.env };
    const dir = await mkdtemp(join(tmpdir(), 'test-invocation-'));
    cleanup.add(dir, async () => {
      for (const name of Object.keys(process.env)) {
        if (!(name in savedEnv)) delete process.env[name];
      }
      Object.assign(process.env, savedEnv);
      await defaultHttpClient().close();
      await guardedHttpClient().close();
      await rm(dir, { recursive: true, force: true });
    });
    const target = await receiver({ status: 204 });
    const allowed = allowPrivate(await exportFor(target.url));
    const guarded = { ...(await exportFor(target.url)), name: 'guarded' };
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify({ exports: [allowed, guarded] }));
    Object.assign(process.env, {
      TAPPASS_STAGE: 'test',
      TAPPASS_CONFIG_FILE: configFile,
      TAPPASS_QUEUE_URL_BASE: 'http://127.0.0.1:9/000000000000/',
      TAPPASS_SECRETS: 'env',
      ROUTING_KEY: SECRET,
    });

    // Act
    const response = await handler({ tappass_test_export: { export: 'alerts' } }, {} as Context);
    const refused = await handler({ tappass_test_export: { export: 'guarded' } }, {} as Context);

    // Assess
    expect(target.requests).toHaveLength(1);
    expect(response).toMatchObject({
      ok: true,
      report: { export: 'alerts', result: { status: 204 }, verdict: { outcome: 'success' } },
    });
    expect(refused).toMatchObject({
      ok: true,
      report: { export: 'guarded', result: { errorClass: 'blocked_address' } },
    });
  });
});
