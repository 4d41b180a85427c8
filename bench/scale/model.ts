/**
 * The cost and scale model of a stage: pure arithmetic over sourced AWS facts (`./sources.ts`),
 * list prices (`../prices.ts`), what the CDK stack deploys (`./inventory.ts`, counted from a
 * synthesized template) and what the local stack measured (`../figures/scale.ts`). Nothing here
 * is measured or read from disk, so `test/unit/scaleModel.test.ts` checks the arithmetic alone.
 */
import { PRICES } from '../prices.js';
import { MONTH_SECONDS, SOURCES } from './sources.js';

/** What a stage deploys, in the units AWS bills and limits. */
interface StackCounts {
  /** CloudFormation resources. */
  readonly resources: number;
  readonly alarms: number;
  /** Metrics the alarms watch: a math alarm over two metrics is billed as two. */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly dashboardWidgets: number;
  /** Event source mappings with MaximumConcurrency (5 idle pollers). */
  readonly mappingsWithMaxConcurrency: number;
  /** Event source mappings without it (2 to 5 idle pollers). */
  readonly mappingsWithoutMaxConcurrency: number;
}

/** A stage's counts as a fixed part plus a part per export (the template is linear in exports). */
interface Inventory {
  readonly perStage: StackCounts;
  readonly perExport: StackCounts;
}

const COUNT_KEYS = [
  'resources',
  'alarms',
  'alarmMetrics',
  'dashboards',
  'dashboardWidgets',
  'mappingsWithMaxConcurrency',
  'mappingsWithoutMaxConcurrency',
] as const satisfies readonly (keyof StackCounts)[];

/** The counts of a stage with `exports` exports. */
const countsFor = (inventory: Inventory, exports: number): StackCounts =>
  Object.fromEntries(
    COUNT_KEYS.map((key) => [key, inventory.perStage[key] + exports * inventory.perExport[key]]),
  ) as unknown as StackCounts;

/** Receives one idle poller makes in a month: one long poll after another. */
const idleReceivesPerPollerMonth = (): number => MONTH_SECONDS / SOURCES.longPollSeconds.value;

/** Dollars for `requests` SQS requests. */
const sqsDollars = (requests: number): number => (requests / 1e6) * PRICES.sqsPerMillionRequests;

/** What a stage costs in a month when no event arrives. */
interface AtRest {
  readonly exports: number;
  readonly counts: StackCounts;
  readonly pollers: { readonly low: number; readonly high: number };
  readonly sqsRequests: { readonly low: number; readonly high: number };
  readonly sqs: { readonly low: number; readonly high: number };
  readonly alarms: number;
  readonly dashboards: number;
  /** Upper bound (every mapping at 5 pollers). */
  readonly total: number;
  readonly perExport: number;
}

/**
 * A stage at rest: every mapping's idle pollers long-poll their queue all month, every alarm
 * metric and dashboard is billed. The ingest mapping may idle at 2 pollers instead of 5, so the
 * SQS figure is a range; the total uses its upper end.
 *
 * @example
 * atRest(inventory, 30).perExport; // dollars per export per month
 */
const atRest = (inventory: Inventory, exports: number): AtRest => {
  const counts = countsFor(inventory, exports);
  const withMax = counts.mappingsWithMaxConcurrency * SOURCES.idlePollersWithMaxConcurrency.value;
  const pollers = {
    low:
      withMax +
      counts.mappingsWithoutMaxConcurrency * SOURCES.idlePollersWithoutMaxConcurrency.value,
    high:
      withMax + counts.mappingsWithoutMaxConcurrency * SOURCES.idlePollersWithMaxConcurrency.value,
  };
  const perPoller = idleReceivesPerPollerMonth();
  const sqsRequests = { low: pollers.low * perPoller, high: pollers.high * perPoller };
  const sqs = { low: sqsDollars(sqsRequests.low), high: sqsDollars(sqsRequests.high) };
  const alarms = counts.alarmMetrics * PRICES.cloudWatchAlarmMetricPerMonth;
  const dashboards = counts.dashboards * PRICES.cloudWatchDashboardPerMonth;
  const total = sqs.high + alarms + dashboards;
  return {
    exports,
    counts,
    pollers,
    sqsRequests,
    sqs,
    alarms,
    dashboards,
    total,
    perExport: total / exports,
  };
};

/** What one more export adds at rest in a month (its own mappings and alarms). */
const marginalExportAtRest = (inventory: Inventory): number => {
  const { perExport } = inventory;
  const pollers =
    perExport.mappingsWithMaxConcurrency * SOURCES.idlePollersWithMaxConcurrency.value +
    perExport.mappingsWithoutMaxConcurrency * SOURCES.idlePollersWithMaxConcurrency.value;
  return (
    sqsDollars(pollers * idleReceivesPerPollerMonth()) +
    perExport.alarmMetrics * PRICES.cloudWatchAlarmMetricPerMonth +
    perExport.dashboards * PRICES.cloudWatchDashboardPerMonth
  );
};

