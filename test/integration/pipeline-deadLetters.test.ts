/**
 * The dead-letter step: reading what a delivery DLQ holds (a written dead letter, or a delivery
 * message SQS redrove by itself), raising one webhook.dlq event and archiving, against the
 * embedded SQS server.
 */
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createPipelineQueues } from '../../local/pipeline.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import {
  type DeadLetterDeps,
  handleDeadLetter,
  RaiseDeferredError,
  readDeadLetter,
  UnreadableDeadLetterError,
} from '../../shared/pipeline/deadLetters/raise.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  deliveryId,
  dlqEvent,
  MESSAGE_VERSION,
  newDeliveryMessage,
} from '../../shared/pipeline/messages/index.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { exportLocator, queueNames } from '../../shared/sqs/queueNames.js';
import { DLQ_MAX_RECEIVE_COUNT } from '../../shared/sqs/queueSettings.js';
import { injectFaults } from '../helpers/faults.js';
import {
  auditEvent,
  configFromYaml,
  drainQueue,
  exportsYaml,
  queueDepth,
  sqsRecord,
} from '../helpers/pipeline.js';

const NOW = new Date('2026-04-17T10:20:00.000Z');

const dlqArn = (stage: string, exportName: string): string =>
  `arn:aws:sqs:us-east-1:000000000000:${queueNames(stage).deliveryDlq(exportName)}`;

const deadLetterFor = (overrides: Partial<DeadLetter> = {}): DeadLetter => {
  const event = auditEvent();
  return {
    v: MESSAGE_VERSION,
    kind: 'dead_letter',
    delivery_id: deliveryId(event.audit_id, 'pagerduty'),
    export: 'pagerduty',
    reason: 'exhausted',
    detail: 'HTTP 500 from receiver (server error); gave up after 3 of 3 attempts',
    attempts: 3,
    first_attempt_at: '2026-04-17T10:15:04.000Z',
    last_attempt_at: '2026-04-17T10:15:10.000Z',
    last_status: 500,
    error_class: 'http_status',
    response_snippet: 'oops',
    dead_lettered_at: '2026-04-17T10:15:10.100Z',
    event,
    ...overrides,
  };
};

let config: ObservabilityConfig;

beforeAll(async () => {
  config = await configFromYaml(
    exportsYaml([
      { name: 'pagerduty', url: 'http://127.0.0.1:9/pd' },
      { name: 'slack', url: 'http://127.0.0.1:9/slack' },
    ]),
  );
});

describe('Function: readDeadLetter()', () => {
  const deps = (): DeadLetterDeps => ({
    sqs: undefined as unknown as SQSClient,
    queues: undefined as unknown as QueueDirectory,
    notify: () => undefined,
    exportOfQueueArn: exportLocator(config, 'unit'),
  });

  it('passes a dead letter written by the delivery step through unchanged', () => {
    // Prepare
    const letter = deadLetterFor();

    // Act
    const read = readDeadLetter(sqsRecord(JSON.stringify(letter)), deps(), NOW);

    // Assess
    expect(read).toEqual(letter);
  });

  it('turns a delivery message redriven by SQS into a dead letter with reason redrive', () => {
    // Prepare
    const message: DeliveryMessage = {
      ...newDeliveryMessage(auditEvent(), 'slack'),
      attempts: 2,
      first_attempt_at: '2026-04-17T10:15:04.000Z',
      last_attempt_at: '2026-04-17T10:15:08.000Z',
      last_status: 503,
      last_error_class: 'http_status',
    };
    const record = sqsRecord(JSON.stringify(message), {
      queueArn: dlqArn('unit', 'slack'),
      receiveCount: 8,
    });

    // Act
    const read = readDeadLetter(record, deps(), NOW);

    // Assess
    expect(read).toEqual({
      v: MESSAGE_VERSION,
      kind: 'dead_letter',
      delivery_id: message.delivery_id,
      export: 'slack',
      reason: 'redrive',
      detail: expect.stringContaining('8 receive(s)'),
      attempts: 2,
      first_attempt_at: message.first_attempt_at,
      last_attempt_at: message.last_attempt_at,
      last_status: 503,
      error_class: 'http_status',
      dead_lettered_at: NOW.toISOString(),
      event: message.event,
    });
  });

  it('finds the export of a redriven message without one from the queue ARN', () => {
    // Prepare
    const { export: _dropped, ...message } = newDeliveryMessage(auditEvent(), 'pagerduty');
    const record = sqsRecord(JSON.stringify(message), { queueArn: dlqArn('unit', 'pagerduty') });

    // Act
    const read = readDeadLetter(record, deps(), NOW);

    // Assess
    expect(read.export).toBe('pagerduty');
    expect(read.reason).toBe('redrive');
  });

  it.each([
    ['text that is not JSON', 'junk'],
    ['JSON that is not an object', '42'],
    ['an object without an audit event', '{"hello":"world"}'],
  ])('throws UnreadableDeadLetterError for %s', (_label, body) => {
    // Act
    const read = () => readDeadLetter(sqsRecord(body), deps(), NOW);

    // Assess
    expect(read).toThrow(UnreadableDeadLetterError);
  });
});

