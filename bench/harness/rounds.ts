/**
 * Side-by-side throughput: each side runs once per round, in an order that rotates every round,
 * so that a slow spell of a shared machine falls on every side alike. Medians are taken over
 * rounds.
 */
import { median } from '../format.js';
import { timed } from './measure.js';

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

/**
 * Runs every side once to warm up (not counted), then `rounds` times. A side does `units` units
 * of work per run and resolves with the number that failed.
 *
 * @example
 * const { handler, bare } = await alternateRounds({ handler: runHandler, bare: runBare }, 5, 3000);
 * const ratio = handler.median / bare.median;
 */
const alternateRounds = async <K extends string>(
  sides: Readonly<Record<K, () => Promise<number>>>,
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
      const { result, ms, cpuMs } = await timed(sides[name]);
      const side = runs.get(name);
      if (!side) continue;
      side.perSecond.push(units / (ms / 1000));
      side.perCpuSecond.push(units / (cpuMs / 1000));
      side.failed += result;
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

export type { SideRounds };
export { alternateRounds };
