/**
 * The failure-rate breaker as a state machine on an injected clock: when it opens, what it lets
 * through while open and half-open, and how a probe ends the pause.
 */
import { type BreakerSettings, CircuitBreaker } from '../../shared/pipeline/flowControl/breaker.js';

const SETTINGS: BreakerSettings = {
  failureRate: 0.5,
  minAttempts: 10,
  windowMs: 60_000,
  cooldownMs: 30_000,
};
const PROBE_TIMEOUT_MS = 12_000;

/** A breaker on a clock the test moves by hand. */
const breakerAt = (start = 1_000_000, settings: BreakerSettings = SETTINGS) => {
  const clock = { now: start };
  const breaker = new CircuitBreaker(settings, () => clock.now);
  return { breaker, clock };
};

/** Records `count` outcomes, each admitted first, one second apart. */
const attempts = (
  setup: ReturnType<typeof breakerAt>,
  count: number,
  health: 'success' | 'failure' | 'neutral',
) => {
  const transitions = [];
  for (let i = 0; i < count; i++) {
    setup.clock.now += 1_000;
    const admission = setup.breaker.admit(PROBE_TIMEOUT_MS);
    if (!admission.allowed) throw new Error('the breaker refused an attempt the test expected');
    const transition = setup.breaker.record(health, admission.probe);
    if (transition) transitions.push(transition);
  }
  return transitions;
};

/** Opens the breaker: ten failures in a row. */
const opened = () => {
  const setup = breakerAt();
  attempts(setup, 10, 'failure');
  return setup;
};

describe('Function: CircuitBreaker.record()', () => {
  it('stays closed below min_attempts, even when every attempt failed', () => {
    // Prepare
    const setup = breakerAt();

    // Act
    const transitions = attempts(setup, 9, 'failure');

    // Assess
    expect(transitions).toEqual([]);
    expect(setup.breaker.state).toBe('closed');
  });

  it('opens once at least failure_rate of at least min_attempts attempts failed', () => {
    // Prepare
    const setup = breakerAt();
    attempts(setup, 5, 'success');

    // Act
    const transitions = attempts(setup, 5, 'failure');

    // Assess
    expect(transitions).toEqual([
      {
        kind: 'opened',
        reason: 'failure_rate',
        fresh: true,
        openedAt: setup.clock.now,
        pausedUntil: setup.clock.now + SETTINGS.cooldownMs,
        attempts: 10,
        failures: 5,
      },
    ]);
    expect(setup.breaker.state).toBe('open');
  });

  it('stays closed while the failed share is below failure_rate', () => {
    // Prepare
    const setup = breakerAt();
    attempts(setup, 6, 'success');

    // Act
    const transitions = attempts(setup, 4, 'failure');

    // Assess
    expect(transitions).toEqual([]);
  });

  it('forgets attempts older than the window', () => {
    // Prepare
    const setup = breakerAt();
    attempts(setup, 9, 'failure');
    setup.clock.now += SETTINGS.windowMs;

    // Act
    const transitions = attempts(setup, 9, 'failure');

    // Assess: 18 failures, but never 10 within one window.
    expect(transitions).toEqual([]);
  });

  it('does not count 429 answers either way', () => {
    // Prepare
    const setup = breakerAt();
    attempts(setup, 50, 'neutral');

    // Act
    const transitions = attempts(setup, 9, 'failure');

    // Assess
    expect(transitions).toEqual([]);
  });
});

describe('Function: CircuitBreaker.admit()', () => {
  it('refuses every send until the cooldown has passed, saying how long is left', () => {
    // Prepare
    const setup = opened();
    setup.clock.now += 10_000;

    // Act
    const admission = setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Assess
    expect(admission).toEqual({ allowed: false, retryInMs: 20_000, state: 'open' });
    expect(setup.breaker.waitMs(PROBE_TIMEOUT_MS)).toBe(20_000);
  });

  it('lets exactly one probe through after the cooldown; the others wait for its answer', () => {
    // Prepare
    const setup = opened();
    setup.clock.now += SETTINGS.cooldownMs;

    // Act
    const first = setup.breaker.admit(PROBE_TIMEOUT_MS);
    const second = setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Assess
    expect(first).toEqual({ allowed: true, probe: true });
    expect(second).toEqual({ allowed: false, retryInMs: PROBE_TIMEOUT_MS, state: 'half_open' });
    expect(setup.breaker.state).toBe('half_open');
  });

  it('replaces a probe that never reported within the probe timeout', () => {
    // Prepare
    const setup = opened();
    setup.clock.now += SETTINGS.cooldownMs;
    setup.breaker.admit(PROBE_TIMEOUT_MS);
    setup.clock.now += PROBE_TIMEOUT_MS;

    // Act
    const admission = setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Assess
    expect(admission).toEqual({ allowed: true, probe: true });
  });

  it('hands the probe to the next caller when it is released unsent', () => {
    // Prepare
    const setup = opened();
    setup.clock.now += SETTINGS.cooldownMs;
    const probe = setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Act
    setup.breaker.release(probe.allowed && probe.probe);
    const next = setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Assess
    expect(next).toEqual({ allowed: true, probe: true });
  });
});

describe('Function: CircuitBreaker probes', () => {
  it('closes on a successful probe and reports how long the export was paused', () => {
    // Prepare
    const setup = opened();
    const openedAt = setup.clock.now;
    setup.clock.now += SETTINGS.cooldownMs;
    setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Act
    const transition = setup.breaker.record('success', true);

    // Assess
    expect(transition).toEqual({ kind: 'closed', pausedForMs: setup.clock.now - openedAt });
    expect(setup.breaker.state).toBe('closed');
    expect(setup.breaker.admit(PROBE_TIMEOUT_MS)).toEqual({ allowed: true, probe: false });
  });

  it('opens again for another cooldown on a failed probe, as the same pause (not fresh)', () => {
    // Prepare
    const setup = opened();
    setup.clock.now += SETTINGS.cooldownMs;
    setup.breaker.admit(PROBE_TIMEOUT_MS);

    // Act
    const transition = setup.breaker.record('failure', true);

    // Assess
    expect(transition).toMatchObject({
      kind: 'opened',
      reason: 'probe_failed',
      fresh: false,
      pausedUntil: setup.clock.now + SETTINGS.cooldownMs,
    });
  });

  it('ignores late answers to requests sent before the breaker opened', () => {
    // Prepare
    const setup = opened();

    // Act
    const transition = setup.breaker.record('success', false);

    // Assess
    expect(transition).toBeUndefined();
    expect(setup.breaker.state).toBe('open');
  });
});

describe('Function: CircuitBreaker.trip()', () => {
  it('opens at once (410 Gone), from closed, as a fresh pause', () => {
    // Prepare
    const setup = breakerAt();

    // Act
    const transition = setup.breaker.trip();

    // Assess
    expect(transition).toEqual({
      kind: 'opened',
      reason: 'gone',
      fresh: true,
      openedAt: setup.clock.now,
      pausedUntil: setup.clock.now + SETTINGS.cooldownMs,
      attempts: 0,
      failures: 0,
    });
    expect(setup.breaker.pausedUntil).toBe(setup.clock.now + SETTINGS.cooldownMs);
  });
});
