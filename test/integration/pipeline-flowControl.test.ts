// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` in plain strings is the config syntax under test.
/**
 * The flow-control paths of the delivery steps on records received from the embedded SQS
 * server, with a real receiver on 127.0.0.1 and SQS calls counted on the client: rate-limit
 * and pause holds (no attempt, no request), the fresh copy near the redrive budget, the pause
 * event's raise when SQS fails, and the batch step's per-event failures and signing.
 */
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { toSqsEvent } from '../../local/eventSource.js';
import { createPipelineQueues } from '../../local/pipeline.js';
import { exportsByName } from '../../shared/config/exportsByName.js';
import type { ExportConfig, ObservabilityConfig } from '../../shared/config/types.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { deliverRecords } from '../../shared/pipeline/delivery/engine.js';
import type { DeliveryDeps } from '../../shared/pipeline/delivery/types.js';
import { ExportGuards } from '../../shared/pipeline/flowControl/exportGuards.js';
import {
  announceTransition,
  exportPausedAuditId,
  retryPendingRaise,
} from '../../shared/pipeline/flowControl/exportPaused.js';
import { holdRecord } from '../../shared/pipeline/flowControl/pacing.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  newDeliveryMessage,
} from '../../shared/pipeline/messages/index.js';
import { SecretStoreError } from '../../shared/secrets/errors.js';
import { EnvSecretResolver, type SecretResolver } from '../../shared/secrets/resolvers.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { exportLocator } from '../../shared/sqs/queueNames.js';
import { maxReceiveCountFor } from '../../shared/sqs/queueSettings.js';
import { sendMessage } from '../../shared/sqs/queues.js';
import { withExportKeys } from '../helpers/flowControl.js';
import {
  auditEvent,
  auditEvents,
  configFromYaml,
  drainQueue,
  exportsYaml,
  type SqsCall,
} from '../helpers/pipeline.js';
import { always } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const NOW = new Date('2026-04-17T10:20:00.000Z');
const PLENTY_OF_TIME = { remainingMs: () => 60_000 };

const stack = useTestStack({
  sqs: true,
  http: true,
  receivers: { target: always({ status: 200 }) },
});
let stageCounter = 0;

interface Setup {
  readonly config: ObservabilityConfig;
  readonly exportConfig: ExportConfig;
  readonly queues: QueueDirectory;
  readonly notices: PipelineNotice[];
  readonly guards: ExportGuards;
  deps(overrides?: Partial<DeliveryDeps>): DeliveryDeps;
  /** Sends bodies to the export's delivery queue and receives them as Lambda records. */
  received(bodies: readonly string[]): Promise<SQSRecord[]>;
}

/** Fresh queues for one export `flow` on a stage of its own, with extra export keys. */
const setup = async (keys: Record<string, unknown>, path = '/flow'): Promise<Setup> => {
  stageCounter += 1;
  const stage = `fc${stageCounter}`;
  const config = await configFromYaml(
    withExportKeys(
      exportsYaml([
        {
          name: 'flow',
          url: `${stack.receivers.target.url}${path}`,
          maxAttempts: 3,
          backoffSeconds: [0],
        },
      ]),
      { flow: keys },
    ),
  );
  const exportConfig = config.exports[0];
  if (!exportConfig) throw new Error('the test config has no export');
  const queues = await createPipelineQueues(stack.sqs, config, stage);
  const notices: PipelineNotice[] = [];
  const guards = new ExportGuards({ rateScope: 'process', now: () => NOW.getTime() });
  return {
    config,
    exportConfig,
    queues,
    notices,
    guards,
    deps: (overrides = {}) => ({
      sqs: stack.sqs,
      queues,
      exports: exportsByName(config),
      http: stack.http,
      secrets: new EnvSecretResolver({}),
      notify: (notice) => notices.push(notice),
      exportOfQueueArn: exportLocator(config, stage),
      now: () => NOW,
      guards,
      ...overrides,
    }),
    received: async (bodies) => {
      const queueUrl = queues.delivery('flow');
      for (const body of bodies) await sendMessage(stack.sqs, queueUrl, { body });
      const messages = [];
      while (messages.length < bodies.length) {
        const response = await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        messages.push(...(response.Messages ?? []));
      }
      const arn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').at(-1)}`;
      stack.calls.length = 0;
      return toSqsEvent(messages, arn, 'us-east-1').Records;
    },
  };
};

