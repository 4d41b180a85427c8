/**
 * A `webhook.dlq` event always fits the ingest's event limit: at exactly the limit, one byte
 * over, for the largest valid event, and for random events near the limit (property).
 */
import fc from 'fast-check';
import { MAX_EVENT_BYTES, validateEvent } from '../../shared/events/auditEvent.js';
import {
  type DeadLetter,
  DLQ_EVENT_KIND,
  deliveryId,
  dlqEvent,
  dlqEventSchema,
  MESSAGE_VERSION,
} from '../../shared/pipeline/messages/index.js';
import { auditEvent } from '../helpers/pipeline.js';

const NOW = new Date('2026-04-17T10:20:00.000Z');

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

const deadLetterOf = (event: ReturnType<typeof auditEvent>): DeadLetter => ({
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
  response_snippet: 'x'.repeat(1024),
  dead_lettered_at: '2026-04-17T10:15:35.100Z',
  event,
});

/** An event with a `payload` string sized so that its untrimmed dlq event is `bytes` long. */
const eventWhoseDlqEventIs = (bytes: number) => {
  const base = auditEvent({ payload: '' });
  const overhead = bytesOf(dlqEvent(deadLetterOf(base), NOW));
  return auditEvent({ audit_id: base.audit_id, payload: 'p'.repeat(bytes - overhead) });
};

describe('Function: dlqEvent() at the ingest event limit', () => {
  it('keeps an original event whole when the dlq event is exactly at the limit', () => {
    // Prepare
    const event = eventWhoseDlqEventIs(MAX_EVENT_BYTES);

    // Act
    const raised = dlqEvent(deadLetterOf(event), NOW);

    // Assess
    expect(bytesOf(raised)).toBe(MAX_EVENT_BYTES);
    expect(raised.original_event).toEqual(event);
    expect(raised.truncated).toBeUndefined();
  });

  it('trims the original event when the dlq event would be 1 byte over', () => {
    // Prepare
    const event = eventWhoseDlqEventIs(MAX_EVENT_BYTES + 1);
    const letter = deadLetterOf(event);

    // Act
    const raised = dlqEvent(letter, NOW);

    // Assess
    expect(bytesOf(raised)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(raised.truncated).toBe(true);
    expect(raised.original_event_bytes).toBe(bytesOf(event));
    const original = raised.original_event as Record<string, unknown>;
    expect(String(original.payload).endsWith('…')).toBe(true);
    expect(String(original.payload).length).toBeGreaterThan(200_000 - 1024 - 200);
    // Everything else kept; the dead letter keeps the full event.
    expect({ ...original, payload: undefined }).toEqual({ ...event, payload: undefined });
    expect(letter.event).toEqual(event);
    expect(dlqEventSchema.safeParse(raised).success).toBe(true);
  });

  it('fits for the largest valid event, cutting the largest values first', () => {
    // Prepare: exactly MAX_EVENT_BYTES, one large field, one medium, one small.
    const base = auditEvent({ big: '', medium: 'm'.repeat(30_000), small: 's'.repeat(100) });
    const event = { ...base, big: 'b'.repeat(MAX_EVENT_BYTES - bytesOf(base)) };
    expect(bytesOf(event)).toBe(MAX_EVENT_BYTES);
    expect(validateEvent(event).ok).toBe(true);

    // Act
    const raised = dlqEvent(deadLetterOf(event), NOW);

    // Assess
    expect(bytesOf(raised)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(raised.truncated).toBe(true);
    expect(raised.original_event_bytes).toBe(MAX_EVENT_BYTES);
    const original = raised.original_event as Record<string, unknown>;
    expect(original.medium).toBe('m'.repeat(30_000));
    expect(original.small).toBe('s'.repeat(100));
    expect(String(original.big).endsWith('…')).toBe(true);
    expect(raised.event_kind).toBe(DLQ_EVENT_KIND);
    expect(raised.audit_id).toBe(`${event.audit_id}:dlq:pagerduty`);
  });

  it('always fits and stays a valid webhook.dlq event (property)', () => {
    // Prepare: events of up to MAX_EVENT_BYTES with strings (some needing escapes), arrays of
    // numbers and nested objects of random sizes.
    const sized = fc.record({
      text: fc.nat({ max: 120_000 }),
      escaped: fc.nat({ max: 20_000 }),
      numbers: fc.nat({ max: 15_000 }),
      nested: fc.nat({ max: 40_000 }),
      agent: fc.nat({ max: 2_000 }),
    });

    // Act & Assess
    fc.assert(
      fc.property(sized, (sizes) => {
        const event = auditEvent({
          agent_id: `a${'g'.repeat(sizes.agent)}`,
          text: 't'.repeat(sizes.text),
          escaped: '"\n\u0001é'.repeat(sizes.escaped),
          numbers: Array.from({ length: sizes.numbers }, (_, index) => index),
          nested: { deeper: { value: 'n'.repeat(sizes.nested) } },
        });
        fc.pre(bytesOf(event) <= MAX_EVENT_BYTES);
        const raised = dlqEvent(deadLetterOf(event), NOW);
        expect(bytesOf(raised)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
        expect(dlqEventSchema.safeParse(raised).success).toBe(true);
        expect(raised.original_event.audit_id).toBe(event.audit_id);
        expect(raised.truncated === true).toBe(bytesOf(raised.original_event) < bytesOf(event));
      }),
      { numRuns: 60 },
    );
  });
});
