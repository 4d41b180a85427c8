/**
 * The delivery step on single records, for the paths the end-to-end tests cannot reach in
 * reasonable time or at all: backoffs past SQS's 15-minute delay, an invocation out of time,
 * the growing wait after secret store failures, configuration and malformed dead letters.
 * Real SQS calls (embedded server, counted on the client) and a real receiver on 127.0.0.1.
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { toSqsEvent } from '../../local/eventSource.js';
import { createPipelineQueues } from '../../local/pipeline.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { exportsByName } from '../../shared/config/exportsByName.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { deliverRecords } from '../../shared/pipeline/delivery/engine.js';
import type { DeliveryDeps } from '../../shared/pipeline/delivery/types.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  newDeliveryMessage,
} from '../../shared/pipeline/messages/index.js';
import { SecretStoreError } from '../../shared/secrets/errors.js';
import { EnvSecretResolver, type SecretResolver } from '../../shared/secrets/resolvers.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { exportLocator } from '../../shared/sqs/queueNames.js';
import { sendMessage } from '../../shared/sqs/queues.js';
import { createHttpClient, type HttpClient } from '../../shared/transport/http.js';
import {
  auditEvent,
  configFromYaml,
  drainQueue,
  exportsYaml,
  isSend,
  recordSqsCalls,
  type SqsCall,
  sentDelays,
} from '../helpers/pipeline.js';
import { always, type Receiver, startReceiver } from '../helpers/receivers.js';

const NOW = new Date('2026-04-17T10:20:00.000Z');
const PLENTY_OF_TIME = { remainingMs: () => 60_000 };

let server: EmbeddedSqsServer;
let sqs: SQSClient;
let calls: SqsCall[];
let http: HttpClient;
let receiver: Receiver;
let stageCounter = 0;

beforeAll(async () => {
  server = await startEmbeddedSqs();
  sqs = localSqsClient(server.endpoint);
  calls = recordSqsCalls(sqs);
  http = createHttpClient();
  receiver = await startReceiver(always({ status: 503, body: 'try later' }));
});

afterAll(async () => {
  await receiver.close();
  await http.close();
  sqs.destroy();
  await server.stop();
});

interface Setup {
  readonly config: ObservabilityConfig;
  readonly queues: QueueDirectory;
  readonly notices: PipelineNotice[];
  deps(overrides?: Partial<DeliveryDeps>): DeliveryDeps;
  /** Sends a body to the export's delivery queue and receives it as a Lambda record. */
  received(body: string): Promise<SQSRecord>;
}

/** Fresh queues for one export on a stage of its own; the receiver answers 503. */
const setup = async (yamlExtras: { backoff?: number[]; headers?: Record<string, string> } = {}) => {
  stageCounter += 1;
  const stage = `dv${stageCounter}`;
  const config = await configFromYaml(
    exportsYaml([
      {
        name: 'alerts',
        url: `${receiver.url}/alerts`,
        timeoutSeconds: 5,
        maxAttempts: 3,
        backoffSeconds: yamlExtras.backoff ?? [0],
        ...(yamlExtras.headers ? { headers: yamlExtras.headers } : {}),
      },
    ]),
  );
  const queues = await createPipelineQueues(sqs, config, stage);
  const notices: PipelineNotice[] = [];
  calls.length = 0;
  const result: Setup = {
    config,
    queues,
    notices,
    deps: (overrides = {}) => ({
      sqs,
      queues,
      exports: exportsByName(config),
      http,
      secrets: new EnvSecretResolver({}),
      notify: (notice) => notices.push(notice),
      exportOfQueueArn: exportLocator(config, stage),
      now: () => NOW,
      ...overrides,
    }),
    received: async (body) => {
      const queueUrl = queues.delivery('alerts');
      await sendMessage(sqs, queueUrl, { body });
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const arn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').at(-1)}`;
      const [record] = toSqsEvent(response.Messages ?? [], arn, 'us-east-1').Records;
      if (!record) throw new Error('the test message was not received');
      calls.length = 0;
      return record;
    },
  };
  return result;
};

const visibilityChanges = (): (number | undefined)[] =>
  calls
    .filter((call) => call.command === 'ChangeMessageVisibilityCommand')
    .map((call) => call.visibilityTimeout);

/** A resolver whose store is down. */
const brokenStore: SecretResolver = {
  resolve: async (_names, exportName) => {
    throw new SecretStoreError(`could not read parameters for "${exportName}"`, exportName);
  },
};