const message = (overrides: Partial<DeliveryMessage> = {}): string =>
  JSON.stringify({ ...newDeliveryMessage(auditEvent(), 'flow'), ...overrides });

const commands = (name: string): SqsCall[] => stack.calls.filter((call) => call.command === name);

/** A resolver that counts its calls. */
const countingResolver = (): SecretResolver & { calls: number } => {
  const resolver = {
    calls: 0,
    resolve: async () => {
      resolver.calls += 1;
      return {};
    },
  };
  return resolver;
};

describe('Function: deliverRecords() with guards', () => {
  it('holds a record whose rate-limit slot is beyond the wait bound: no request, no attempt', async () => {
    // Prepare
    const { received, deps, notices } = await setup({ rate_limit_per_second: 0.5 });
    const [first, second] = await received([message(), message()]);
    if (!first || !second) throw new Error('records missing');
    const requestsBefore = stack.receivers.target.requests.length;

    // Act
    const sent = await deliverRecords([first], deps(), PLENTY_OF_TIME);
    const held = await deliverRecords([second], deps(), PLENTY_OF_TIME);

    // Assess
    expect(sent.batchItemFailures).toEqual([]);
    expect(held.batchItemFailures).toEqual([{ itemIdentifier: second.messageId }]);
    expect(stack.receivers.target.requests.length - requestsBefore).toBe(1);
    expect(
      commands('ChangeMessageVisibilityCommand').map((call) => call.visibilityTimeout),
    ).toEqual([2]);
    expect(commands('SendMessageCommand')).toEqual([]);
    expect(commands('SendMessageBatchCommand')).toEqual([]);
    expect(notices.filter((notice) => notice.type === 'deferred')).toEqual([
      expect.objectContaining({
        why: expect.stringMatching(/^rate limit/),
        visibleAgainInSeconds: 2,
      }),
    ]);
  });

  it('holds every record of a paused export for the rest of the cooldown, before resolving secrets', async () => {
    // Prepare
    const { received, deps, guards, exportConfig, notices } = await setup({
      breaker: { cooldown_seconds: 45 },
    });
    guards.breaker(exportConfig)?.trip();
    const [record] = await received([message()]);
    if (!record) throw new Error('record missing');
    const secrets = countingResolver();
    const requestsBefore = stack.receivers.target.requests.length;

    // Act
    const report = await deliverRecords([record], deps({ secrets }), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(secrets.calls).toBe(0);
    expect(stack.receivers.target.requests.length).toBe(requestsBefore);
    expect(
      commands('ChangeMessageVisibilityCommand').map((call) => call.visibilityTimeout),
    ).toEqual([45]);
    expect(notices).toEqual([
      expect.objectContaining({ type: 'deferred', why: 'the export is paused by its breaker' }),
    ]);
  });

  it('dead-letters an expired event without resolving secrets or sending', async () => {
    // Prepare
    const { received, deps, queues } = await setup({ max_event_age_seconds: 60 });
    const old = auditEvent({ timestamp: '2026-04-17T10:00:00Z' });
    const [record] = await received([
      JSON.stringify({ ...newDeliveryMessage(old, 'flow'), attempts: 2 }),
    ]);
    if (!record) throw new Error('record missing');
    const secrets = countingResolver();
    const requestsBefore = stack.receivers.target.requests.length;

    // Act
    const report = await deliverRecords([record], deps({ secrets }), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(secrets.calls).toBe(0);
    expect(stack.receivers.target.requests.length).toBe(requestsBefore);
    const letters = (await drainQueue(stack.sqs, queues.deliveryDlq('flow'))).map(
      (queued) => queued.json as DeadLetter,
    );
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'expired',
        attempts: 2,
        detail: expect.stringContaining('the event is 20m old'),
      }),
    ]);
  });
});

