/**
 * The per-export state a delivery function instance keeps between records: each export's
 * failure-rate breaker and rate limiter. One `ExportGuards` per handler instance, which on
 * Lambda is one per container (one invocation at a time), and in the local stack one for the
 * whole process, which runs every invocation.
 *
 * The rate limit is shared out: on Lambda each instance gets
 * `rate_limit_per_second / delivery.max_concurrency` (the event source never runs more
 * instances of an export at once), so together they never exceed the rate. The local stack,
 * one process for all invocations, takes the whole rate (`rateScope: 'process'`).
 */
import { type ExportConfig, FLOW_CONTROL_DEFAULTS } from '../../config/types.js';
import type { SendResult } from '../../transport/http.js';
import type { Verdict } from '../../transport/retry.js';
import {
  ATTEMPT_HEALTH,
  type AttemptHealth,
  type BreakerSettings,
  type BreakerTransition,
  CircuitBreaker,
} from './breaker.js';
import { RateLimiter } from './rateLimiter.js';

/** How far a send may be put off by sleeping; further slots are waited for on the queue. */
const MAX_RATE_WAIT_MS = 500;

/** Extra time a probe gets beyond the export's timeout before another may be sent. */
const PROBE_MARGIN_MS = 2_000;

const GONE_STATUS = 410;
const TOO_MANY_REQUESTS = 429;

/** Whose share of the rate limit this process enforces. */
const RATE_SCOPES = {
  /** One of the export's `max_concurrency` instances (Lambda). */
  instance: 'instance',
  /** Every invocation of the export (the local stack). */
  process: 'process',
} as const;
type RateScope = (typeof RATE_SCOPES)[keyof typeof RATE_SCOPES];

interface ExportGuardsOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** @default 'instance' */
  readonly rateScope?: RateScope;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 500 */
  readonly maxRateWaitMs?: number;
}

/** What the guards say about sending one request now. */
type SendPermit =
  | { readonly go: true; readonly probe: boolean }
  | { readonly go: false; readonly why: string; readonly retryInMs: number };

/** The breaker settings of an export; undefined when `breaker: false`. */
const breakerSettingsOf = (exportConfig: ExportConfig): BreakerSettings | undefined => {
  if (exportConfig.breaker === false) return undefined;
  const settings = exportConfig.breaker ?? FLOW_CONTROL_DEFAULTS.breaker;
  return {
    failureRate: settings.failure_rate,
    minAttempts: settings.min_attempts,
    windowMs: settings.window_seconds * 1000,
    cooldownMs: settings.cooldown_seconds * 1000,
  };
};

/**
 * The requests per second one process may send to an export, or undefined without a limit.
 *
 * @example
 * rateShareOf(slackExport, 'instance'); // rate_limit_per_second 1, max_concurrency 2 → 0.5
 */
const rateShareOf = (exportConfig: ExportConfig, scope: RateScope): number | undefined => {
  const rate = exportConfig.rate_limit_per_second;
  if (rate === undefined) return undefined;
  return scope === RATE_SCOPES.process ? rate : rate / exportConfig.delivery.max_concurrency;
};

/** What an attempt says about the receiver's health. */
const healthOf = (result: SendResult, verdict: Pick<Verdict, 'outcome'>): AttemptHealth => {
  if (verdict.outcome === 'success') return ATTEMPT_HEALTH.success;
  if (result.status === TOO_MANY_REQUESTS) return ATTEMPT_HEALTH.neutral;
  return ATTEMPT_HEALTH.failure;
};

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * The breakers and rate limiters of one handler instance, created on first use per export.
 *
 * @example
 * const guards = new ExportGuards();
 * const permit = await guards.permit(exportConfig, record.messageId, false);
 */
class ExportGuards {
  readonly #now: () => number;
  readonly #rateScope: RateScope;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxRateWaitMs: number;
  readonly #breakers = new Map<string, CircuitBreaker | undefined>();
  readonly #limiters = new Map<string, RateLimiter | undefined>();
  /** `webhook.export_paused` events whose raise failed, to try again while still paused. */
  readonly pendingRaises = new Map<string, string>();

