/**
 * The per-process rate limiter on an injected clock: spacing of granted sends, bookings for
 * deferred records and who may claim them, and (property) that no sequence of requests ever
 * gets two sends closer than the interval.
 */
import fc from 'fast-check';
import { BOOKING_GRACE_MS, RateLimiter } from '../../shared/pipeline/flowControl/rateLimiter.js';

const MAX_WAIT_MS = 500;
const FRESH = { maxWaitMs: MAX_WAIT_MS, returning: false };
const RETURNING = { maxWaitMs: MAX_WAIT_MS, returning: true };

const limiterAt = (rate: number, start = 1_000_000) => {
  const clock = { now: start };
  const limiter = new RateLimiter(rate, () => clock.now);
  return { limiter, clock };
};

describe('Function: RateLimiter.acquire()', () => {
  it('grants the first send at once and spaces the next ones by 1 / rate, within the wait bound', () => {
    // Prepare
    const { limiter } = limiterAt(4);

    // Act
    const decisions = ['a', 'b', 'c'].map((key) => limiter.acquire(key, FRESH));

    // Assess
    expect(decisions).toEqual([
      { granted: true, waitMs: 0 },
      { granted: true, waitMs: 250 },
      { granted: true, waitMs: 500 },
    ]);
  });

  it('defers a send whose slot is beyond the wait bound and books consecutive slots', () => {
    // Prepare
    const { limiter } = limiterAt(1);
    limiter.acquire('a', FRESH);

    // Act
    const b = limiter.acquire('b', FRESH);
    const c = limiter.acquire('c', FRESH);

    // Assess
    expect(b).toEqual({ granted: false, retryInMs: 1_000 });
    expect(c).toEqual({ granted: false, retryInMs: 2_000 });
    expect(limiter.bookings).toBe(2);
  });

  it('lets a returning record claim its own booking when its slot comes', () => {
    // Prepare
    const { limiter, clock } = limiterAt(1);
    limiter.acquire('a', FRESH);
    limiter.acquire('b', FRESH);
    limiter.acquire('c', FRESH);
    clock.now += 2_000;

    // Act
    const c = limiter.acquire('c', RETURNING);

    // Assess: c's slot (t+2 s) is due; b's booking (t+1 s) stays b's.
    expect(c).toEqual({ granted: true, waitMs: 0 });
    expect(limiter.bookings).toBe(1);
  });

  it('keeps a booking when its record comes back early, without booking a second slot', () => {
    // Prepare
    const { limiter, clock } = limiterAt(1);
    limiter.acquire('a', FRESH);
    limiter.acquire('b', FRESH);
    clock.now += 200;

    // Act
    const early = limiter.acquire('b', RETURNING);
    const fresh = limiter.acquire('c', FRESH);

    // Assess
    expect(early).toEqual({ granted: false, retryInMs: 800 });
    expect(fresh).toEqual({ granted: false, retryInMs: 1_800 });
  });

  it('lets a returning record claim a due booking made for a record that went elsewhere', () => {
    // Prepare
    const { limiter, clock } = limiterAt(1);
    limiter.acquire('a', FRESH);
    limiter.acquire('b', FRESH);
    clock.now += 1_000;

    // Act
    const stranger = limiter.acquire('from-another-instance', RETURNING);

    // Assess
    expect(stranger).toEqual({ granted: true, waitMs: 0 });
    expect(limiter.bookings).toBe(0);
  });

  it('never gives a due booking to a record received for the first time', () => {
    // Prepare
    const { limiter, clock } = limiterAt(1);
    limiter.acquire('a', FRESH);
    limiter.acquire('b', FRESH);
    clock.now += 1_000;

    // Act
    const fresh = limiter.acquire('new', FRESH);

    // Assess: its slot comes after b's booking.
    expect(fresh).toEqual({ granted: false, retryInMs: 1_000 });
  });

  it('forgets bookings nobody claimed within the grace period', () => {
    // Prepare
    const { limiter, clock } = limiterAt(1);
    limiter.acquire('a', FRESH);
    limiter.acquire('b', FRESH);
    clock.now += 1_000 + BOOKING_GRACE_MS + 1;

    // Act
    const next = limiter.acquire('c', FRESH);

    // Assess
    expect(next).toEqual({ granted: true, waitMs: 0 });
    expect(limiter.bookings).toBe(0);
  });

  it('refuses a rate that is not a positive number', () => {
    // Act and assess
    expect(() => new RateLimiter(0)).toThrow(RangeError);
    expect(() => new RateLimiter(Number.NaN)).toThrow(RangeError);
  });

  it('never grants two sends closer than 1 / rate, whatever records come and go (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 50, noNaN: true }),
        fc.array(
          fc.record({
            advanceMs: fc.integer({ min: 0, max: 3_000 }),
            key: fc.integer({ min: 0, max: 15 }),
            returning: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (rate, steps) => {
          // Prepare
          const { limiter, clock } = limiterAt(rate);
          const sends: number[] = [];

          // Act
          for (const step of steps) {
            clock.now += step.advanceMs;
            const decision = limiter.acquire(`m${step.key}`, {
              maxWaitMs: MAX_WAIT_MS,
              returning: step.returning,
            });
            if (decision.granted) sends.push(clock.now + decision.waitMs);
          }

          // Assess
          const sorted = [...sends].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i++) {
            expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(
              limiter.intervalMs - 1e-6,
            );
          }
        },
      ),
    );
  });
});
