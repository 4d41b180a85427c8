/**
 * Message shapes and derived ids: delivery ids stable per (audit_id, export), the webhook.dlq
 * event built from a dead letter, and UTF-8 safe truncation.
 */
import { validateEvent } from '../../shared/events/auditEvent.js';
import {
  type DeadLetter,
  DLQ_EVENT_KIND,
  deliveryId,
  dlqAuditId,
  dlqEvent,
  MESSAGE_VERSION,
  newDeliveryMessage,
  truncateUtf8,
} from '../../shared/pipeline/messages/index.js';
import { auditEvent } from '../helpers/pipeline.js';

const deadLetterFor = (overrides: Partial<DeadLetter> = {}): DeadLetter => {
  const event = auditEvent({ audit_id: 'ae_01', agent_id: 'support-bot' });
  return {
    v: MESSAGE_VERSION,
    kind: 'dead_letter',
    delivery_id: deliveryId(event.audit_id, 'pagerduty'),
    export: 'pagerduty',
    reason: 'exhausted',
    detail: 'HTTP 503 from receiver (server error); gave up after 5 of 5 attempts',
    attempts: 5,
    first_attempt_at: '2026-04-17T10:15:04.000Z',
    last_attempt_at: '2026-04-17T10:15:35.000Z',
    last_status: 503,
    error_class: 'http_status',
    response_snippet: 'Service Unavailable',
    dead_lettered_at: '2026-04-17T10:15:35.100Z',
    event,
    ...overrides,
  };
};

describe('Function: deliveryId()', () => {
  it('is the same for the same (audit_id, export) on every call', () => {
    // Act
    const first = deliveryId('ae_01', 'pagerduty');
    const second = deliveryId('ae_01', 'pagerduty');

    // Assess
    expect(first).toBe(second);
    expect(first).toMatch(/^dlv_[0-9a-f]{32}$/);
  });

  it('differs between exports and between events', () => {
    // Act
    const ids = new Set([
      deliveryId('ae_01', 'pagerduty'),
      deliveryId('ae_01', 'slack'),
      deliveryId('ae_02', 'pagerduty'),
    ]);

    // Assess
    expect(ids.size).toBe(3);
  });

  it('cannot be forged by moving characters between the audit_id and the export name', () => {
    // Act
    const left = deliveryId('ae_01x-', 'slack');
    const right = deliveryId('ae_01', 'x-slack');

    // Assess
    expect(left).not.toBe(right);
  });
});

describe('Function: newDeliveryMessage()', () => {
  it('wraps the event with its stable delivery id and no attempt made', () => {
    // Prepare
    const event = auditEvent();

    // Act
    const message = newDeliveryMessage(event, 'slack');

    // Assess
    expect(message).toEqual({
      v: MESSAGE_VERSION,
      delivery_id: deliveryId(event.audit_id, 'slack'),
      export: 'slack',
      event,
      attempts: 0,
    });
  });
});

describe('Function: dlqEvent()', () => {
  it('builds a valid webhook.dlq audit event from a dead letter', () => {
    // Prepare
    const letter = deadLetterFor();
    const now = new Date('2026-04-17T10:16:00.000Z');

    // Act
    const event = dlqEvent(letter, now);

    // Assess
    expect(validateEvent(event).ok).toBe(true);
    expect(event).toEqual({
      audit_id: 'ae_01:dlq:pagerduty',
      timestamp: '2026-04-17T10:16:00.000Z',
      event_kind: DLQ_EVENT_KIND,
      severity: 'error',
      agent_id: 'support-bot',
      export: 'pagerduty',
      reason: 'exhausted',
      detail: letter.detail,
      attempts: 5,
      first_attempt_at: letter.first_attempt_at,
      last_attempt_at: letter.last_attempt_at,
      last_status: 503,
      error_class: 'http_status',
      response_snippet: 'Service Unavailable',
      delivery_id: letter.delivery_id,
      original_event: letter.event,
    });
  });

  it('derives the same audit_id on every raise of the same dead letter', () => {
    // Prepare
    const letter = deadLetterFor();

    // Act
    const first = dlqEvent(letter, new Date('2026-04-17T10:16:00Z'));
    const again = dlqEvent(letter, new Date('2026-04-17T11:00:00Z'));

    // Assess
    expect(first.audit_id).toBe(again.audit_id);
    expect(first.audit_id).toBe(dlqAuditId('ae_01', 'pagerduty'));
  });

  it('gives the alert of a replay that died again an audit_id of its own', () => {
    // Prepare: the first dead letter, and the one of its `dlq redrive` replay.
    const first = deadLetterFor();
    const replayed = deadLetterFor({ replayed_at: '2026-04-18T09:00:00.000Z' });

    // Act
    const firstAlert = dlqEvent(first, new Date('2026-04-17T10:16:00Z'));
    const replayAlert = dlqEvent(replayed, new Date('2026-04-18T09:05:00Z'));

    // Assess: two deliveries of the alert export, never taken for one another's duplicate.
    expect(replayAlert.audit_id).toBe('ae_01:dlq:pagerduty:replay:2026-04-18T09:00:00.000Z');
    expect(deliveryId(replayAlert.audit_id, 'alerts')).not.toBe(
      deliveryId(firstAlert.audit_id, 'alerts'),
    );
  });

  it('omits agent_id when the original event has none', () => {
    // Prepare
    const { agent_id: _dropped, ...withoutAgent } = auditEvent();
    const letter = deadLetterFor({ event: withoutAgent });

    // Act
    const event = dlqEvent(letter, new Date());

    // Assess
    expect('agent_id' in event).toBe(false);
    expect(validateEvent(event).ok).toBe(true);
  });
});

describe('Function: truncateUtf8()', () => {
  it.each([
    ['short text unchanged', 'hello', 10, 'hello'],
    ['ASCII cut at the byte limit', 'hello world', 5, 'hello'],
    ['a 2-byte character not split', 'ééé', 3, 'é'],
    ['a 4-byte emoji not split', 'a🚨b', 3, 'a'],
    ['an exact fit kept', 'é🚨', 6, 'é🚨'],
  ])('%s', (_label, text, maxBytes, expected) => {
    // Act
    const cut = truncateUtf8(text, maxBytes);

    // Assess
    expect(cut).toBe(expected);
    expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(maxBytes);
  });
});
