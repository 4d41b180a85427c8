/**
 * The SSRF guard in the pipeline: with the guarded client (as deployed, or locally with
 * `--block-private-network`), an export whose receiver is on a private address is
 * dead-lettered at once as a permanent `blocked_address` failure and the receiver never sees a
 * connection; `allow_private_network: true` opens it. Also the deployed delivery function's
 * own wiring: built from its runtime environment, it refuses private addresses by default.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { handler } from '../../lambdas/delivery.js';
import { lambdaContext } from '../../local/lambdaContext.js';
import { createPipelineQueues } from '../../local/pipeline.js';
import { LOCAL_CREDENTIALS, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import { queueNames } from '../../shared/sqs/queueNames.js';
import { sendMessage } from '../../shared/sqs/queues.js';
import {
  createHttpClient,
  defaultHttpClient,
  type HttpClient,
} from '../../shared/transport/http.js';
import { guardedConnector, guardedHttpClient } from '../../shared/transport/networkGuard.js';
import {
  auditEvent,
  configFromYaml,
  drainQueue,
  sqsRecord,
  waitUntil,
} from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();
const { receiver, pipeline } = stack;

const guardedClient = (): HttpClient =>
  stack.add(createHttpClient({ connect: guardedConnector() }), (client) => client.close());

/**
 * One export's YAML: the test's events only (not the `webhook.dlq` events the dead letters
 * raise), three attempts with no backoff, optionally allowed on private networks.
 */
const exportYaml = (name: string, url: string, allowPrivate = false): string =>
  [
    `  - name: ${name}`,
    '    destination: webhook',
    '    webhook:',
    `      url: "${url}"`,
    ...(allowPrivate ? ['      allow_private_network: true'] : []),
    '    filters:',
    '      event_kinds: [policy_block]',
    '    retry:',
    '      max_attempts: 3',
    '      backoff_seconds: [0]',
  ].join('\n');

const configYaml = (...exports: string[]): string => `exports:\n${exports.join('\n')}\n`;

describe('Function: delivery step (SSRF guard)', () => {
  it('dead-letters exports on 127.0.0.1 and localhost as permanent blocked_address without connecting; allow_private_network delivers', async () => {
    // Prepare
    const loopback = await receiver({ status: 200 });
    const byName = await receiver({ status: 200 });
    const allowed = await receiver({ status: 200 });
    const harness = await pipeline({
      yaml: configYaml(
        exportYaml('loopback', `${loopback.url}/hook`),
        exportYaml('by-name', `http://localhost:${byName.port}/hook`),
        exportYaml('internal-bus', `${allowed.url}/hook`, true),
      ),
      guardedHttp: guardedClient(),
    });
    const event = auditEvent();

    // Act
    await harness.pushEvents([event]);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 2, {
      what: 'two archived dead letters',
    });
    await harness.waitForIdle();

    // Assess
    expect(loopback.connectionCount).toBe(0);
    expect(byName.connectionCount).toBe(0);
    expect(allowed.requests).toHaveLength(1);
    const attempts = harness.noticesOf('attempt');
    expect(attempts.filter((notice) => notice.export !== 'internal-bus')).toEqual([
      expect.objectContaining({ attempt: 1, errorClass: 'blocked_address', outcome: 'permanent' }),
      expect.objectContaining({ attempt: 1, errorClass: 'blocked_address', outcome: 'permanent' }),
    ]);
    const letters = (await harness.drainArchive()).map((message) => message.json as DeadLetter);
    expect(letters.map((letter) => letter.export).sort()).toEqual(['by-name', 'loopback']);
    for (const letter of letters) {
      expect(letter).toMatchObject({
        reason: 'permanent',
        error_class: 'blocked_address',
        attempts: 1,
        event,
      });
      expect(letter.detail).toContain('allow_private_network: true');
    }
    expect(harness.noticesOf('retry_scheduled')).toEqual([]);
  });

  it('without a guard (the local default) delivers to 127.0.0.1', async () => {
    // Prepare
    const target = await receiver({ status: 200 });
    const harness = await pipeline({ yaml: configYaml(exportYaml('local', `${target.url}/hook`)) });

    // Act
    await harness.pushEvents([auditEvent()]);
    await target.waitForRequests(1);
    await harness.waitForIdle();

    // Assess
    expect(target.requests).toHaveLength(1);
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
  });
});

describe('Function: handler() (deployed delivery function)', () => {
  it('refuses private addresses by default when built from its runtime environment', async () => {
    // Prepare
    const savedEnv = { ...process.env };
    const dir = await mkdtemp(join(tmpdir(), 'ssrf-deployed-'));
    stack.add(dir, async () => {
      for (const name of Object.keys(process.env)) {
        if (!(name in savedEnv)) delete process.env[name];
      }
      Object.assign(process.env, savedEnv);
      await rm(dir, { recursive: true, force: true });
    });
    stack.add(undefined, async () => {
      await defaultHttpClient().close();
      await guardedHttpClient().close();
    });
    const server = stack.add(await startEmbeddedSqs(), (started) => started.stop());
    const sqs = stack.add(localSqsClient(server.endpoint), (client) => client.destroy());
    const blocked = await receiver({ status: 200 });
    const allowed = await receiver({ status: 200 });
    const config = await configFromYaml(
      configYaml(
        exportYaml('public-looking', `${blocked.url}/hook`),
        exportYaml('internal-bus', `${allowed.url}/hook`, true),
      ),
    );
    const queues = await createPipelineQueues(sqs, config, 'test');
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    Object.assign(process.env, {
      TAPPASS_STAGE: 'test',
      TAPPASS_CONFIG_FILE: configFile,
      // The server's origin, as on AWS, where queue URLs and the SQS endpoint share a host.
      TAPPASS_QUEUE_URL_BASE: `${server.endpoint}/000000000000/`,
      AWS_ENDPOINT_URL_SQS: server.endpoint,
      TAPPASS_SECRETS: 'env',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const event = auditEvent();
    const records = [];
    for (const name of ['public-looking', 'internal-bus']) {
      await sendMessage(sqs, queues.delivery(name), {
        body: JSON.stringify(newDeliveryMessage(event, name)),
      });
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.delivery(name), VisibilityTimeout: 60 }),
      );
      const message = received.Messages?.[0];
      records.push(
        sqsRecord(message?.Body ?? '', {
          receiptHandle: message?.ReceiptHandle ?? '',
          queueArn: `arn:aws:sqs:us-east-1:000000000000:${queueNames('test').delivery(name)}`,
        }),
      );
    }
    const sqsEvent: SQSEvent = { Records: records };

    // Act
    const response = await handler(
      sqsEvent,
      lambdaContext({ functionName: 'tappass-test-delivery', timeoutMs: 60_000 }),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(blocked.connectionCount).toBe(0);
    expect(allowed.requests).toHaveLength(1);
    const letters = await drainQueue(sqs, queues.deliveryDlq('public-looking'));
    expect(letters.map((message) => message.json)).toEqual([
      expect.objectContaining({
        export: 'public-looking',
        reason: 'permanent',
        error_class: 'blocked_address',
        attempts: 1,
      }),
    ]);
    expect(await drainQueue(sqs, queues.deliveryDlq('internal-bus'))).toEqual([]);
  });
});