describe('Function: holdRecord()', () => {
  it('hides a copy with receives to spare, and replaces one near its redrive budget', async () => {
    // Prepare
    const { received, exportConfig, queues, notices } = await setup({});
    const body = message({ attempts: 1 });
    const [record] = await received([body]);
    if (!record) throw new Error('record missing');
    const worn: SQSRecord = {
      ...record,
      attributes: {
        ...record.attributes,
        ApproximateReceiveCount: String(maxReceiveCountFor(exportConfig) - 3),
      },
    };
    const input = {
      sqs: stack.sqs,
      queueUrl: queues.delivery('flow'),
      message: JSON.parse(body) as DeliveryMessage,
      exportConfig,
      why: 'paused',
      seconds: 1_200,
      notify: (notice: PipelineNotice) => notices.push(notice),
      now: NOW,
    };

    // Act
    const fresh = await holdRecord({ ...input, record });
    const replaced = await holdRecord({ ...input, record: worn });

    // Assess
    expect([fresh, replaced]).toEqual(['hidden', 'replaced']);
    expect(
      commands('ChangeMessageVisibilityCommand').map((call) => call.visibilityTimeout),
    ).toEqual([1_200]);
    const copies = commands('SendMessageCommand');
    expect(copies.map((call) => call.delaySeconds)).toEqual([900]);
    expect(JSON.parse(copies[0]?.bodies?.[0] ?? '{}')).toMatchObject({
      attempts: 1,
      not_before: new Date(NOW.getTime() + 1_200_000).toISOString(),
    });
  });
});

describe('Function: announceTransition()', () => {
  it('keeps a pause event SQS refused and raises it on the next try, with the same audit_id', async () => {
    // Prepare
    const { exportConfig, queues, guards, notices } = await setup({});
    const failing = {
      send: async () => {
        throw new Error('SQS is down');
      },
    } as unknown as SQSClient;
    const transition = guards.breaker(exportConfig)?.trip();
    if (!transition) throw new Error('no breaker');
    const ctx = {
      queues,
      guards,
      exportConfig,
      now: NOW,
      notify: (notice: PipelineNotice) => notices.push(notice),
    };

    // Act
    await announceTransition(transition, { ...ctx, sqs: failing });
    await retryPendingRaise({ ...ctx, sqs: stack.sqs });

    // Assess
    expect(notices).toEqual([expect.not.objectContaining({ raisedAuditId: expect.anything() })]);
    const raised = (await drainQueue(stack.sqs, queues.ingest)).map((queued) => queued.json);
    expect(raised).toEqual([
      expect.objectContaining({
        audit_id: exportPausedAuditId('flow', NOW.getTime(), 60_000),
        event_kind: 'webhook.export_paused',
        reason: 'gone',
      }),
    ]);
    expect(guards.pendingRaises.size).toBe(0);
  });

  it('derives the same audit_id for pauses in the same cooldown period', () => {
    // Act and assess
    expect(exportPausedAuditId('s3', Date.parse('2026-04-17T10:15:42Z'), 60_000)).toBe(
      's3:paused:2026-04-17T10:15:00.000Z',
    );
    expect(exportPausedAuditId('s3', Date.parse('2026-04-17T10:15:59Z'), 60_000)).toBe(
      exportPausedAuditId('s3', Date.parse('2026-04-17T10:15:00Z'), 60_000),
    );
  });
});