/** Measured on the local stack, and assumed where AWS cannot be measured here. */
interface WorkInputs {
  /** CPU seconds the pipeline spent per delivery (ingest + delivery handlers, their clients). */
  readonly cpuSecondsPerDelivery: number;
  /** How long a receiver takes to answer (assumed). */
  readonly receiverLatencySeconds: number;
  /** How long an ingest invocation waits on its parallel SendMessageBatch calls (assumed). */
  readonly sqsLatencySeconds: number;
  readonly deliveryMemoryMb: number;
  readonly ingestMemoryMb: number;
}

/** Share of a vCPU a function of `memoryMb` gets (Node.js runs the handler on one thread). */
const vcpuShare = (memoryMb: number): number =>
  Math.min(1, memoryMb / SOURCES.memoryPerVcpuMb.value);

/** A traffic shape. */
interface Traffic {
  /** Events per producer message: 1, or the length of the JSON arrays. */
  readonly eventsPerMessage: number;
  /** Exports each event is delivered to. */
  readonly exportsPerEvent: number;
  /** Records per delivery invocation: `delivery.batch_size`, or a batched export's `max_events`. */
  readonly recordsPerInvocation: number;
}

/** Requests and invocations per delivery, before prices. */
interface PerDelivery {
  readonly sqsRequests: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  /** Wall time of one delivery invocation. */
  readonly deliveryInvocationSeconds: number;
}

/**
 * SQS requests per delivery with full batches of 10: the fan-out SendMessageBatch, the poller's
 * receive and delete of the delivery message, plus the producer's send, the receive and the
 * delete of the ingest message, shared by the deliveries of its events. A batched export reads
 * and deletes its records 10 at a time like any other, so batching saves invocations and HTTP
 * requests, not SQS requests.
 */
const sqsRequestsPerDelivery = (traffic: Traffic): number => {
  const entries = SOURCES.batchEntries.value;
  return 3 / entries + 3 / entries / (traffic.eventsPerMessage * traffic.exportsPerEvent);
};

/**
 * Work per delivery. A delivery invocation spends the records' CPU time (stretched by the
 * function's vCPU share) and waits once for the receiver: the requests of a batch go out
 * together, a batched export sends one. An ingest invocation (10 producer messages) waits once
 * for its fan-out sends, which go out in parallel; its CPU is inside `cpuSecondsPerDelivery`.
 */
const perDelivery = (traffic: Traffic, work: WorkInputs): PerDelivery => {
  const records = traffic.recordsPerInvocation;
  const deliveryInvocationSeconds =
    (records * work.cpuSecondsPerDelivery) / vcpuShare(work.deliveryMemoryMb) +
    work.receiverLatencySeconds;
  const ingestInvocationsPerDelivery =
    1 / (SOURCES.batchEntries.value * traffic.eventsPerMessage * traffic.exportsPerEvent);
  const gb = (mb: number) => mb / 1024;
  return {
    sqsRequests: sqsRequestsPerDelivery(traffic),
    lambdaInvocations: 1 / records + ingestInvocationsPerDelivery,
    lambdaGbSeconds:
      (deliveryInvocationSeconds * gb(work.deliveryMemoryMb)) / records +
      ingestInvocationsPerDelivery * work.sqsLatencySeconds * gb(work.ingestMemoryMb),
    deliveryInvocationSeconds,
  };
};

/** Dollars per million deliveries. */
interface CostPerMillion {
  readonly sqs: number;
  readonly lambdaRequests: number;
  readonly lambdaCompute: number;
  readonly total: number;
}

const costPerMillion = (work: PerDelivery): CostPerMillion => {
  const sqs = work.sqsRequests * PRICES.sqsPerMillionRequests;
  const lambdaRequests = work.lambdaInvocations * PRICES.lambdaPerMillionRequests;
  const lambdaCompute = work.lambdaGbSeconds * 1e6 * PRICES.lambdaArmPerGbSecond;
  return { sqs, lambdaRequests, lambdaCompute, total: sqs + lambdaRequests + lambdaCompute };
};

/** A sustained event rate on AWS. */
interface AtRate {
  readonly eventsPerSecond: number;
  readonly deliveriesPerSecond: number;
  readonly deliveryInvocationsPerSecond: number;
  readonly deliveryInvocationSeconds: number;
  readonly deliveryConcurrency: number;
  readonly deliveryConcurrencyPerExport: number;
  readonly ingestInvocationsPerSecond: number;
  readonly ingestConcurrency: number;
  readonly concurrency: number;
  readonly sqsRequestsPerSecond: number;
  readonly dollarsPerHour: {
    readonly sqs: number;
    readonly lambda: number;
    readonly total: number;
  };
  /** Minutes for one export's mapping to ramp from 5 concurrent batches to what it needs. */
  readonly rampMinutes: number;
  /** Delivery messages in flight on one export's queue at once. */
  readonly inflightPerQueue: number;
}

/**
 * A sustained rate by Little's law: concurrency = invocations per second x seconds each.
 *
 * @example
 * atRate({ eventsPerMessage: 50, exportsPerEvent: 3, recordsPerInvocation: 10 }, work, 10_000);
 */
