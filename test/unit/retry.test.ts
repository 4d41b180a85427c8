import fc from 'fast-check';
import { DEFAULTS, type RetryConfig } from '../../shared/config/types.js';
import { ERROR_CLASSES, type ErrorClass, type SendResult } from '../../shared/transport/http.js';
import {
  backoffDelaySeconds,
  CLASSIFICATION,
  classifyResult,
  ERROR_CLASS_OUTCOMES,
  parseRetryAfter,
  STATUS_RULES,
} from '../../shared/transport/retry.js';

const statusResult = (status: number, extra: Partial<SendResult> = {}): SendResult => ({
  status,
  latencyMs: 5,
  bodySnippet: '',
  bodyTruncated: false,
  ...(status >= 200 && status <= 299 ? {} : { errorClass: 'http_status' as const }),
  ...extra,
});

const transportResult = (errorClass: ErrorClass, errorMessage?: string): SendResult => ({
  latencyMs: 5,
  bodySnippet: '',
  bodyTruncated: false,
  errorClass,
  ...(errorMessage === undefined ? {} : { errorMessage }),
});

describe('Function: classifyResult()', () => {
  // The acceptance table, spelled out status by status.
  it.each([
    [200, 'success'],
    [201, 'success'],
    [202, 'success'],
    [204, 'success'],
    [299, 'success'],
    [100, 'permanent'],
    [101, 'permanent'],
    [301, 'permanent'],
    [302, 'permanent'],
    [304, 'permanent'],
    [307, 'permanent'],
    [308, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [405, 'permanent'],
    [408, 'retry'],
    [409, 'permanent'],
    [410, 'permanent'],
    [413, 'permanent'],
    [422, 'permanent'],
    [429, 'retry'],
    [499, 'permanent'],
    [500, 'retry'],
    [501, 'permanent'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [599, 'retry'],
    [600, 'permanent'],
    [999, 'permanent'],
  ] as const)('classifies HTTP %i as %s', (status, outcome) => {
    // Act
    const verdict = classifyResult(statusResult(status));

    // Assess
    expect(verdict.outcome).toBe(outcome);
    if (verdict.outcome !== 'success') {
      expect(verdict.reason).toMatch(new RegExp(`^HTTP ${status} from receiver \\(.+\\)$`));
    }
  });

  // Every row of the exported table, at both ends of its range.
  it.each(
    STATUS_RULES.flatMap((rule) => [
      [rule.from, rule],
      [rule.to, rule],
    ]),
  )('applies the table row for HTTP %i', (status, rule) => {
    // Prepare: the first row that covers the status wins.
    const firstMatch = STATUS_RULES.find((row) => status >= row.from && status <= row.to);

    // Act
    const verdict = classifyResult(statusResult(status));

    // Assess
    expect(firstMatch).toBeDefined();
    expect(verdict.outcome).toBe(firstMatch?.outcome);
    if (firstMatch === rule && verdict.outcome !== 'success') {
      expect(verdict.reason).toContain(rule.why);
    }
  });

  it.each(Object.entries(ERROR_CLASS_OUTCOMES))(
    'classifies the transport failure %s as %s',
    (errorClass, outcome) => {
      // Act
      const verdict = classifyResult(transportResult(errorClass as ErrorClass));

      // Assess
      expect(verdict.outcome).toBe(outcome);
    },
  );

  it('has an outcome for every error class except http_status', () => {
    // Prepare
    const classes = Object.values(ERROR_CLASSES).filter((c) => c !== 'http_status');

    // Assess
    expect(Object.keys(CLASSIFICATION.errorClasses).sort()).toEqual([...classes].sort());
  });

  it.each([
    ['timeout', 'retry'],
    ['connection_refused', 'retry'],
    ['connection_reset', 'retry'],
    ['dns', 'retry'],
    ['tls', 'retry'],
    ['network', 'retry'],
    ['invalid_url', 'permanent'],
    ['invalid_request', 'permanent'],
  ] as const)('follows the acceptance table for %s (%s)', (errorClass, outcome) => {
    // Act
    const verdict = classifyResult(transportResult(errorClass));

    // Assess
    expect(verdict.outcome).toBe(outcome);
  });

  it('uses the send error message as the reason of a transport failure', () => {
    // Act
    const verdict = classifyResult(transportResult('timeout', 'timed out after 10 s'));

    // Assess
    expect(verdict).toEqual({ outcome: 'retry', reason: 'timed out after 10 s' });
  });

  it('falls back to a label when the send result has no message', () => {
    // Act
    const verdict = classifyResult(transportResult('connection_refused'));

    // Assess
    expect(verdict).toEqual({ outcome: 'retry', reason: 'connection refused' });
  });

  it('names the status and the Retry-After in the reason', () => {
    // Act
    const plain = classifyResult(statusResult(503));
    const throttled = classifyResult(statusResult(429, { retryAfterSeconds: 30 }));

    // Assess
    expect(plain).toEqual({ outcome: 'retry', reason: 'HTTP 503 from receiver (server error)' });
    expect(throttled).toEqual({
      outcome: 'retry',
      reason: 'HTTP 429 from receiver (rate limited, Retry-After 30 s)',
    });
  });

  it('lets a received 2xx decide even if its body was cut short', () => {
    // Act
    const verdict = classifyResult(
      statusResult(200, {
        bodyTruncated: true,
        errorMessage: 'response body cut short: timed out after 300 ms',
      }),
    );

    // Assess
    expect(verdict).toEqual({ outcome: 'success' });
  });

  it('retries a result with neither status nor error class', () => {
    // Act
    const verdict = classifyResult({ latencyMs: 1, bodySnippet: '', bodyTruncated: false });

    // Assess
    expect(verdict).toEqual({ outcome: 'retry', reason: 'no response from receiver' });
  });
});

describe('Function: parseRetryAfter()', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');

  it.each([
    ['120', 120],
    ['0', 0],
    [' 5 ', 5],
    ['007', 7],
    ['1.2', 2],
    ['86400', 86_400],
    ['Sun, 01 Mar 2026 12:01:00 GMT', 60],
    ['Sun, 01 Mar 2026 12:00:00 GMT', 0],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['Sunday, 01-Mar-26 12:00:30 GMT', 30],
    ['Sun Mar  1 12:00:10 2026', 10],
    ['Thu, 01 Jan 1970 00:00:00 GMT', 0],
  ])('parses %j as %i seconds', (value, seconds) => {
    // Act
    const parsed = parseRetryAfter(value, now);

    // Assess
    expect(parsed).toBe(seconds);
  });

  it('rounds a date that is a fraction of a second away up', () => {
    // Act
    const parsed = parseRetryAfter('Sun, 01 Mar 2026 12:00:01 GMT', now + 200);

    // Assess
    expect(parsed).toBe(1);
  });

  it.each([
    [undefined],
    [''],
    ['   '],
    ['soon'],
    ['-5'],
    ['+5'],
    ['1e3'],
    ['5 seconds'],
    ['2026-03-01T12:01:00Z'],
    ['Sun, 99 Foo 2026 25:61:00 GMT'],
    ['Mon'],
  ])('returns undefined for %j', (value) => {
    // Act
    const parsed = parseRetryAfter(value, now);

    // Assess
    expect(parsed).toBeUndefined();
  });
});

describe('Function: backoffDelaySeconds()', () => {
  const retry: RetryConfig = { max_attempts: 10, backoff_seconds: [1, 2, 4, 8, 16] };

  it.each([
    [1, undefined, 1],
    [2, undefined, 2],
    [3, undefined, 4],
    [5, undefined, 16],
    [6, undefined, 16],
    [50, undefined, 16],
    [0, undefined, 1],
    [1, 30, 30],
    [4, 3, 8],
    [1, 0, 1],
    [1, 2.1, 3],
    [1, 100_000, DEFAULTS.maxBackoffSeconds],
  ])('waits after attempt %i (Retry-After %p) for %i s', (attemptsMade, retryAfter, expected) => {
    // Act
    const delay = backoffDelaySeconds(attemptsMade, retry, retryAfter);

    // Assess
    expect(delay).toBe(expected);
  });

  it('caps a schedule entry above 12 h', () => {
    // Act
    const delay = backoffDelaySeconds(1, { max_attempts: 2, backoff_seconds: [90_000] });

    // Assess
    expect(delay).toBe(43_200);
  });

  it('waits 0 s for a zero schedule without Retry-After', () => {
    // Act
    const delay = backoffDelaySeconds(3, { max_attempts: 5, backoff_seconds: [0] });

    // Assess
    expect(delay).toBe(0);
  });

  it('always returns whole seconds within [0, 12 h], at least the scheduled delay', () => {
    // Prepare
    const schedule = fc.array(fc.integer({ min: 0, max: 43_200 }), { minLength: 1, maxLength: 8 });
    const retryAfter = fc.option(fc.double({ min: 0, max: 1e7, noNaN: true }), {
      nil: undefined,
    });

    // Act / Assess
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), schedule, retryAfter, (n, backoff, after) => {
        const delay = backoffDelaySeconds(
          n,
          { max_attempts: 100, backoff_seconds: backoff },
          after,
        );
        const scheduled = backoff[Math.min(n, backoff.length) - 1] ?? 0;
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(scheduled);
        expect(delay).toBeLessThanOrEqual(DEFAULTS.maxBackoffSeconds);
        expect(delay).toBeGreaterThanOrEqual(Math.min(Math.ceil(after ?? 0), 43_200));
      }),
      { numRuns: 1_000 },
    );
  });
});
