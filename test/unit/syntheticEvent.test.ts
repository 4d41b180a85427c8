import fc from 'fast-check';
import { SEVERITIES, type Severity, validateEvent } from '../../shared/events/auditEvent.js';
import { matchesFilters } from '../../shared/events/filter.js';
import { syntheticEvent } from '../../shared/events/syntheticEvent.js';

describe('Function: syntheticEvent()', () => {
  it('builds a valid test event without an export', () => {
    // Prepare
    const now = new Date('2026-04-17T10:15:03.000Z');

    // Act
    const event = syntheticEvent(undefined, now);

    // Assess
    expect(validateEvent(event)).toEqual({ ok: true, event });
    expect(event).toEqual({
      audit_id: expect.stringMatching(/^ae_test_[0-9A-HJKMNP-TV-Z]{26}$/),
      timestamp: '2026-04-17T10:15:03.000Z',
      event_kind: 'test_event',
      severity: 'error',
      agent_id: 'tappass-test',
      policy_result: {
        verdict: 'block',
        rule: 'synthetic',
        reasons: ['synthetic test event', 'sent by test-export'],
      },
      tags: ['tappass', 'synthetic'],
      synthetic: true,
    });
  });

  it('takes the first event kind of the filter', () => {
    // Act
    const event = syntheticEvent({ filters: { event_kinds: ['policy_block', 'auth_fail'] } });

    // Assess
    expect(event.event_kind).toBe('policy_block');
  });

  it.each<[Severity | undefined, Severity]>([
    [undefined, 'error'],
    ['debug', 'error'],
    ['info', 'error'],
    ['warn', 'error'],
    ['error', 'error'],
    ['critical', 'critical'],
  ])('raises min_severity %s to at least error: %s', (minSeverity, expected) => {
    // Act
    const event = syntheticEvent({ filters: minSeverity ? { min_severity: minSeverity } : {} });

    // Assess
    expect(event.severity).toBe(expected);
  });

  it('passes the filters of any export', () => {
    // Prepare
    const filters = fc.record(
      {
        min_severity: fc.constantFrom(...SEVERITIES),
        event_kinds: fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 5 }),
      },
      { requiredKeys: [] },
    );

    // Act & Assess
    fc.assert(
      fc.property(filters, (exportFilters) => {
        const event = syntheticEvent({ filters: exportFilters });
        return matchesFilters(event, exportFilters) && validateEvent(event).ok;
      }),
      { numRuns: 1000 },
    );
  });

  it('gives each event its own audit_id, sortable by creation time', () => {
    // Prepare
    const earlier = new Date('2026-01-01T00:00:00.000Z');
    const later = new Date('2026-01-01T00:00:01.000Z');

    // Act
    const ids = Array.from({ length: 100 }, () => syntheticEvent(undefined, earlier).audit_id);
    const next = syntheticEvent(undefined, later).audit_id;

    // Assess
    expect(new Set(ids).size).toBe(100);
    expect(ids.every((id) => id.slice(0, 18) < next.slice(0, 18))).toBe(true);
  });
});