const atRate = (traffic: Traffic, work: WorkInputs, eventsPerSecond: number): AtRate => {
  const each = perDelivery(traffic, work);
  const deliveriesPerSecond = eventsPerSecond * traffic.exportsPerEvent;
  const deliveryInvocationsPerSecond = deliveriesPerSecond / traffic.recordsPerInvocation;
  const deliveryConcurrency = deliveryInvocationsPerSecond * each.deliveryInvocationSeconds;
  const ingestInvocationsPerSecond =
    eventsPerSecond / traffic.eventsPerMessage / SOURCES.batchEntries.value;
  const ingestConcurrency = ingestInvocationsPerSecond * work.sqsLatencySeconds;
  const perSecond = costPerMillion(each);
  const hour = (perMillion: number) => (perMillion * deliveriesPerSecond * 3600) / 1e6;
  const perExport = deliveryConcurrency / traffic.exportsPerEvent;
  return {
    eventsPerSecond,
    deliveriesPerSecond,
    deliveryInvocationsPerSecond,
    deliveryInvocationSeconds: each.deliveryInvocationSeconds,
    deliveryConcurrency,
    deliveryConcurrencyPerExport: perExport,
    ingestInvocationsPerSecond,
    ingestConcurrency,
    concurrency: deliveryConcurrency + ingestConcurrency,
    sqsRequestsPerSecond: deliveriesPerSecond * each.sqsRequests,
    dollarsPerHour: {
      sqs: hour(perSecond.sqs),
      lambda: hour(perSecond.lambdaRequests + perSecond.lambdaCompute),
      total: hour(perSecond.total),
    },
    rampMinutes: Math.max(
      0,
      (perExport - SOURCES.idlePollersWithMaxConcurrency.value) / SOURCES.pollerRampPerMinute.value,
    ),
    inflightPerQueue: perExport * traffic.recordsPerInvocation,
  };
};

/** Deliveries one export can take per second with `maxConcurrency` invocations at once. */
const exportCapacityPerSecond = (
  maxConcurrency: number,
  recordsPerInvocation: number,
  invocationSeconds: number,
): number => (maxConcurrency * recordsPerInvocation) / invocationSeconds;

/** Most exports a stage holds before `limit` of one counted quantity is reached. */
const maxExportsWithin = (inventory: Inventory, key: keyof StackCounts, limit: number): number =>
  Math.floor((limit - inventory.perStage[key]) / inventory.perExport[key]);

/** Exports sharing delivery queues, `groupSize` to a queue (and to its DLQ). */
interface Grouping {
  readonly exports: number;
  readonly groupSize: number;
  readonly groups: number;
  readonly atRestOwn: number;
  readonly atRestGrouped: number;
  readonly savedPerMonth: number;
  readonly resourcesOwn: number;
  readonly resourcesGrouped: number;
}

/**
 * At rest, grouped: a group has what an export has today (two mappings, queue alarms) except
 * the `paused` alarm, which stays per export (its metric has an export dimension). Under load
 * grouping saves nothing: the same messages are sent, received and deleted.
 */
const grouping = (
  inventory: Inventory,
  exports: number,
  groupSize: number,
  perExportAlarm: {
    readonly resources: number;
    readonly alarms: number;
    readonly alarmMetrics: number;
  },
): Grouping => {
  const groups = Math.ceil(exports / groupSize);
  const own = atRest(inventory, exports);
  const perGroup: StackCounts = {
    ...inventory.perExport,
    resources: inventory.perExport.resources - perExportAlarm.resources,
    alarms: inventory.perExport.alarms - perExportAlarm.alarms,
    alarmMetrics: inventory.perExport.alarmMetrics - perExportAlarm.alarmMetrics,
  };
  const grouped = atRest({ perStage: inventory.perStage, perExport: perGroup }, groups);
  const residual = exports * perExportAlarm.alarmMetrics * PRICES.cloudWatchAlarmMetricPerMonth;
  const atRestGrouped = grouped.total + residual;
  return {
    exports,
    groupSize,
    groups,
    atRestOwn: own.total,
    atRestGrouped,
    savedPerMonth: own.total - atRestGrouped,
    resourcesOwn: own.counts.resources,
    resourcesGrouped: grouped.counts.resources + exports * perExportAlarm.resources,
  };
};

/**
 * Deliveries per month below which an export costs more idle than working: its at-rest cost
 * divided by the cost of one delivery.
 */
const idleDominatesBelow = (marginalAtRest: number, dollarsPerMillion: number): number =>
  (marginalAtRest / dollarsPerMillion) * 1e6;

export type {
  AtRate,
  AtRest,
  CostPerMillion,
  Grouping,
  Inventory,
  PerDelivery,
  StackCounts,
  Traffic,
  WorkInputs,
};
export {
  atRate,
  atRest,
  COUNT_KEYS,
  costPerMillion,
  countsFor,
  exportCapacityPerSecond,
  grouping,
  idleDominatesBelow,
  idleReceivesPerPollerMonth,
  marginalExportAtRest,
  maxExportsWithin,
  perDelivery,
  sqsRequestsPerDelivery,
  vcpuShare,
};
