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
import { median } from '../format.js';
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
      collectGarbage();
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