describe('Function: handleDeadLetter()', () => {
  let server: EmbeddedSqsServer;
  let sqs: SQSClient;
  let stageCounter = 0;

  beforeAll(async () => {
    server = await startEmbeddedSqs();
    sqs = localSqsClient(server.endpoint);
  });

  afterAll(async () => {
    sqs.destroy();
    await server.stop();
  });

  /** Fresh queues (a stage of their own) and the deps of the step, with notices recorded. */
  const setup = async () => {
    stageCounter += 1;
    const stage = `dl${stageCounter}`;
    const queues = await createPipelineQueues(sqs, config, stage);
    const notices: PipelineNotice[] = [];
    const deps: DeadLetterDeps = {
      sqs,
      queues,
      notify: (notice) => notices.push(notice),
      exportOfQueueArn: exportLocator(config, stage),
      now: () => NOW,
    };
    return { stage, queues, notices, deps };
  };

  it('raises one webhook.dlq event into the ingest queue and archives the dead letter', async () => {
    // Prepare
    const { stage, queues, notices, deps } = await setup();
    const letter = deadLetterFor();
    const record = sqsRecord(JSON.stringify(letter), { queueArn: dlqArn(stage, 'pagerduty') });

    // Act
    await handleDeadLetter(record, deps);

    // Assess
    const raised = await drainQueue(sqs, queues.ingest);
    expect(raised.map((message) => message.json)).toEqual([dlqEvent(letter, NOW)]);
    const archive = await drainQueue(sqs, queues.deadLetters);
    expect(archive).toHaveLength(1);
    expect(archive[0]?.json).toEqual(letter);
    expect(archive[0]?.attributes).toEqual({
      export: 'pagerduty',
      audit_id: letter.event.audit_id,
      reason: 'exhausted',
      delivery_id: letter.delivery_id,
      alert: 'raised',
    });
    expect(notices.map((notice) => notice.type)).toEqual([
      'dlq_event_raised',
      'dead_letter_archived',
    ]);
  });

  it('hides a dead letter whose raise failed for a growing wait and keeps it on its queue', async () => {
    // Prepare: the ingest queue refuses every send.
    const { stage, queues, notices, deps } = await setup();
    const faulty = localSqsClient(server.endpoint);
    const faults = injectFaults(faulty);
    faults.add({
      command: 'SendMessageCommand',
      when: (input) => input.QueueUrl === queues.ingest,
      timing: 'before',
    });
    const letter = deadLetterFor();
    const queueArn = dlqArn(stage, 'pagerduty');
    // A real record of the export's DLQ, received with a 1 s visibility.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.deliveryDlq('pagerduty'),
        MessageBody: JSON.stringify(letter),
      }),
    );
    const { Messages: [received] = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.deliveryDlq('pagerduty'),
        VisibilityTimeout: 1,
        WaitTimeSeconds: 1,
      }),
    );
    if (received?.ReceiptHandle === undefined) throw new Error('the dead letter was not received');

    // Act: as the third receive of the record.
    const error = await handleDeadLetter(
      sqsRecord(JSON.stringify(letter), {
        queueArn,
        receiveCount: 3,
        receiptHandle: received.ReceiptHandle,
      }),
      { ...deps, sqs: faulty, raiseRetrySeconds: 10 },
    ).catch((caught: unknown) => caught);

    // Assess: deferred 40 s (10 doubling twice), nothing archived, nothing raised; past its
    // 1 s receive visibility the record is still hidden on its own queue.
    expect(error).toBeInstanceOf(RaiseDeferredError);
    expect(notices).toEqual([
      expect.objectContaining({ type: 'deferred', export: 'pagerduty', visibleAgainInSeconds: 40 }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.deliveryDlq('pagerduty'), WaitTimeSeconds: 0 }),
    );
    expect(again.Messages ?? []).toEqual([]);
    expect(await queueDepth(sqs, queues.deliveryDlq('pagerduty'))).toBe(1);
    expect(await drainQueue(sqs, queues.deadLetters)).toHaveLength(0);
    expect(await drainQueue(sqs, queues.ingest)).toHaveLength(0);
    faulty.destroy();
  });

  it('gives the raise up on the last receive: archived with alert not_raised, and the alarm notice', async () => {
    // Prepare
    const { stage, queues, notices, deps } = await setup();
    const faulty = localSqsClient(server.endpoint);
    injectFaults(faulty).add({
      command: 'SendMessageCommand',
      when: (input) => input.QueueUrl === queues.ingest,
      timing: 'before',
    });
    const letter = deadLetterFor();
    const record = sqsRecord(JSON.stringify(letter), {
      queueArn: dlqArn(stage, 'pagerduty'),
      receiveCount: DLQ_MAX_RECEIVE_COUNT,
    });

    // Act
    await handleDeadLetter(record, { ...deps, sqs: faulty });

    // Assess
    const archive = await drainQueue(sqs, queues.deadLetters);
    expect(archive.map((message) => [message.json, message.attributes.alert])).toEqual([
      [letter, 'not_raised'],
    ]);
    expect(notices).toEqual([
      expect.objectContaining({
        type: 'alert_not_raised',
        export: 'pagerduty',
        deliveryId: letter.delivery_id,
      }),
      expect.objectContaining({ type: 'dead_letter_archived', raised: false }),
    ]);
    faulty.destroy();
  });

  it('raises the same audit_id when the same dead letter is handled twice', async () => {
    // Prepare
    const { stage, queues, deps } = await setup();
    const body = JSON.stringify(deadLetterFor());
    const queueArn = dlqArn(stage, 'pagerduty');

    // Act
    await handleDeadLetter(sqsRecord(body, { queueArn }), deps);
    await handleDeadLetter(sqsRecord(body, { queueArn }), deps);

    // Assess
    const raised = await drainQueue(sqs, queues.ingest);
    const auditIds = raised.map((message) => (message.json as { audit_id: string }).audit_id);
    expect(auditIds).toHaveLength(2);
    expect(new Set(auditIds).size).toBe(1);
  });

  it('archives a dead webhook.dlq delivery without raising anything', async () => {
    // Prepare
    const { stage, queues, notices, deps } = await setup();
    const original = deadLetterFor();
    const letter = deadLetterFor({
      export: 'slack',
      reason: 'permanent',
      event: dlqEvent(original, NOW),
    });
    const record = sqsRecord(JSON.stringify(letter), { queueArn: dlqArn(stage, 'slack') });

    // Act
    await handleDeadLetter(record, deps);

    // Assess
    expect(await drainQueue(sqs, queues.ingest)).toHaveLength(0);
    const archive = await drainQueue(sqs, queues.deadLetters);
    expect(archive.map((message) => message.attributes.export)).toEqual(['slack']);
    expect(notices).toEqual([
      {
        type: 'dead_letter_archived',
        export: 'slack',
        auditId: letter.event.audit_id,
        raised: false,
      },
    ]);
  });

  it('archives a record without an audit event as it came, with reason malformed', async () => {
    // Prepare
    const { stage, queues, notices, deps } = await setup();
    const record = sqsRecord('not a dead letter', {
      messageId: 'junk-1',
      queueArn: dlqArn(stage, 'slack'),
    });

    // Act
    await handleDeadLetter(record, deps);

    // Assess
    expect(await drainQueue(sqs, queues.ingest)).toHaveLength(0);
    const archive = await drainQueue(sqs, queues.deadLetters);
    expect(archive.map((message) => [message.body, message.attributes])).toEqual([
      [
        'not a dead letter',
        {
          export: 'slack',
          reason: 'malformed',
          detail: 'the message body is not JSON',
          source_message_id: 'junk-1',
        },
      ],
    ]);
    expect(notices).toEqual([{ type: 'dead_letter_archived', export: 'slack', raised: false }]);
  });

  it.each([
    [
      'a delivery message of an unknown version',
      JSON.stringify({ ...newDeliveryMessage(auditEvent(), 'slack'), v: 99 }),
      'unknown message version 99',
    ],
    [
      'a delivery message without an attempt count',
      JSON.stringify({ ...newDeliveryMessage(auditEvent(), 'slack'), attempts: undefined }),
      'the message has no attempt count',
    ],
    ['a body that is not JSON', '{"truncated', 'the message body is not JSON'],
  ])(
    'archives %s that the delivery function parked whole, with its reason, detail and original message id',
    async (_what, body, detail) => {
      // Prepare: what the delivery function writes to the DLQ for a record it cannot read.
      const { stage, queues, notices, deps } = await setup();
      const record = sqsRecord(body, {
        messageId: 'dlq-copy-7',
        queueArn: dlqArn(stage, 'slack'),
        attributes: {
          export: 'slack',
          reason: 'malformed',
          detail: `${detail} (read by the delivery function)`,
          source_message_id: 'original-42',
        },
      });

      // Act
      await handleDeadLetter(record, deps);

      // Assess: kept whole, nothing raised, the first reader's words and the original id.
      expect(await drainQueue(sqs, queues.ingest)).toHaveLength(0);
      const archive = await drainQueue(sqs, queues.deadLetters);
      expect(archive.map((message) => [message.body, message.attributes])).toEqual([
        [
          body,
          {
            export: 'slack',
            reason: 'malformed',
            detail: `${detail} (read by the delivery function)`,
            source_message_id: 'original-42',
          },
        ],
      ]);
      expect(notices).toEqual([{ type: 'dead_letter_archived', export: 'slack', raised: false }]);
    },
  );
});
