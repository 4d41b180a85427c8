/**
 * A failure-rate circuit breaker for one export, in one process (one delivery function
 * instance). Pure state and a clock: it decides, the delivery step acts.
 *
 * - closed: attempts flow; their outcomes within the window are counted. When at least
 *   `minAttempts` attempts are in the window and the failed share reaches `failureRate`, it
 *   opens. A 410 Gone opens it at once.
 * - open: nothing is sent until the cooldown has passed.
 * - half-open: one probe is let through; the others keep waiting. The probe's success closes
 *   the breaker, its failure opens it for another cooldown.
 */

/** Settings in milliseconds, from an export's `breaker` key. */
interface BreakerSettings {
  readonly failureRate: number;
  readonly minAttempts: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
}

const BREAKER_STATES = { closed: 'closed', open: 'open', halfOpen: 'half_open' } as const;
type BreakerState = (typeof BREAKER_STATES)[keyof typeof BREAKER_STATES];

/** What an attempt's outcome means to the breaker. */
const ATTEMPT_HEALTH = {
  success: 'success',
  failure: 'failure',
  /** Neither (a 429: the receiver is up and asks to slow down; Retry-After handles it). */
  neutral: 'neutral',
} as const;
type AttemptHealth = (typeof ATTEMPT_HEALTH)[keyof typeof ATTEMPT_HEALTH];

/** Why the breaker opened. */
const OPEN_REASONS = {
  failureRate: 'failure_rate',
  gone: 'gone',
  probeFailed: 'probe_failed',
} as const;
type OpenReason = (typeof OPEN_REASONS)[keyof typeof OPEN_REASONS];

/** The answer to "may I send now?". */
type Admission =
  | { readonly allowed: true; readonly probe: boolean }
  | {
      readonly allowed: false;
      /** How long until asking again makes sense. */
      readonly retryInMs: number;
      readonly state: Exclude<BreakerState, 'closed'>;
    };

/** A change of state worth reporting. */
type BreakerTransition =
  | {
      readonly kind: 'opened';
      readonly reason: OpenReason;
      /** True when it opened from closed: a new pause, not a failed probe of an old one. */
      readonly fresh: boolean;
      readonly openedAt: number;
      readonly pausedUntil: number;
      /** Attempts and failures in the window when it opened (0 for 410 and probes). */
      readonly attempts: number;
      readonly failures: number;
    }
  | { readonly kind: 'closed'; readonly pausedForMs: number };

/**
 * Attempts of one second. Counting per second keeps the cost of an outcome constant however
 * busy the export is; the window is judged to the second.
 */
interface SecondCount {
  readonly second: number;
  attempts: number;
  failures: number;
}

/**
 * One export's breaker.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureRate: 0.5, minAttempts: 10, windowMs: 60_000, cooldownMs: 60_000 });
 * const admission = breaker.admit(10_000);
 * if (admission.allowed) breaker.record('failure', admission.probe);
 */
class CircuitBreaker {
  #state: BreakerState = BREAKER_STATES.closed;
  #seconds: SecondCount[] = [];
  #attempts = 0;
  #failures = 0;
  #openedAt = 0;
  #firstOpenedAt = 0;
  #pausedUntil = 0;
  /** When the probe in flight was let through; undefined when none is. */
  #probeSince: number | undefined;

  constructor(
    readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.#state;
  }

  /** End of the current pause (ms since the epoch); 0 when closed. */
  get pausedUntil(): number {
    return this.#state === BREAKER_STATES.closed ? 0 : this.#pausedUntil;
  }

  /**
   * How long deliveries should still wait, without taking the probe: for skipping work
   * (secrets, rendering) while paused. Undefined when a send may be tried.
   */
  waitMs(probeTimeoutMs: number): number | undefined {
    const admission = this.#peek(probeTimeoutMs);
    return admission.allowed ? undefined : admission.retryInMs;
  }

  /**
   * Asks to send one request. In half-open state the first caller gets the probe; a probe
   * that has not reported within `probeTimeoutMs` (its invocation died) is replaced.
   */
  admit(probeTimeoutMs: number): Admission {
    const admission = this.#peek(probeTimeoutMs);
    if (admission.allowed && admission.probe) {
      this.#state = BREAKER_STATES.halfOpen;
      this.#probeSince = this.now();
    }
    return admission;
  }

