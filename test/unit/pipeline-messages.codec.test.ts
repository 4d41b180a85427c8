/**
 * The codec of queue bodies, table by table: for each kind of body (delivery message, dead
 * letter, webhook.dlq event, malformed record) what is written reads back the same, and each
 * kind of invalid body is refused with its problem, never a throw.
 */

import {
  buildDeadLetter,
  type DeadLetter,
  type DeliveryMessage,
  deadLetterMessage,
  deliveryId,
  dlqEvent,
  EMPTY_BODY,
  MESSAGE_VERSION,
  malformedMessage,
  malformedRecord,
  newDeliveryMessage,
  nextAttemptMessage,
  RESPONSE_SNIPPET_BYTES,
  readDeadLetter,
  readDeliveryMessage,
  readDlqEvent,
  readMalformedMessage,
  replayMessage,
} from '../../shared/pipeline/messages/index.js';
import type { SendResult } from '../../shared/transport/http.js';
import { auditEvent } from '../helpers/pipeline.js';

const NOW = new Date('2026-04-17T10:20:00.000Z');

/** A delivery message that has been tried: every optional field set. */
const triedMessage = (): DeliveryMessage =>
  nextAttemptMessage(
    newDeliveryMessage(auditEvent(), 'pagerduty'),
    2,
    { status: 503, errorClass: 'http_status' },
    3_600,
    new Date('2026-04-17T10:15:08.000Z'),
  );

const failedSend = (overrides: Partial<SendResult> = {}): SendResult => ({
  status: 500,
  latencyMs: 12,
  bodySnippet: 'oops',
  bodyTruncated: false,
  errorClass: 'http_status',
  ...overrides,
});

const deadLetterFor = (message: DeliveryMessage = triedMessage()): DeadLetter =>
  buildDeadLetter({
    message,
    reason: 'exhausted',
    detail: 'HTTP 500 from receiver (server error); gave up after 3 of 3 attempts',
    attempts: 3,
    result: failedSend(),
    secretValues: [],
    now: NOW,
  });

/** `value` as JSON, with one field replaced (or removed, for `undefined`). */
const withField = (value: object, field: string, replacement: unknown): string =>
  JSON.stringify({ ...value, [field]: replacement });

const REDRIVE = { detail: 'SQS moved it', now: NOW } as const;

describe('Function: readDeliveryMessage()', () => {
  it.each([
    ['a fresh message', () => newDeliveryMessage(auditEvent(), 'slack')],
    ['a message carrying its next attempt', triedMessage],
    ['the replay of a dead letter', () => replayMessage(deadLetterFor(), NOW)],
  ])('reads back %s as it was written', (_label, write) => {
    // Prepare
    const message = write();

    // Act
    const read = readDeliveryMessage(JSON.stringify(message));

    // Assess
    expect(read).toEqual({ ok: true, message });
  });

  it('keeps every field of the event as it came', () => {
    // Prepare
    const event = auditEvent({ policy_result: { verdict: 'block', rules: ['a', 'b'] }, n: 1 });
    const message = newDeliveryMessage(event, 'slack');

    // Act
    const read = readDeliveryMessage(JSON.stringify(message));

    // Assess
    expect(read.ok && read.message.event).toEqual(event);
  });

  const valid = newDeliveryMessage(auditEvent(), 'slack');
  it.each([
    ['text that is not JSON', 'junk', 'the message body is not JSON'],
    ['an empty body', '', 'the message body is not JSON'],
    ['a number', '42', 'the message is not an object'],
    ['null', 'null', 'the message is not an object'],
    ['an array', '[]', 'the message is not an object'],
    ['an object without a version', '{}', 'unknown message version undefined'],
    ['a later version', withField(valid, 'v', 2), 'unknown message version 2'],
    ['a version as text', withField(valid, 'v', '1'), 'unknown message version 1'],
    ['no export', withField(valid, 'export', undefined), 'the message names no export'],
    ['an export that is not text', withField(valid, 'export', 7), 'the message names no export'],
    [
      'no delivery_id',
      withField(valid, 'delivery_id', undefined),
      'the message has no delivery_id',
    ],
    [
      'no attempt count',
      withField(valid, 'attempts', undefined),
      'the message has no attempt count',
    ],
    [
      'a negative attempt count',
      withField(valid, 'attempts', -1),
      'the message has no attempt count',
    ],
    ['attempts as text', withField(valid, 'attempts', '1'), 'the message has no attempt count'],
    ['no event', withField(valid, 'event', undefined), 'the message holds no valid audit event'],
    [
      'an invalid event',
      withField(valid, 'event', { ...valid.event, severity: 'loud' }),
      'the message holds no valid audit event',
    ],
    [
      'a last status that is not a number',
      withField(valid, 'last_status', '503'),
      "the message's last_status is not a number",
    ],
    [
      'a wrong version and no export (the version is checked first)',
      JSON.stringify({ v: 3, delivery_id: 'x' }),
      'unknown message version 3',
    ],
  ])('refuses %s', (_label, body, problem) => {
    // Act
    const read = readDeliveryMessage(body);

    // Assess
    expect(read).toEqual({ ok: false, problem });
  });
});

