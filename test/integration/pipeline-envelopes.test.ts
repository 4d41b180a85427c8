/**
 * The ingest takes what an SNS topic (raw message delivery off) or an EventBridge rule delivers:
 * the audit event inside the notification's Message or the event's detail is judged as if sent
 * alone; anything else is judged as before.
 */
import { createPipelineQueues } from '../../local/pipeline.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { type FanOutDeps, fanOut, unwrapDelivery } from '../../shared/pipeline/ingest.js';
import { newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import {
  auditEvent,
  configFromYaml,
  drainQueue,
  exportsYaml,
  sqsRecord,
} from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack({ sqs: true });
let stageCounter = 0;

const ONE_EXPORT = exportsYaml([{ name: 'everything', url: 'http://127.0.0.1:9/all' }]);
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:tappass-audit';

const snsNotification = (message: string): string =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'b5c1a0f4-0000-4000-8000-000000000001',
    TopicArn: TOPIC,
    Message: message,
    Timestamp: '2026-01-01T00:00:00.000Z',
    SignatureVersion: '1',
  });

const eventBridgeEvent = (detail: unknown): string =>
  JSON.stringify({
    version: '0',
    id: 'c0ffee00-0000-4000-8000-000000000001',
    'detail-type': 'TapPass audit event',
    source: 'tappass.audit',
    account: '111122223333',
    time: '2026-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
  });

const setup = async () => {
  stageCounter += 1;
  const config = await configFromYaml(ONE_EXPORT);
  const queues = await createPipelineQueues(stack.sqs, config, `env${stageCounter}`);
  const deps: FanOutDeps = { sqs: stack.sqs, config, queues, notify: () => undefined };
  return { queues, deps };
};

describe('Function: fanOut() on SNS and EventBridge deliveries', () => {
  const event: AuditEvent = auditEvent({ event_kind: 'auth_fail' });
  const delivered: [string, string, AuditEvent[]][] = [
    ['the event as sent', JSON.stringify(event), [event]],
    ['an SNS notification of the event', snsNotification(JSON.stringify(event)), [event]],
    ['an SNS notification of an array', snsNotification(JSON.stringify([event])), [event]],
    ['an EventBridge event with the event in detail', eventBridgeEvent(event), [event]],
  ];

  it.each(delivered)('delivers %s', async (_name, body, expected) => {
    // Prepare
    const { queues, deps } = await setup();

    // Act
    const result = await fanOut([sqsRecord(body)], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect((await drainQueue(stack.sqs, queues.delivery('everything'))).map((m) => m.json)).toEqual(
      expected.map((item) => newDeliveryMessage(item, 'everything')),
    );
    expect(await drainQueue(stack.sqs, queues.ingestDlq)).toEqual([]);
  });

  // [name, body, reason, detail, parked text]: the unwrapped event is parked as itself, an
  // unreadable envelope whole.
  const parked: [string, string, string, RegExp, string?][] = [
    [
      'an SNS notification whose Message is not JSON',
      snsNotification('auth_fail on agent-1'),
      'not_json',
      /SNS notification from arn:aws:sns:eu-west-1:111122223333:tappass-audit whose Message is not valid JSON/,
    ],
    [
      'an SNS-like object without TopicArn (judged as an event)',
      JSON.stringify({ Type: 'Notification', Message: JSON.stringify(event) }),
      'invalid_event',
      /./,
    ],
    [
      'an EventBridge event whose detail is not an audit event',
      eventBridgeEvent({ hello: 'world' }),
      'invalid_event',
      /./,
      '{"hello":"world"}',
    ],
    [
      'an EventBridge-like object whose detail is a string (judged as an event)',
      JSON.stringify({ 'detail-type': 'x', source: 'y', detail: JSON.stringify(event) }),
      'invalid_event',
      /./,
    ],
  ];

  it.each(parked)('parks %s', async (_name, body, reason, detail, parkedText = body) => {
    // Prepare
    const { queues, deps } = await setup();

    // Act
    const result = await fanOut([sqsRecord(body, { messageId: 'wrapped-1' })], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await drainQueue(stack.sqs, queues.delivery('everything'))).toEqual([]);
    const dlq = await drainQueue(stack.sqs, queues.ingestDlq);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.body).toBe(parkedText);
    expect(dlq[0]?.attributes).toMatchObject({ reason, source_message_id: 'wrapped-1' });
    expect(dlq[0]?.attributes.detail).toMatch(detail);
  });
});

describe('Function: unwrapDelivery()', () => {
  it('parses the SNS Message through the event parser, keeping inexact numbers raw', () => {
    // Act
    const result = unwrapDelivery(
      { Type: 'Notification', TopicArn: TOPIC, Message: '\uFEFF{"n": 1234567890123456789}' },
      '',
    );

    // Assess
    expect(result.ok).toBe(true);
    expect(result.ok && JSON.stringify(result.value)).toBe('{"n":1234567890123456789}');
  });

  it('leaves arrays, strings and plain objects as they are', () => {
    for (const value of [[1], 'text', { audit_id: 'a' }, null]) {
      expect(unwrapDelivery(value, 'x')).toEqual({ ok: true, value, text: 'x' });
    }
  });
});
