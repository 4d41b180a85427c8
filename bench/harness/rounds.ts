/**
 * Side-by-side throughput: each side runs once per round, in an order that rotates every round,
 * so that a slow spell of a shared machine falls on every side alike. Medians are taken over
 * rounds.
 *
 * Before each run the young generation is collected, outside the timing: otherwise a side pays
 * for the garbage the side before it left. Figure 1 showed it: two identical handler rigs
 * differed by a third (225 and 157 µs of CPU per request), the slower one always running right
 * after the other. Each side still pays for the collections its own allocations cause while it
 * runs. A full collection instead made every side twice as slow (V8 shrinks the heap after it).
 */
import { median, num, times } from '../format.js';
import { type Verdict, verdict } from '../report.js';
import { timed } from './measure.js';

/** A young-generation collection; the figure processes run with `--expose-gc` (./rpc.ts). */
const collectGarbage = (): void => {
  const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
  if (gc === undefined) {
    throw new Error('side-by-side rounds need node --expose-gc (bench/harness/rpc.ts forks so)');
  }
  gc({ type: 'minor' });
};

/** One side's rounds. */
interface SideRounds {
  /** Units per wall-clock second, one entry per round. */
  readonly perSecond: readonly number[];
  /** Units per CPU-second of this process, one entry per round. */
  readonly perCpuSecond: readonly number[];
  /** Failures the side reported, over all rounds. */
  readonly failed: number;
  /** Median of `perSecond`. */
  readonly median: number;
  /** Median of `perCpuSecond`. */
  readonly cpuMedian: number;
}

/** One run of a side: its failures, wall-clock and CPU milliseconds (of the process it ran in). */
interface Measured {
  readonly failed: number;
  readonly ms: number;
  readonly cpuMs: number;
}

/**
 * A side that runs in this process: the young generation is collected first (outside the
 * timing), then the run is timed. `run` resolves with the number of units that failed.
 *
 * @example
 * alternateRounds({ handler: measuredHere(() => rig.run(batches)) }, 7, 2000);
 */
const measuredHere = (run: () => Promise<number>) => async (): Promise<Measured> => {
  collectGarbage();
  const { result, ms, cpuMs } = await timed(run);
  return { failed: result, ms, cpuMs };
};

/**
 * Runs every side once to warm up (not counted), then `rounds` times. A side does `units` units
 * of work per run and measures itself ({@link measuredHere}, or a process of its own that does
 * the same).
 *
 * @example
 * const { handler, bare } = await alternateRounds({ handler: measuredHere(runHandler), bare: measuredHere(runBare) }, 5, 3000);
 * const ratio = handler.median / bare.median;
 */
const alternateRounds = async <K extends string>(
  sides: Readonly<Record<K, () => Promise<Measured>>>,
  rounds: number,
  units: number,
): Promise<Record<K, SideRounds>> => {
  const names = Object.keys(sides) as K[];
  const runs = new Map<K, { perSecond: number[]; perCpuSecond: number[]; failed: number }>(
    names.map((name) => [name, { perSecond: [], perCpuSecond: [], failed: 0 }]),
  );
  for (const name of names) await sides[name]();
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length] as K;
      const { failed, ms, cpuMs } = await sides[name]();
      const side = runs.get(name);
      if (!side) continue;
      side.perSecond.push(units / (ms / 1000));
      side.perCpuSecond.push(units / (cpuMs / 1000));
      side.failed += failed;
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const side = runs.get(name) ?? { perSecond: [], perCpuSecond: [], failed: 0 };
      return [
        name,
        { ...side, median: median(side.perSecond), cpuMedian: median(side.perCpuSecond) },
      ];
    }),
  ) as unknown as Record<K, SideRounds>;
};

/** A paired ratio: its median and the 95% confidence interval of that median. */
interface RatioEstimate {
  readonly median: number;
  /** Distribution-free: two order statistics of the rounds' ratios. */
  readonly low: number;
  readonly high: number;
}

/**
 * The median of `values` and the 95% confidence interval of that median, read from the sorted
 * values themselves (no assumption about their distribution), at ranks n/2 -+ 1.96 sqrt(n)/2 (the
 * normal approximation to the binomial). On a shared host one round's ratio can be far off while
 * the next is not, so the interval says how settled the median is: with the default 60 rounds it
 * spanned about a tenth either side.
 *
 * @example
 * medianWithInterval([0.8, 0.9, 1.0, 0.85, 0.95]); // { median: 0.9, low: 0.8, high: 1.0 }
 */
const medianWithInterval = (values: readonly number[]): RatioEstimate => {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const spread = (1.96 * Math.sqrt(n)) / 2;
  const at = (rank: number) => sorted[Math.min(n, Math.max(1, rank)) - 1] ?? Number.NaN;
  return {
    median: median(sorted),
    low: at(Math.floor(n / 2 - spread)),
    high: at(Math.ceil(1 + n / 2 + spread)),
  };
};

/**
 * How much faster `side` ran than `baseline`: the median over rounds of the ratio of their runs
 * in the same round, wall-clock and CPU, each with its confidence interval. Pairing runs of the
 * same round, seconds apart at most, keeps a machine that is slower for a while from moving the
 * ratio, as it moves both medians.
 *
 * @example
 * const { wall, cpu } = pairedRatio(sides.handler, sides.bare); // wall.median 0.82, cpu.median 0.80
 */
const pairedRatio = (
  side: SideRounds,
  baseline: SideRounds,
): { readonly wall: RatioEstimate; readonly cpu: RatioEstimate } => {
  const ratios = (of: readonly number[], to: readonly number[]) =>
    of.flatMap((value, round) => {
      const base = to[round];
      return base === undefined || base === 0 ? [] : [value / base];
    });
  return {
    wall: medianWithInterval(ratios(side.perSecond, baseline.perSecond)),
    cpu: medianWithInterval(ratios(side.perCpuSecond, baseline.perCpuSecond)),
  };
};

/**
 * A paired ratio as the table prints it: the wall-clock median with its interval, then CPU.
 *
 * @example
 * pairedResult(pairedRatio(handler, bare)); // "0.81x (95% CI 0.77-0.86; CPU 0.77x)"
 */
const pairedResult = (paired: ReturnType<typeof pairedRatio>): string =>
  `${times(paired.wall.median)} (95% CI ${num(paired.wall.low, 2)}-${num(paired.wall.high, 2)}; CPU ${times(paired.cpu.median)})`;

/**
 * The columns of a side-by-side figure's row against its goal, in one place for figures 1, 4b
 * and 7: the paired ratio with its interval, and the verdict, a pass when the median reaches the
 * goal and `sound` (no failed record, no stray SQS call, as the figure requires).
 *
 * @example
 * { figure: '7', name, measured, baseline, ...pairedColumns(paired, 0.95, failed === 0) }
 */
const pairedColumns = (
  paired: ReturnType<typeof pairedRatio>,
  goal: number,
  sound: boolean,
): { result: string; value: number; goal: string; verdict: Verdict } => ({
  result: pairedResult(paired),
  value: paired.wall.median,
  goal: `>= ${num(goal, 2)}x`,
  verdict: verdict(paired.wall.median >= goal && sound),
});

export type { Measured, RatioEstimate, SideRounds };
export {
  alternateRounds,
  measuredHere,
  medianWithInterval,
  pairedColumns,
  pairedRatio,
  pairedResult,
};