describe('Function: readDeadLetter()', () => {
  it('reads back a dead letter as it was written', () => {
    // Prepare
    const letter = deadLetterFor();

    // Act
    const read = readDeadLetter(JSON.stringify(letter), REDRIVE);

    // Assess
    expect(read).toEqual({ ok: true, deadLetter: letter });
  });

  it('reads a delivery message as a redrive dead letter built by buildDeadLetter()', () => {
    // Prepare
    const message = triedMessage();

    // Act
    const read = readDeadLetter(JSON.stringify(message), REDRIVE);

    // Assess
    const expected = buildDeadLetter({
      message,
      reason: 'redrive',
      detail: 'SQS moved it',
      attempts: 2,
      secretValues: [],
      now: NOW,
    });
    expect(read).toEqual({ ok: true, deadLetter: expected });
    expect(expected).toMatchObject({
      first_attempt_at: message.first_attempt_at,
      last_attempt_at: message.last_attempt_at,
      last_status: 503,
      error_class: 'http_status',
      dead_lettered_at: NOW.toISOString(),
    });
  });

  it('takes the export of a redriven message that names none from its queue', () => {
    // Prepare
    const body = withField(newDeliveryMessage(auditEvent(), 'slack'), 'export', undefined);

    // Act
    const fromQueue = readDeadLetter(body, { ...REDRIVE, exportOfQueue: 'slack' });
    const unknown = readDeadLetter(body, REDRIVE);

    // Assess
    expect(fromQueue.ok && fromQueue.deadLetter.export).toBe('slack');
    expect(unknown).toEqual({ ok: false, problem: 'the message names no export' });
  });

  const letter = deadLetterFor();
  it.each([
    ['text that is not JSON', 'junk', 'the message body is not JSON'],
    ['a number', '42', 'the message is not an object'],
    ['an object of neither kind', '{"hello":"world"}', 'unknown message version undefined'],
    ['a later version', withField(letter, 'v', 2), 'unknown message version 2'],
    ['no export', withField(letter, 'export', undefined), 'the message names no export'],
    [
      'no delivery_id',
      withField(letter, 'delivery_id', undefined),
      'the message has no delivery_id',
    ],
    ['an unknown reason', withField(letter, 'reason', 'bored'), 'unknown dead-letter reason bored'],
    ['no detail', withField(letter, 'detail', undefined), 'the dead letter has no detail'],
    [
      'no attempt count',
      withField(letter, 'attempts', undefined),
      'the message has no attempt count',
    ],
    [
      'no dead_lettered_at',
      withField(letter, 'dead_lettered_at', undefined),
      'the dead letter has no dead_lettered_at time',
    ],
    ['no event', withField(letter, 'event', undefined), 'the message holds no valid audit event'],
    [
      'an error class that is not text',
      withField(letter, 'error_class', 5),
      "the message's error_class is not a string",
    ],
  ])('refuses %s', (_label, body, problem) => {
    // Act
    const read = readDeadLetter(body, REDRIVE);

    // Assess
    expect(read).toEqual({ ok: false, problem });
  });
});