describe('Function: deliverRecords() for a batched export', () => {
  it('dead-letters only the event that cannot join the batch and sends the rest as one request', async () => {
    // Prepare
    const { received, deps, queues } = await setup(
      {
        format: 'text',
        batch: { max_events: 10, max_wait_seconds: 1 },
        webhook: { body_template: '{{audit_id}} {{note}}' },
      },
      '/text-batch',
    );
    const events = auditEvents(3, (index) => ({ note: index === 1 ? 'two\nlines' : 'ok' }));
    const records = await received(
      events.map((event) => JSON.stringify(newDeliveryMessage(event, 'flow'))),
    );

    // Act
    const { batchItemFailures } = await deliverRecords(records, deps(), PLENTY_OF_TIME);

    // Assess
    expect(batchItemFailures).toEqual([]);
    const requests = stack.receivers.target.requests.filter(
      (request) => request.url === '/text-batch',
    );
    expect(requests.map((request) => request.body)).toEqual([
      `${events[0]?.audit_id} ok\n${events[2]?.audit_id} ok\n`,
    ]);
    const letters = (await drainQueue(stack.sqs, queues.deliveryDlq('flow'))).map(
      (queued) => queued.json as DeadLetter,
    );
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'render',
        attempts: 0,
        event: expect.objectContaining({ audit_id: events[1]?.audit_id }),
      }),
    ]);
  });

  it('hides every record when the secret store fails, sending nothing and spending no attempt', async () => {
    // Prepare
    const { received, deps, notices } = await setup({ batch: { max_events: 10 } }, '/store-down');
    const records = await received([message(), message()]);
    const brokenStore: SecretResolver = {
      resolve: async (_names, exportName) => {
        throw new SecretStoreError(`could not read parameters for "${exportName}"`, exportName);
      },
    };

    // Act
    const { batchItemFailures } = await deliverRecords(
      records,
      deps({ secrets: brokenStore }),
      PLENTY_OF_TIME,
    );

    // Assess
    expect(batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      records.map((record) => record.messageId).sort(),
    );
    expect(
      stack.receivers.target.requests.filter((request) => request.url === '/store-down'),
    ).toEqual([]);
    expect(commands('ChangeMessageVisibilityCommand')).toHaveLength(2);
    expect(notices.filter((notice) => notice.type === 'deferred')).toHaveLength(2);
  });

  it("keeps the export's own headers and replaces the per-event ones with the batch's", async () => {
    // Prepare
    const { received, deps } = await setup(
      {
        batch: { max_events: 10 },
        webhook: {
          headers: { 'Content-Type': 'application/vnd.archive+json', 'X-Archive-Token': 'k1' },
        },
      },
      '/headers-batch',
    );
    const records = await received([message(), message()]);

    // Act
    const { batchItemFailures } = await deliverRecords(records, deps(), PLENTY_OF_TIME);

    // Assess
    expect(batchItemFailures).toEqual([]);
    const [request] = stack.receivers.target.requests.filter(
      (candidate) => candidate.url === '/headers-batch',
    );
    expect(request?.headers).toMatchObject({
      'content-type': 'application/vnd.archive+json',
      'x-archive-token': 'k1',
      'idempotency-key': expect.stringMatching(/^bat_/),
      'webhook-id': expect.stringMatching(/^bat_/),
    });
    expect(request?.headers['user-agent']).toMatch(/^tappass-webhooks/);
  });

  it('signs the joined body with the batch id, verifiable by a Standard Webhooks receiver', async () => {
    // Prepare
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const { received, deps } = await setup(
      {
        batch: { max_events: 10 },
        webhook: { signing: { secret: '${ARCHIVE_SIGNING_SECRET}' } },
      },
      '/signed-batch',
    );
    const records = await received([message(), message(), message()]);

    // Act
    const { batchItemFailures } = await deliverRecords(
      records,
      deps({ secrets: new EnvSecretResolver({ ARCHIVE_SIGNING_SECRET: secret }) }),
      PLENTY_OF_TIME,
    );

    // Assess
    expect(batchItemFailures).toEqual([]);
    const [request] = stack.receivers.target.requests.filter(
      (candidate) => candidate.url === '/signed-batch',
    );
    const headers = Object.fromEntries(
      Object.entries(request?.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    expect(() =>
      new Webhook(secret).verify(request?.body ?? '', headers, { jsonParse: false }),
    ).not.toThrow();
    expect(headers['webhook-id']).toMatch(/^bat_/);
    expect(headers['idempotency-key']).toBe(headers['webhook-id']);
    expect(JSON.parse(request?.body ?? '[]')).toHaveLength(3);
  });
});