  constructor(options: ExportGuardsOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#rateScope = options.rateScope ?? RATE_SCOPES.instance;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#maxRateWaitMs = options.maxRateWaitMs ?? MAX_RATE_WAIT_MS;
  }

  /** The export's breaker; undefined with `breaker: false`. */
  breaker(exportConfig: ExportConfig): CircuitBreaker | undefined {
    if (!this.#breakers.has(exportConfig.name)) {
      const settings = breakerSettingsOf(exportConfig);
      this.#breakers.set(
        exportConfig.name,
        settings === undefined ? undefined : new CircuitBreaker(settings, this.#now),
      );
    }
    return this.#breakers.get(exportConfig.name);
  }

  /** The export's rate limiter; undefined without `rate_limit_per_second`. */
  limiter(exportConfig: ExportConfig): RateLimiter | undefined {
    if (!this.#limiters.has(exportConfig.name)) {
      const share = rateShareOf(exportConfig, this.#rateScope);
      this.#limiters.set(
        exportConfig.name,
        share === undefined ? undefined : new RateLimiter(share, this.#now),
      );
    }
    return this.#limiters.get(exportConfig.name);
  }

  /**
   * How long the export is still paused, without taking the probe; undefined when a send may
   * be tried. Lets a paused record skip secrets and rendering.
   */
  pausedForMs(exportConfig: ExportConfig): number | undefined {
    return this.breaker(exportConfig)?.waitMs(probeTimeoutMs(exportConfig));
  }

  /**
   * Asks the breaker, then the rate limiter, whether one request may go now, sleeping at most
   * `maxRateWaitMs` for the rate limiter's slot. `key` is the record's message id;
   * `returning` says it has been received before.
   */
  async permit(exportConfig: ExportConfig, key: string, returning: boolean): Promise<SendPermit> {
    const breaker = this.breaker(exportConfig);
    const admission = breaker?.admit(probeTimeoutMs(exportConfig)) ?? {
      allowed: true,
      probe: false,
    };
    if (!admission.allowed) {
      return {
        go: false,
        why:
          admission.state === 'open'
            ? 'the export is paused by its breaker'
            : 'the export is paused while a probe delivery decides',
        retryInMs: admission.retryInMs,
      };
    }
    const limiter = this.limiter(exportConfig);
    if (limiter !== undefined) {
      const decision = limiter.acquire(key, { maxWaitMs: this.#maxRateWaitMs, returning });
      if (!decision.granted) {
        breaker?.release(admission.probe);
        return {
          go: false,
          why: `rate limit: waiting for a slot (${limiter.ratePerSecond} request(s) per second from this instance)`,
          retryInMs: decision.retryInMs,
        };
      }
      if (decision.waitMs > 0) await this.#sleep(decision.waitMs);
    }
    return { go: true, probe: admission.probe };
  }

  /** Records an attempt's outcome; a 410 Gone opens the breaker at once. */
  report(
    exportConfig: ExportConfig,
    result: SendResult,
    verdict: Pick<Verdict, 'outcome'>,
    probe: boolean,
  ): BreakerTransition | undefined {
    const breaker = this.breaker(exportConfig);
    if (breaker === undefined) return undefined;
    if (result.status === GONE_STATUS) return breaker.trip();
    return breaker.record(healthOf(result, verdict), probe);
  }
}

/** How long a probe may take before another one is let through. */
const probeTimeoutMs = (exportConfig: ExportConfig): number =>
  exportConfig.webhook.timeout_seconds * 1000 + PROBE_MARGIN_MS;

export type { ExportGuardsOptions, RateScope, SendPermit };
export {
  breakerSettingsOf,
  ExportGuards,
  GONE_STATUS,
  healthOf,
  MAX_RATE_WAIT_MS,
  RATE_SCOPES,
  rateShareOf,
};