describe('Function: buildDeadLetter()', () => {
  it('redacts secret values and keeps at most 1 KiB of the response', () => {
    // Prepare
    const message = newDeliveryMessage(auditEvent(), 'slack');

    // Act
    const letter = buildDeadLetter({
      message,
      reason: 'permanent',
      detail: 'HTTP 401 for token s3cr3t',
      attempts: 1,
      result: failedSend({ status: 401, bodySnippet: `s3cr3t ${'x'.repeat(2_000)}` }),
      secretValues: ['s3cr3t'],
      now: NOW,
    });

    // Assess
    expect(letter.detail).toBe('HTTP 401 for token ***');
    expect(letter.response_snippet?.startsWith('*** x')).toBe(true);
    expect(Buffer.byteLength(letter.response_snippet ?? '')).toBeLessThanOrEqual(
      RESPONSE_SNIPPET_BYTES,
    );
    expect(letter).toMatchObject({
      first_attempt_at: NOW.toISOString(),
      last_attempt_at: NOW.toISOString(),
      last_status: 401,
    });
  });

  it('is archived with the attributes the CLI filters on', () => {
    // Prepare
    const letter = deadLetterFor(
      newDeliveryMessage(auditEvent({ audit_id: 'a'.repeat(300) }), 'x'),
    );

    // Act
    const message = deadLetterMessage(letter, 'raised');

    // Assess
    expect(JSON.parse(message.body)).toEqual(letter);
    expect(message.attributes).toEqual({
      export: 'x',
      audit_id: 'a'.repeat(200),
      reason: 'exhausted',
      delivery_id: deliveryId('a'.repeat(300), 'x'),
      alert: 'raised',
    });
  });
});

describe('Function: readDlqEvent()', () => {
  it('reads back the webhook.dlq event of a dead letter as it was written', () => {
    // Prepare
    const event = dlqEvent(deadLetterFor(), NOW);
    const body = JSON.stringify(event);

    // Act
    const read = readDlqEvent(body);

    // Assess
    expect(read).toEqual({ ok: true, event: JSON.parse(body) });
  });

  const event = dlqEvent(deadLetterFor(), NOW);
  it.each([
    ['text that is not JSON', 'junk', 'the message body is not JSON'],
    ['an object that is no audit event', '{}', 'the message holds no valid audit event'],
    [
      'another kind of audit event',
      JSON.stringify(auditEvent()),
      'the event is not a webhook.dlq event',
    ],
    ['no export', withField(event, 'export', undefined), 'the message names no export'],
    ['no attempt count', withField(event, 'attempts', -2), 'the message has no attempt count'],
    [
      'no original event',
      withField(event, 'original_event', undefined),
      'the webhook.dlq event holds no valid original_event',
    ],
  ])('refuses %s', (_label, body, problem) => {
    // Act
    const read = readDlqEvent(body);

    // Assess
    expect(read).toEqual({ ok: false, problem });
  });
});

describe('Function: readMalformedMessage()', () => {
  it.each([
    [
      'every field',
      { detail: 'the message has no attempt count', sourceMessageId: 'm-1', export: 'slack' },
    ],
    ['a detail only', { detail: 'the message body is not JSON' }],
  ])('reads back a malformed record with %s as it was written', (_label, fields) => {
    // Prepare
    const record = malformedRecord({ body: '{"v":1}', ...fields });
    const message = malformedMessage(record);

    // Act
    const read = readMalformedMessage(message.body, message.attributes ?? {}, 'the reader says');

    // Assess
    expect(read).toEqual(record);
    expect(read).toMatchObject({ v: MESSAGE_VERSION, kind: 'malformed', reason: 'malformed' });
  });

  it('keeps the body whole and the reader problem as detail when the writer gave none', () => {
    // Act
    const read = readMalformedMessage(
      'not \u0000 json',
      { export: 'alerts', reason: 'malformed', audit_id: 'ae_1', source_message_id: 'm-2' },
      'the message body is not JSON',
    );

    // Assess
    expect(read).toEqual({
      v: MESSAGE_VERSION,
      kind: 'malformed',
      reason: 'malformed',
      detail: 'the message body is not JSON',
      source_message_id: 'm-2',
      export: 'alerts',
      body: 'not \u0000 json',
    });
  });

  it('carries an empty body as a marker SQS accepts, and a detail as SQS text', () => {
    // Act
    const message = malformedMessage(malformedRecord({ body: '', detail: 'bad \u0000 byte' }));

    // Assess
    expect(message).toEqual({
      body: EMPTY_BODY,
      attributes: { reason: 'malformed', detail: 'bad \uFFFD byte' },
    });
  });
});
