/**
 * The arithmetic of the scale model (bench/scale/model.ts), on a made-up inventory: idle
 * polling, alarm and dashboard dollars, requests and dollars per delivery, a sustained rate by
 * Little's law, stack limits and grouping. In memory only; the bench's figure 10 feeds the same
 * functions with a synthesized stack and measured CPU.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PRICES } from '../../bench/prices.js';
import {
  atRate,
  atRest,
  costPerMillion,
  exportCapacityPerSecond,
  grouping,
  type Inventory,
  idleDominatesBelow,
  idleReceivesPerPollerMonth,
  marginalExportAtRest,
  maxExportsWithin,
  perDelivery,
  sqsRequestsPerDelivery,
  vcpuShare,
  type WorkInputs,
} from '../../bench/scale/model.js';
import { readSettings } from '../../bench/settings.js';

/** The shape of today's stack: 30 + 9 per export, 4 alarm metrics per export. */
const INVENTORY: Inventory = {
  perStage: {
    resources: 30,
    alarms: 9,
    alarmMetrics: 9,
    dashboards: 1,
    dashboardWidgets: 6,
    mappingsWithMaxConcurrency: 0,
    mappingsWithoutMaxConcurrency: 1,
  },
  perExport: {
    resources: 9,
    alarms: 3,
    alarmMetrics: 4,
    dashboards: 0,
    dashboardWidgets: 4,
    mappingsWithMaxConcurrency: 2,
    mappingsWithoutMaxConcurrency: 0,
  },
};

const WORK: WorkInputs = {
  cpuSecondsPerDelivery: 0.001,
  receiverLatencySeconds: 0.1,
  sqsLatencySeconds: 0.02,
  deliveryMemoryMb: 512,
  ingestMemoryMb: 256,
};

describe('at rest', () => {
  it('counts one long poll of 20 s after another for a 30-day month', () => {
    expect(idleReceivesPerPollerMonth()).toBe((30 * 86_400) / 20);
  });

  it('prices 5 pollers per export mapping, 2 to 5 for ingest, alarm metrics and the dashboard', () => {
    const stage = atRest(INVENTORY, 3);
    const perPoller = 129_600;
    expect(stage.pollers).toEqual({ low: 3 * 2 * 5 + 2, high: 3 * 2 * 5 + 5 });
    expect(stage.sqsRequests.high).toBe(35 * perPoller);
    expect(stage.sqs.high).toBeCloseTo((35 * perPoller * 0.4) / 1e6, 10);
    expect(stage.alarms).toBeCloseTo((9 + 3 * 4) * PRICES.cloudWatchAlarmMetricPerMonth, 10);
    expect(stage.dashboards).toBe(PRICES.cloudWatchDashboardPerMonth);
    expect(stage.total).toBeCloseTo(stage.sqs.high + stage.alarms + stage.dashboards, 10);
    expect(stage.perExport).toBeCloseTo(stage.total / 3, 10);
  });

  it('adds the marginal cost of an export for each export added', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (exports) => {
        const difference = atRest(INVENTORY, exports + 1).total - atRest(INVENTORY, exports).total;
        expect(difference).toBeCloseTo(marginalExportAtRest(INVENTORY), 9);
      }),
    );
  });
});

