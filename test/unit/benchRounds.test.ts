/**
 * The statistics of the bench's side-by-side figures (bench/harness/rounds.ts): the median of
 * the rounds' paired ratios and its distribution-free 95% interval. In memory only.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { medianWithInterval, pairedRatio, type SideRounds } from '../../bench/harness/rounds.js';

const sideOf = (perSecond: readonly number[]): SideRounds => ({
  perSecond,
  perCpuSecond: perSecond,
  failed: 0,
  median: Number.NaN,
  cpuMedian: Number.NaN,
});

describe('Function: medianWithInterval', () => {
  it('takes the interval from the order statistics n/2 -+ 1.96 sqrt(n)/2', () => {
    // 28 rounds: ranks 8 and 21 (1-based) of the sorted values.
    const values = Array.from({ length: 28 }, (_, index) => (28 - index) / 10);
    const estimate = medianWithInterval(values);
    expect(estimate).toEqual({ median: 1.4, low: 0.8, high: 2.1 });
  });

  it('keeps the median inside its interval, and the interval inside the values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (values) => {
          const { median, low, high } = medianWithInterval(values);
          expect(low).toBeLessThanOrEqual(median);
          expect(median).toBeLessThanOrEqual(high);
          expect(low).toBeGreaterThanOrEqual(Math.min(...values));
          expect(high).toBeLessThanOrEqual(Math.max(...values));
        },
      ),
    );
  });
});

describe('Function: pairedRatio', () => {
  it('pairs the runs of the same round, so a slow round moves neither side alone', () => {
    // The machine slows down tenfold in the last rounds; the handler is always 0.8x the bare loop.
    const bare = [100, 100, 100, 10, 10, 10, 10];
    const handler = bare.map((rate) => rate * 0.8);
    const { wall } = pairedRatio(sideOf(handler), sideOf(bare));
    expect(wall.median).toBeCloseTo(0.8);
    expect(wall.low).toBeCloseTo(0.8);
    expect(wall.high).toBeCloseTo(0.8);
  });
});