describe('Function: deliverRecords() on single records', () => {
  it('re-enqueues a backoff over 15 minutes with the 900 s maximum delay and a not_before', async () => {
    // Prepare
    const { received, deps, queues, notices } = await setup({ backoff: [3600] });
    const requestsBefore = receiver.requests.length;
    const record = await received(JSON.stringify(newDeliveryMessage(auditEvent(), 'alerts')));

    // Act
    const report = await deliverRecords([record], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(receiver.requests.length - requestsBefore).toBe(1);
    const reEnqueued = calls.filter(
      (call) => isSend(call) && call.queueUrl === queues.delivery('alerts'),
    );
    expect(sentDelays(reEnqueued)).toEqual([900]);
    const next = JSON.parse(reEnqueued[0]?.bodies?.[0] ?? '{}') as DeliveryMessage;
    expect(next).toMatchObject({
      attempts: 1,
      first_attempt_at: NOW.toISOString(),
      last_attempt_at: NOW.toISOString(),
      last_status: 503,
      last_error_class: 'http_status',
      not_before: new Date(NOW.getTime() + 3600 * 1000).toISOString(),
    });
    expect(notices.filter((n) => n.type === 'retry_scheduled')).toEqual([
      expect.objectContaining({ nextAttempt: 2, delaySeconds: 3600 }),
    ]);
  });

  it('hides a copy received before its not_before for the rest of the wait, without a request', async () => {
    // Prepare
    const { received, deps, notices } = await setup();
    const message: DeliveryMessage = {
      ...newDeliveryMessage(auditEvent(), 'alerts'),
      attempts: 1,
      not_before: new Date(NOW.getTime() + 2_700_000).toISOString(),
    };
    const requestsBefore = receiver.requests.length;
    const record = await received(JSON.stringify(message));

    // Act
    const report = await deliverRecords([record], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(receiver.requests.length).toBe(requestsBefore);
    expect(visibilityChanges()).toEqual([2700]);
    expect(notices).toEqual([expect.objectContaining({ type: 'deferred' })]);
  });

  it('hands a record back with a short visibility when the invocation has no time left for it', async () => {
    // Prepare
    const { received, deps } = await setup();
    const requestsBefore = receiver.requests.length;
    const record = await received(JSON.stringify(newDeliveryMessage(auditEvent(), 'alerts')));

    // Act
    const report = await deliverRecords([record], deps(), { remainingMs: () => 4_000 });

    // Assess
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(receiver.requests.length).toBe(requestsBefore);
    expect(visibilityChanges()).toEqual([1]);
  });

  it.each([
    [1, 10],
    [3, 40],
    [10, 900],
  ])(
    'on receive %i after a secret store failure, hides the record for %i s without an attempt',
    async (receives, seconds) => {
      // Prepare
      const { received, deps, notices } = await setup();
      const requestsBefore = receiver.requests.length;
      const record = await received(JSON.stringify(newDeliveryMessage(auditEvent(), 'alerts')));
      const again: SQSRecord = {
        ...record,
        attributes: { ...record.attributes, ApproximateReceiveCount: String(receives) },
      };

      // Act
      const report = await deliverRecords([again], deps({ secrets: brokenStore }), PLENTY_OF_TIME);

      // Assess
      expect(report.batchItemFailures).toEqual([{ itemIdentifier: again.messageId }]);
      expect(receiver.requests.length).toBe(requestsBefore);
      expect(visibilityChanges()).toEqual([seconds]);
      expect(notices.map((notice) => notice.type)).toEqual(['deferred']);
    },
  );

  it('dead-letters a missing variable as a configuration problem, keeping the attempt count', async () => {
    // Prepare
    const { received, deps, queues } = await setup({ headers: { 'X-Key': '${ALERTS_KEY}' } });
    const requestsBefore = receiver.requests.length;
    const message = { ...newDeliveryMessage(auditEvent(), 'alerts'), attempts: 2 };
    const record = await received(JSON.stringify(message));

    // Act
    const report = await deliverRecords([record], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    expect(receiver.requests.length).toBe(requestsBefore);
    const letters = await drainQueue(sqs, queues.deliveryDlq('alerts'));
    expect(letters).toHaveLength(1);
    const letter = letters[0]?.json as DeadLetter;
    expect(letter).toMatchObject({ reason: 'configuration', attempts: 2, export: 'alerts' });
    expect(letter.detail).toContain('${ALERTS_KEY}');
  });

  it('dead-letters a malformed message as it came, with its problem as attributes', async () => {
    // Prepare
    const { received, deps, queues, notices } = await setup();
    const record = await received('{"not":"a delivery message"}');

    // Act
    const report = await deliverRecords([record], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([]);
    const letters = await drainQueue(sqs, queues.deliveryDlq('alerts'));
    expect(letters.map((letter) => [letter.body, letter.attributes.reason])).toEqual([
      ['{"not":"a delivery message"}', 'malformed'],
    ]);
    expect(notices).toEqual([
      expect.objectContaining({ type: 'dead_lettered', reason: 'malformed' }),
    ]);
  });

  it('keeps a malformed message from a queue of no known export queued, and says why', async () => {
    // Prepare
    const { received, deps } = await setup();
    const record = await received('junk');
    const stray: SQSRecord = { ...record, eventSourceARN: 'arn:aws:sqs:us-east-1:0:stranger' };

    // Act
    const report = await deliverRecords([stray], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: stray.messageId }]);
    expect(String(report.unexpected[0]?.error)).toContain('not JSON');
  });

  it('keeps a message for an export that is no longer in the configuration', async () => {
    // Prepare
    const { received, deps } = await setup();
    const record = await received(JSON.stringify(newDeliveryMessage(auditEvent(), 'removed')));

    // Act
    const report = await deliverRecords([record], deps(), PLENTY_OF_TIME);

    // Assess
    expect(report.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(calls.filter((call) => call.command.startsWith('Send'))).toHaveLength(0);
  });
});