describe('under load', () => {
  it('needs 0.3 SQS requests per delivery plus the ingest message shared by its deliveries', () => {
    expect(
      sqsRequestsPerDelivery({ eventsPerMessage: 1, exportsPerEvent: 1, recordsPerInvocation: 10 }),
    ).toBeCloseTo(0.6, 10);
    expect(
      sqsRequestsPerDelivery({
        eventsPerMessage: 50,
        exportsPerEvent: 3,
        recordsPerInvocation: 10,
      }),
    ).toBeCloseTo(0.302, 10);
  });

  it('saves invocations, not SQS requests, when an export is batched', () => {
    const traffic = { eventsPerMessage: 50, exportsPerEvent: 3 } as const;
    const unbatched = perDelivery({ ...traffic, recordsPerInvocation: 10 }, WORK);
    const batched = perDelivery({ ...traffic, recordsPerInvocation: 100 }, WORK);
    expect(batched.sqsRequests).toBe(unbatched.sqsRequests);
    expect(batched.lambdaInvocations).toBeLessThan(unbatched.lambdaInvocations);
    expect(costPerMillion(batched).total).toBeLessThan(costPerMillion(unbatched).total);
  });

  it('stretches CPU by the vCPU share and waits once for the receiver per invocation', () => {
    expect(vcpuShare(1769)).toBe(1);
    expect(vcpuShare(4096)).toBe(1);
    const each = perDelivery(
      { eventsPerMessage: 50, exportsPerEvent: 3, recordsPerInvocation: 10 },
      WORK,
    );
    expect(each.deliveryInvocationSeconds).toBeCloseTo((10 * 0.001) / (512 / 1769) + 0.1, 10);
  });

  it('prices a million deliveries as the sum of its parts', () => {
    const cost = costPerMillion({
      sqsRequests: 0.3,
      lambdaInvocations: 0.1,
      lambdaGbSeconds: 0.01,
      deliveryInvocationSeconds: 0.1,
    });
    expect(cost.sqs).toBeCloseTo(0.3 * 0.4, 10);
    expect(cost.lambdaRequests).toBeCloseTo(0.1 * 0.2, 10);
    expect(cost.lambdaCompute).toBeCloseTo(0.01 * 1e6 * PRICES.lambdaArmPerGbSecond, 10);
    expect(cost.total).toBeCloseTo(cost.sqs + cost.lambdaRequests + cost.lambdaCompute, 10);
  });
});

describe('at a sustained rate', () => {
  const traffic = { eventsPerMessage: 50, exportsPerEvent: 3, recordsPerInvocation: 10 } as const;

  it("applies Little's law to the delivery invocations", () => {
    const rate = atRate(traffic, WORK, 10_000);
    expect(rate.deliveriesPerSecond).toBe(30_000);
    expect(rate.deliveryInvocationsPerSecond).toBe(3_000);
    expect(rate.deliveryConcurrency).toBeCloseTo(3_000 * rate.deliveryInvocationSeconds, 9);
    expect(rate.deliveryConcurrencyPerExport).toBeCloseTo(rate.deliveryConcurrency / 3, 9);
    expect(rate.ingestConcurrency).toBeCloseTo((10_000 / 50 / 10) * 0.02, 10);
    expect(rate.sqsRequestsPerSecond).toBeCloseTo(30_000 * 0.302, 6);
  });

  it('scales concurrency and dollars linearly with the event rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (eventsPerSecond) => {
        const one = atRate(traffic, WORK, 1);
        const many = atRate(traffic, WORK, eventsPerSecond);
        expect(many.concurrency).toBeCloseTo(one.concurrency * eventsPerSecond, 6);
        expect(many.dollarsPerHour.total).toBeCloseTo(
          one.dollarsPerHour.total * eventsPerSecond,
          6,
        );
      }),
    );
  });

  it('gives an export max_concurrency x records / seconds per invocation', () => {
    expect(exportCapacityPerSecond(5, 10, 0.125)).toBe(400);
  });
});

describe('limits and grouping', () => {
  it('finds the most exports that fit a per-stack limit', () => {
    expect(maxExportsWithin(INVENTORY, 'resources', 500)).toBe(52);
    expect(maxExportsWithin(INVENTORY, 'dashboardWidgets', 500)).toBe(123);
  });

  it('saves nothing when every export has its own queue, and keeps the paused alarm per export', () => {
    const paused = { resources: 1, alarms: 1, alarmMetrics: 1 };
    expect(grouping(INVENTORY, 30, 1, paused).savedPerMonth).toBeCloseTo(0, 10);
    const grouped = grouping(INVENTORY, 200, 20, paused);
    expect(grouped.groups).toBe(10);
    expect(grouped.resourcesGrouped).toBe(30 + 10 * 8 + 200);
    expect(grouped.savedPerMonth).toBeGreaterThan(0);
  });

  it('says below how many deliveries idle cost dominates', () => {
    expect(idleDominatesBelow(0.92, 0.23)).toBeCloseTo(4e6, 6);
  });
});

describe('BENCH_ONLY', () => {
  it('accepts every figure of the bench, 9 and 10 included, and refuses one past the last', () => {
    expect(readSettings({ BENCH_ONLY: '9,10' }, 10).only).toEqual([9, 10]);
    expect(() => readSettings({ BENCH_ONLY: '11' }, 10)).toThrow('BENCH_ONLY lists figures 1-10');
    expect(readSettings({ BENCH_ONLY: '10' }).only).toEqual([10]);
  });
});
