/**
 * Sizes of the benchmark, read once from the environment. The defaults keep a full run of
 * `npm run bench` to about three and a half minutes on a 2-core machine; raise them for steadier
 * figures.
 */

import { FIGURES } from './figures.js';

/** A size read from the environment, its default and what it controls. */
interface SizeSetting {
  readonly env: string;
  readonly fallback: number;
  readonly what: string;
}

const SIZES = {
  // Many short rounds rather than a few long ones: on a shared host one side's run of a round
  // can fall in a slow spell the other's misses, so single rounds' ratios spread widely (0.39 to
  // 2.34 within one run), and the median's interval narrows with the square root of the rounds
  // (bench/performancePage.md, "How it measures").
  deliveries: {
    env: 'BENCH_DELIVERIES',
    fallback: 500,
    what: 'deliveries per side per round (1, 4)',
  },
  rounds: { env: 'BENCH_ROUNDS', fallback: 60, what: 'alternating rounds per side (1, 4, 7)' },
  reuseDeliveries: {
    env: 'BENCH_REUSE_DELIVERIES',
    fallback: 3_000,
    what: 'deliveries counted for connection reuse (2)',
  },
  batches: { env: 'BENCH_BATCHES', fallback: 15, what: 'timed batches of 10 (3)' },
  sqsEvents: { env: 'BENCH_SQS_EVENTS', fallback: 3_000, what: 'events pushed for SQS counts (5)' },
  coldRuns: {
    env: 'BENCH_COLD_RUNS',
    fallback: 21,
    what: 'fresh processes per bundle (6) and per CLI command (11)',
  },
  middlewareBatches: {
    env: 'BENCH_MIDDLEWARE_BATCHES',
    fallback: 500,
    what: 'in-memory batches of 10 per round (7)',
  },
  batchingEvents: {
    env: 'BENCH_BATCHING_EVENTS',
    fallback: 2_000,
    what: 'events pushed through a batched and an unbatched export, at most 2,000 (9)',
  },
  events: { env: 'BENCH_EVENTS', fallback: 10_000, what: 'events pushed end to end (8)' },
  exports: { env: 'BENCH_EXPORTS', fallback: 3, what: 'exports every event matches (5, 8)' },
  ceilingMessages: {
    env: 'BENCH_CEILING_MESSAGES',
    fallback: 15_000,
    what: 'messages through the bare SQS loop (8)',
  },
  scaleEvents: {
    env: 'BENCH_SCALE_EVENTS',
    fallback: 1_500,
    what: 'events pushed for the scale model (10; a fifth of them one per message)',
  },
  lightEvents: {
    env: 'BENCH_LIGHT_EVENTS',
    fallback: 100,
    what: 'events pushed one at a time for light-load latency (8)',
  },
} as const satisfies Record<string, SizeSetting>;

type BenchSizes = { readonly [K in keyof typeof SIZES]: number };

interface BenchSettings extends BenchSizes {
  /** Figures to run (`BENCH_ONLY=1,5`); all when unset. */
  readonly only?: readonly number[];
}

class BenchSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchSettingsError';
  }
}

const positiveInteger = (env: NodeJS.ProcessEnv, setting: SizeSetting): number => {
  const raw = env[setting.env];
  if (raw === undefined || raw === '') return setting.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new BenchSettingsError(`${setting.env} must be a whole number >= 1, got "${raw}"`);
  }
  return value;
};

/**
 * The settings of this run.
 *
 * @example
 * const settings = readSettings(process.env); // BENCH_EVENTS=2000 npm run bench
 *
 * @param figureCount figures `BENCH_ONLY` may name, 1 to this (every figure of the bench)
 */
const readSettings = (env: NodeJS.ProcessEnv, figureCount = FIGURES.length): BenchSettings => {
  const sizes = Object.fromEntries(
    Object.entries(SIZES).map(([key, setting]) => [key, positiveInteger(env, setting)]),
  ) as unknown as BenchSizes;
  const only = env.BENCH_ONLY?.split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (only?.some((id) => !Number.isInteger(id) || id < 1 || id > figureCount)) {
    throw new BenchSettingsError(
      `BENCH_ONLY lists figures 1-${figureCount}, e.g. "1,5"; got "${env.BENCH_ONLY}"`,
    );
  }
  // Batches of 10 throughout: round sizes to whole batches.
  const wholeBatches = (n: number) => Math.max(10, Math.ceil(n / 10) * 10);
  return {
    ...sizes,
    deliveries: wholeBatches(sizes.deliveries),
    reuseDeliveries: wholeBatches(sizes.reuseDeliveries),
    ...(only && only.length > 0 ? { only } : {}),
  };
};

export type { BenchSettings };
export { BenchSettingsError, readSettings, SIZES };
