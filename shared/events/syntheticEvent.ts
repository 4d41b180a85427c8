/**
 * A synthetic audit event for an export: what `test-export` sends and what config
 * validation renders templates with. It passes the export's filters by construction.
 */
import { randomBytes } from 'node:crypto';
import type { ExportConfig } from '../config/types.js';
import { type AuditEvent, type Severity, severityRank } from './auditEvent.js';

/** Crockford's base32, as in ULIDs: sortable, no ambiguous letters. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The least severity a synthetic event has; see {@link syntheticEvent}. */
const SYNTHETIC_MIN_SEVERITY: Severity = 'error';

/** A ULID-like id: 10 characters of milliseconds, 16 of randomness. Sorts by creation time. */
const ulidLike = (now: Date): string => {
  let time = Math.max(0, Math.floor(now.getTime()));
  let timePart = '';
  for (let index = 0; index < 10; index += 1) {
    timePart = (CROCKFORD[time % 32] ?? '0') + timePart;
    time = Math.floor(time / 32);
  }
  const random = randomBytes(16);
  let randomPart = '';
  for (const byte of random) randomPart += CROCKFORD[byte % 32] ?? '0';
  return timePart + randomPart;
};

/**
 * A synthetic audit event that passes the export's filters: the first of its `event_kinds`
 * (else `test_event`) and its `min_severity` raised to at least `error`. Alerting receivers
 * accept `error` (PagerDuty's severities are critical, error, warning and info, so the seed's
 * `"severity": "{{severity}}"` would be rejected for `warn` or `debug`), and it makes a test
 * alert look like the alerts it stands for. It carries the lists templates loop over (`tags`,
 * `policy_result.reasons`), two items each.
 *
 * @example
 * const event = syntheticEvent(config.exports[0]);
 * // { audit_id: 'ae_test_01JC…', event_kind: 'policy_block', severity: 'error', synthetic: true, … }
 */
const syntheticEvent = (
  exp?: { readonly filters?: ExportConfig['filters'] },
  now: Date = new Date(),
): AuditEvent => {
  const minimum = exp?.filters?.min_severity ?? SYNTHETIC_MIN_SEVERITY;
  const severity =
    severityRank(minimum) > severityRank(SYNTHETIC_MIN_SEVERITY) ? minimum : SYNTHETIC_MIN_SEVERITY;
  return {
    audit_id: `ae_test_${ulidLike(now)}`,
    timestamp: now.toISOString(),
    event_kind: exp?.filters?.event_kinds?.[0] ?? 'test_event',
    severity,
    agent_id: 'tappass-test',
    // Two items in each list, so `validate` runs a template's loops past their first
    // item: a loop that leaves a trailing comma only shows with two.
    policy_result: {
      verdict: 'block',
      rule: 'synthetic',
      reasons: ['synthetic test event', 'sent by test-export'],
    },
    tags: ['tappass', 'synthetic'],
    synthetic: true,
  };
};

export { SYNTHETIC_MIN_SEVERITY, syntheticEvent };