  /** Gives the probe back unsent (the request was deferred for another reason). */
  release(probe: boolean): void {
    if (probe && this.#state === BREAKER_STATES.halfOpen) this.#probeSince = undefined;
  }

  /** Records the outcome of an admitted attempt. */
  record(health: AttemptHealth, probe: boolean): BreakerTransition | undefined {
    const now = this.now();
    if (this.#state !== BREAKER_STATES.closed) {
      // Only the probe speaks for a paused export; answers to requests sent before the
      // breaker opened change nothing.
      if (!probe || this.#state !== BREAKER_STATES.halfOpen) return undefined;
      this.#probeSince = undefined;
      if (health === ATTEMPT_HEALTH.failure) return this.#open(OPEN_REASONS.probeFailed, 0, 0);
      const pausedForMs = now - this.#firstOpenedAt;
      this.#state = BREAKER_STATES.closed;
      this.#forget();
      return { kind: 'closed', pausedForMs };
    }
    if (health === ATTEMPT_HEALTH.neutral) return undefined;
    this.#count(now, health === ATTEMPT_HEALTH.failure);
    const attempts = this.#attempts;
    const failures = this.#failures;
    if (attempts >= this.settings.minAttempts && failures / attempts >= this.settings.failureRate) {
      return this.#open(OPEN_REASONS.failureRate, attempts, failures);
    }
    return undefined;
  }

  /** Opens at once (410 Gone), whatever the state; a pause in progress starts over. */
  trip(): BreakerTransition {
    return this.#open(OPEN_REASONS.gone, 0, 0);
  }

  #peek(probeTimeoutMs: number): Admission {
    if (this.#state === BREAKER_STATES.closed) return { allowed: true, probe: false };
    const now = this.now();
    if (now < this.#pausedUntil) {
      return { allowed: false, retryInMs: this.#pausedUntil - now, state: BREAKER_STATES.open };
    }
    const probeSince = this.#probeSince;
    if (probeSince !== undefined && now - probeSince < probeTimeoutMs) {
      return {
        allowed: false,
        retryInMs: probeSince + probeTimeoutMs - now,
        state: BREAKER_STATES.halfOpen,
      };
    }
    return { allowed: true, probe: true };
  }

  #open(reason: OpenReason, attempts: number, failures: number): BreakerTransition {
    const now = this.now();
    const fresh = this.#state === BREAKER_STATES.closed;
    this.#state = BREAKER_STATES.open;
    this.#openedAt = now;
    if (fresh) this.#firstOpenedAt = now;
    this.#pausedUntil = now + this.settings.cooldownMs;
    this.#probeSince = undefined;
    this.#forget();
    return {
      kind: 'opened',
      reason,
      fresh,
      openedAt: this.#openedAt,
      pausedUntil: this.#pausedUntil,
      attempts,
      failures,
    };
  }

  #count(now: number, failed: boolean): void {
    const second = Math.floor(now / 1000);
    const oldest = second - Math.max(1, Math.ceil(this.settings.windowMs / 1000)) + 1;
    let drop = 0;
    for (const entry of this.#seconds) {
      if (entry.second >= oldest) break;
      this.#attempts -= entry.attempts;
      this.#failures -= entry.failures;
      drop++;
    }
    if (drop > 0) this.#seconds.splice(0, drop);
    let current = this.#seconds.at(-1);
    if (current === undefined || current.second !== second) {
      current = { second, attempts: 0, failures: 0 };
      this.#seconds.push(current);
    }
    current.attempts++;
    this.#attempts++;
    if (failed) {
      current.failures++;
      this.#failures++;
    }
  }

  #forget(): void {
    this.#seconds = [];
    this.#attempts = 0;
    this.#failures = 0;
  }
}

export type {
  Admission,
  AttemptHealth,
  BreakerSettings,
  BreakerState,
  BreakerTransition,
  OpenReason,
};
export { ATTEMPT_HEALTH, BREAKER_STATES, CircuitBreaker, OPEN_REASONS };
