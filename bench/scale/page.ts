/**
 * `docs/scale.md`, generated: the prose of `bench/scalePage.md` with, at its markers, the tables
 * the model (`./model.ts`) computes from figure 10's inputs. The model runs here, not in the
 * figure, so `npm run bench -- --report-only` applies a change to the model or the prices
 * without measuring again.
 */
import {
  EXPORT_GROUP_COUNT,
  EXPORT_GROUP_MAX_EXPORTS,
  MAX_EXPORTS_PER_STAGE,
  SINGLE_STACK_MAX_EXPORTS,
} from '../../shared/sqs/stageLayout.js';
import { num } from '../format.js';
import { PRICE_SOURCES, PRICES } from '../prices.js';
import type { BenchResults } from '../report.js';
import type { StackInventory } from './inventory.js';
import {
  type AtRate,
  type AtRest,
  atRate,
  atRest,
  costPerMillion,
  exportCapacityPerSecond,
  grouping,
  idleDominatesBelow,
  idleReceivesPerPollerMonth,
  marginalExportAtRest,
  maxExportsWithin,
  perDelivery,
  type Traffic,
  vcpuShare,
  type WorkInputs,
} from './model.js';
import { SOURCES } from './sources.js';

/** The id of the figure whose details hold the model's inputs. */
const SCALE_FIGURE_ID = 10;

/** One producer shape pushed through the local stack. */
interface SimulatedProducer {
  readonly key: string;
  readonly label: string;
  readonly eventsPerMessage: number;
  readonly events: number;
  readonly deliveries: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerDelivery: number;
  /** Non-empty calls of the pipeline plus the producer's sends, per delivery. */
  readonly sqsRequestsPerDelivery: number;
  readonly emptyReceives: number;
  readonly modelSqsRequestsPerDelivery: number;
  readonly deliveryInvocations: number;
  readonly ingestInvocations: number;
  readonly recordsPerDeliveryInvocation: number;
}

/** Figure 10's details: the model's measured and counted inputs. */
interface ScaleDetails {
  readonly exports: number;
  readonly simulated: readonly SimulatedProducer[];
  readonly stack: StackInventory;
  readonly memoryMb: { readonly ingest: number; readonly delivery: number };
}

/** Assumed, not measured: a real receiver and SQS in a Region. */
const ASSUMPTIONS = {
  receiverLatencySeconds: 0.1,
  /** Other receiver latencies the 10,000 events/s figures are shown at. */
  receiverLatencySensitivity: [0.02, 0.5] as const,
  sqsLatencySeconds: 0.02,
  /** `delivery.batch_size` default. */
  recordsPerInvocation: 10,
  /** A batched export, e.g. `batch: { max_events: 100 }`, full at load. */
  batchedRecordsPerInvocation: 100,
  eventsPerSecond: 10_000,
  exportsAtRate: 3,
  /** `delivery.max_concurrency` default. */
  defaultMaxConcurrency: 5,
} as const;

const EXPORT_COUNTS = [3, 30, 200] as const;

const dollars = (value: number, digits = 2) => `$${num(value, digits)}`;

const work = (details: ScaleDetails, producer: SimulatedProducer, latency: number): WorkInputs => ({
  cpuSecondsPerDelivery: producer.cpuSecondsPerDelivery,
  receiverLatencySeconds: latency,
  sqsLatencySeconds: ASSUMPTIONS.sqsLatencySeconds,
  deliveryMemoryMb: details.memoryMb.delivery,
  ingestMemoryMb: details.memoryMb.ingest,
});

const producerOf = (details: ScaleDetails, key: string): SimulatedProducer => {
  const found = details.simulated.find((producer) => producer.key === key);
  if (!found) throw new Error(`figure 10 has no "${key}" producer`);
  return found;
};

const trafficAtRate = (producer: SimulatedProducer): Traffic => ({
  eventsPerMessage: producer.eventsPerMessage,
  exportsPerEvent: ASSUMPTIONS.exportsAtRate,
  recordsPerInvocation: ASSUMPTIONS.recordsPerInvocation,
});

/** The headline figures, for the bench's table. */
const scaleSummary = (details: ScaleDetails) => {
  const arrays = producerOf(details, 'arrays');
  return {
    atRest: EXPORT_COUNTS.map((exports) => atRest(details.stack.inventory, exports)),
    marginalAtRest: marginalExportAtRest(details.stack.inventory),
    rate: atRate(
      trafficAtRate(arrays),
      work(details, arrays, ASSUMPTIONS.receiverLatencySeconds),
      ASSUMPTIONS.eventsPerSecond,
    ),
  };
};

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');

const atRestSection = (details: ScaleDetails): string => {
  const { inventory } = details.stack;
  const rows: AtRest[] = EXPORT_COUNTS.map((exports) => atRest(inventory, exports));
  const perPoller = idleReceivesPerPollerMonth();
  const c = inventory.perExport;
  const s = inventory.perStage;
  return [
    `Counted on the synthesized stack (\`bench/scale/inventory.ts\`): a stage has ${s.resources} resources, ${s.alarms} alarms (${s.alarmMetrics} alarm metrics), ${s.dashboards} dashboard of ${s.dashboardWidgets} widgets and ${s.mappingsWithoutMaxConcurrency} event source mapping without maximum concurrency (ingest) of its own; each export adds ${c.resources} resources, ${c.mappingsWithMaxConcurrency} mappings with maximum concurrency (its delivery queue and its DLQ), ${c.alarms} alarms (${c.alarmMetrics} alarm metrics: \`dead-letters\` is a math alarm over 2 metrics) and ${c.dashboardWidgets} dashboard widgets.`,
    '',
    `An idle poller long-polls ${SOURCES.longPollSeconds.value} s at a time: ${num(perPoller)} empty receives a month (30 days). A mapping with maximum concurrency idles at ${SOURCES.idlePollersWithMaxConcurrency.value} pollers (${num(perPoller * SOURCES.idlePollersWithMaxConcurrency.value)} receives, ${dollars((perPoller * SOURCES.idlePollersWithMaxConcurrency.value * PRICES.sqsPerMillionRequests) / 1e6, 3)} a month); the ingest mapping may drop to ${SOURCES.idlePollersWithoutMaxConcurrency.value}, hence the range.`,
    '',
    table(
      [
        'exports',
        'idle pollers',
        'empty receives / month',
        'SQS',
        'alarms',
        'dashboard',
        'total / month',
        'per export / month',
      ],
      rows.map((row) => [
        String(row.exports),
        `${num(row.pollers.low)}-${num(row.pollers.high)}`,
        `${num(row.sqsRequests.low / 1e6, 2)}-${num(row.sqsRequests.high / 1e6, 2)} M`,
        `${dollars(row.sqs.low)}-${dollars(row.sqs.high)}`,
        `${dollars(row.alarms)} (${row.counts.alarmMetrics} metrics)`,
        dollars(row.dashboards),
        dollars(row.total),
        dollars(row.perExport),
      ]),
    ),
    '',
    `Each export added costs ${dollars(marginalExportAtRest(inventory))} a month at rest. Prices without free tier (the first 1 million SQS requests, 10 alarm metrics and 3 dashboards of an account are free). Not counted: custom metrics (published only when something happens), log ingestion (${dollars(PRICES.cloudWatchLogsIngestionPerGb)} per GB; the functions' log volume is not measured here), the SNS topic of \`alarmEmail\`, KMS keys. 200 exports do not fit one stack today (see [Where it bends](#where-it-bends)): the row prices them as deployed over several stages of the same shape, each paying its own stage part.`,
  ].join('\n');
};

const underLoadSection = (details: ScaleDetails): string => {
  const rows: string[][] = [];
  for (const producer of details.simulated) {
    for (const exportsPerEvent of [1, 3, 10]) {
      for (const [kind, records] of [
        ['unbatched (batch_size 10)', ASSUMPTIONS.recordsPerInvocation],
        [
          `batched (max_events ${ASSUMPTIONS.batchedRecordsPerInvocation})`,
          ASSUMPTIONS.batchedRecordsPerInvocation,
        ],
      ] as const) {
        const traffic: Traffic = {
          eventsPerMessage: producer.eventsPerMessage,
          exportsPerEvent,
          recordsPerInvocation: records,
        };
        const each = perDelivery(
          traffic,
          work(details, producer, ASSUMPTIONS.receiverLatencySeconds),
        );
        const cost = costPerMillion(each);
        rows.push([
          producer.label,
          String(exportsPerEvent),
          kind,
          num(each.sqsRequests, 3),
          num(each.lambdaInvocations, 4),
          dollars(cost.sqs, 3),
          dollars(cost.lambdaRequests + cost.lambdaCompute, 3),
          dollars(cost.total, 3),
        ]);
      }
    }
  }
  return [
    table(
      [
        'producer',
        'exports per event',
        'export',
        'SQS requests / delivery',
        'invocations / delivery',
        'SQS / M',
        'Lambda / M',
        'total / M deliveries',
      ],
      rows,
    ),
    '',
    `Arithmetic: SQS requests per delivery = 3/10 (fan-out send, receive, delete of the delivery message, 10 per call) + 3/10 / (events per message x exports per event) (the producer's send, the receive and the delete of the ingest message). A batched export still reads and deletes 10 messages per call, so batching saves invocations and HTTP requests, not SQS requests. Lambda GB-s per delivery = (records x CPU per delivery / vCPU share + receiver latency) x ${details.memoryMb.delivery / 1024} GB / records, plus the ingest invocations' wait on SQS (${ASSUMPTIONS.sqsLatencySeconds * 1000} ms each, ${details.memoryMb.ingest} MB). CPU per delivery as measured below for each producer shape; receiver latency ${ASSUMPTIONS.receiverLatencySeconds * 1000} ms (assumed). Messages over 64 KiB bill one request per started 64 KiB chunk: an event of 200 KiB costs 4 requests per send and per receive.`,
  ].join('\n');
};

const rateRows = (label: string, rate: AtRate): string[] => [
  label,
  num(rate.deliveryInvocationsPerSecond),
  `${num(rate.deliveryInvocationSeconds * 1000, 1)} ms`,
  num(rate.deliveryConcurrency),
  num(rate.deliveryConcurrencyPerExport),
  num(rate.ingestConcurrency, 1),
  num(rate.concurrency),
  num(rate.sqsRequestsPerSecond),
  dollars(rate.dollarsPerHour.sqs),
  dollars(rate.dollarsPerHour.lambda),
  dollars(rate.dollarsPerHour.total),
];

const simulationSection = (details: ScaleDetails): string => {
  const measured = table(
    [
      'producer',
      'events',
      'deliveries',
      'wall time',
      'CPU (pipeline process)',
      'CPU / delivery',
      'SQS requests / delivery (measured)',
      'model',
      'empty receives',
      'records / delivery invocation',
    ],
    details.simulated.map((p) => [
      p.label,
      num(p.events),
      num(p.deliveries),
      `${num(p.seconds, 1)} s`,
      `${num(p.cpuSeconds, 2)} s`,
      `${num(p.cpuSecondsPerDelivery * 1e6)} µs`,
      num(p.sqsRequestsPerDelivery, 3),
      num(p.modelSqsRequestsPerDelivery, 3),
      num(p.emptyReceives),
      num(p.recordsPerDeliveryInvocation, 1),
    ]),
  );
  const header = [
    'case',
    'delivery invocations/s',
    'each',
    'delivery concurrency',
    'per export',
    'ingest concurrency',
    'total concurrency',
    'SQS requests/s',
    'SQS $/h',
    'Lambda $/h',
    'total $/h',
  ];
  const cases: string[][] = [];
  for (const producer of details.simulated) {
    for (const latency of [
      ASSUMPTIONS.receiverLatencySeconds,
      ...ASSUMPTIONS.receiverLatencySensitivity,
    ]) {
      cases.push(
        rateRows(
          `${producer.label}, receiver ${latency * 1000} ms`,
          atRate(
            trafficAtRate(producer),
            work(details, producer, latency),
            ASSUMPTIONS.eventsPerSecond,
          ),
        ),
      );
    }
  }
  const arrays = producerOf(details, 'arrays');
  const rate = atRate(
    trafficAtRate(arrays),
    work(details, arrays, ASSUMPTIONS.receiverLatencySeconds),
    ASSUMPTIONS.eventsPerSecond,
  );
  const share = vcpuShare(details.memoryMb.delivery);
  return [
    `Measured on this run's local stack (${details.exports} exports, every event matches all of them):`,
    '',
    measured,
    '',
    `Extrapolated to ${num(ASSUMPTIONS.eventsPerSecond)} events/s x ${ASSUMPTIONS.exportsAtRate} exports = ${num(rate.deliveriesPerSecond)} deliveries/s:`,
    '',
    table(header, cases),
    '',
    'The arithmetic, for arrays of 50 and a receiver answering in 100 ms:',
    '',
    `- delivery invocations/s = ${num(rate.deliveriesPerSecond)} deliveries/s / ${ASSUMPTIONS.recordsPerInvocation} records = ${num(rate.deliveryInvocationsPerSecond)}`,
    `- each invocation = ${ASSUMPTIONS.recordsPerInvocation} x ${num(arrays.cpuSecondsPerDelivery * 1e6)} µs CPU / ${num(share, 3)} vCPU (${details.memoryMb.delivery} MB / ${SOURCES.memoryPerVcpuMb.value} MB) + ${ASSUMPTIONS.receiverLatencySeconds * 1000} ms receiver = ${num(rate.deliveryInvocationSeconds * 1000, 1)} ms (the 10 requests go out together)`,
    `- delivery concurrency (Little's law) = ${num(rate.deliveryInvocationsPerSecond)}/s x ${num(rate.deliveryInvocationSeconds, 4)} s = ${num(rate.deliveryConcurrency)}, ${num(rate.deliveryConcurrencyPerExport)} per export; ingest: ${num(rate.ingestInvocationsPerSecond)} invocations/s x ${ASSUMPTIONS.sqsLatencySeconds} s = ${num(rate.ingestConcurrency, 1)}`,
    `- SQS requests/s = ${num(rate.deliveriesPerSecond)} x ${num(rate.sqsRequestsPerSecond / rate.deliveriesPerSecond, 4)} = ${num(rate.sqsRequestsPerSecond)} -> ${dollars(rate.dollarsPerHour.sqs)}/h at ${dollars(PRICES.sqsPerMillionRequests)} per million`,
    `- Lambda: ${dollars(rate.dollarsPerHour.lambda)}/h (GB-s at ${PRICES.lambdaArmPerGbSecond} and ${dollars(PRICES.lambdaPerMillionRequests)} per million invocations); total ${dollars(rate.dollarsPerHour.total)}/h, ${dollars(rate.dollarsPerHour.total * 24 * 30, 0)} for a month at that rate`,
    '',
    `Assumptions: the CPU of the whole pipeline process (ingest, delivery, the event-source emulator's polling, both SDK clients) is charged to the delivery function, which overstates it (on AWS the pollers are Lambda's); this machine's core is taken as one Lambda vCPU; the receiver answers in ${ASSUMPTIONS.receiverLatencySeconds * 1000} ms (shown at ${ASSUMPTIONS.receiverLatencySensitivity.map((l) => `${l * 1000} ms`).join(' and ')} too); an SQS call takes ${ASSUMPTIONS.sqsLatencySeconds * 1000} ms in the Region; every batch is full (10 records) at this rate; no retries. Receiver latency dominates: concurrency is nearly proportional to it.`,
  ].join('\n');
};

const bendsSection = (details: ScaleDetails): string => {
  const { inventory } = details.stack;
  const arrays = producerOf(details, 'arrays');
  const rate = atRate(
    trafficAtRate(arrays),
    work(details, arrays, ASSUMPTIONS.receiverLatencySeconds),
    ASSUMPTIONS.eventsPerSecond,
  );
  const capacity = (maxConcurrency: number) =>
    exportCapacityPerSecond(
      maxConcurrency,
      ASSUMPTIONS.recordsPerInvocation,
      rate.deliveryInvocationSeconds,
    );
  const [minConcurrency, maxConcurrency] = SOURCES.maximumConcurrencyRange.value;
  const worstSchedule = 19 * SOURCES.visibilityMaxSeconds.value;
  const link = (source: { url: string }) => `[source](${source.url})`;
  const rows: string[][] = [
    [
      'ESM maximum concurrency per export',
      `${minConcurrency}-${maxConcurrency} ${link(SOURCES.maximumConcurrencyRange)}; default \`max_concurrency\` ${ASSUMPTIONS.defaultMaxConcurrency}`,
      `at ${num(rate.deliveryInvocationSeconds * 1000, 1)} ms per batch of 10, an export takes ${num(capacity(ASSUMPTIONS.defaultMaxConcurrency))} deliveries/s at the default, ${num(capacity(maxConcurrency))} at ${maxConcurrency}; ${num(rate.deliveriesPerSecond / ASSUMPTIONS.exportsAtRate)} deliveries/s per export need \`max_concurrency\` >= ${num(Math.ceil(rate.deliveryConcurrencyPerExport))}`,
    ],
    [
      'Account concurrency',
      `${num(SOURCES.accountConcurrency.value)} by default ${link(SOURCES.accountConcurrency)}`,
      `10,000 events/s x 3 exports needs ${num(rate.concurrency)} at 100 ms receivers, ${num(atRate(trafficAtRate(arrays), work(details, arrays, 0.5), ASSUMPTIONS.eventsPerSecond).concurrency)} at 500 ms: raise the quota past that plus every other function of the Region`,
    ],
    [
      'Poller scale-up',
      `+${SOURCES.pollerRampPerMinute.value} concurrent batches per minute, ${num(SOURCES.mappingMaxBatches.value)} per mapping ${link(SOURCES.pollerRampPerMinute)}`,
      `from idle to ${num(rate.deliveryConcurrencyPerExport)} per export takes ${num(rate.rampMinutes, 1)} min; a burst meanwhile waits on the queue`,
    ],
    [
      'SendMessageBatch',
      `${SOURCES.batchEntries.value} entries and ${num(SOURCES.batchBytes.value / 1024)} KiB per call ${link(SOURCES.batchBytes)}`,
      `fan-out at this rate: ${num(rate.deliveriesPerSecond / SOURCES.batchEntries.value)} calls/s (standard queues set no request-rate quota); events near the 200 KiB cap fit 5 to a call and bill 4 requests each (64 KiB chunks)`,
    ],
    [
      'In-flight messages per queue',
      `about ${num(SOURCES.inflightPerQueue.value)} ${link(SOURCES.inflightPerQueue)}`,
      `${num(rate.inflightPerQueue)} per delivery queue at this rate; a long receiver outage keeps messages delayed, not in flight`,
    ],
    [
      'Visibility timeout',
      `12 h at most ${link(SOURCES.visibilityMaxSeconds)}`,
      'the pipeline caps a backoff or `Retry-After` wait at 12 h for this reason (docs/architecture.md, "Backoff")',
    ],
    [
      'Retention vs the retry schedule',
      `14 days at most ${link(SOURCES.retentionMaxSeconds)}; delivery queues keep 4 days, DLQs and the archive 14`,
      `the worst schedule (20 attempts, 19 waits of 12 h) spans ${num(worstSchedule / 86_400, 1)} days, but each retry is a fresh copy that waits at most 12 h, so 4 days per copy is ample; a dead letter then has 14 days in the archive`,
    ],
    [
      'Resources per CloudFormation stack',
      `${SOURCES.stackResources.value} ${link(SOURCES.stackResources)}`,
      `${inventory.perStage.resources} + ${inventory.perExport.resources} per export: ${maxExportsWithin(inventory, 'resources', SOURCES.stackResources.value)} exports would fill one template, so up to ${SINGLE_STACK_MAX_EXPORTS} exports stay in one; above that the exports go to ${EXPORT_GROUP_COUNT} nested stacks of at most ${EXPORT_GROUP_MAX_EXPORTS} each: **at most ${MAX_EXPORTS_PER_STAGE} exports per stage** (docs/deploying.md, "Many exports")`,
    ],
    [
      'Widgets per dashboard',
      `${SOURCES.dashboardWidgets.value} ${link(SOURCES.dashboardWidgets)}`,
      `${inventory.perStage.dashboardWidgets} + ${inventory.perExport.dashboardWidgets} per export: at most ${maxExportsWithin(inventory, 'dashboardWidgets', SOURCES.dashboardWidgets.value)} exports on one dashboard; above ${SINGLE_STACK_MAX_EXPORTS} exports each export group has its own dashboard; an alarm status widget lists at most 100 alarms`,
    ],
  ];
  return table(['limit', 'value', 'where this stage meets it'], rows);
};

const groupingSection = (details: ScaleDetails): string => {
  const { inventory, perExportAlarm } = details.stack;
  const marginal = marginalExportAtRest(inventory);
  const arrays = producerOf(details, 'arrays');
  const perMillion = costPerMillion(
    perDelivery(
      {
        eventsPerMessage: 50,
        exportsPerEvent: 3,
        recordsPerInvocation: ASSUMPTIONS.recordsPerInvocation,
      },
      work(details, arrays, ASSUMPTIONS.receiverLatencySeconds),
    ),
  ).total;
  const threshold = idleDominatesBelow(marginal, perMillion);
  const rows = [30, 200].flatMap((exports) =>
    [5, 20].map((groupSize) => {
      const g = grouping(inventory, exports, groupSize, perExportAlarm);
      return [
        String(exports),
        String(groupSize),
        String(g.groups),
        dollars(g.atRestOwn),
        dollars(g.atRestGrouped),
        dollars(g.savedPerMonth),
        `${num(g.resourcesOwn)} -> ${num(g.resourcesGrouped)}`,
      ];
    }),
  );
  const g200 = grouping(inventory, 200, 20, perExportAlarm);
  return [
    table(
      [
        'exports',
        'exports per queue',
        'queues',
        'at rest, one queue per export',
        'grouped',
        'saved / month',
        'stack resources',
      ],
      rows,
    ),
    '',
    `What grouping saves: at rest, ${dollars(marginal)} per export a month (its two mappings' idle polling and its queue alarms), ${dollars(g200.savedPerMonth)} a month for 200 exports in groups of 20. Under load: nothing. The same messages are sent, received and deleted, and the delivery function already groups a mixed batch by export.`,
    '',
    'What grouping loses, because SQS and Lambda set these per queue and per mapping:',
    '',
    "- **Concurrency per export.** `max_concurrency` is the mapping's; a group shares one. A slow receiver holds invocations that the others in its group need, and the rate bound a receiver is promised becomes a group's.",
    "- **Head-of-line blocking.** A batch holds up to 10 records of several exports and lasts as long as its slowest receiver. A dead receiver's retries and held copies sit on the queue the healthy exports read.",
    '- **Per-export redrive and visibility.** `maxReceiveCount` follows `max_attempts` and the visibility timeout follows `timeout_seconds` and `batch`: one value per queue means the strictest export sets it for all.',
    "- **Per-export alarms and dashboard rows on SQS metrics** (oldest message age, dead letters): they become per group; only `paused` (the functions' own metric) stays per export.",
    "- **Batched exports** set the mapping's batch size and window; they cannot share a queue with unbatched ones.",
    '',
    `**Decision: keep one queue and one event source per export; implement no grouping.** The saving is ${dollars(marginal)} per export a month, against isolation that the architecture promises ("a dead PagerDuty never delays Slack"). Threshold: an export costs more idle than working below ${num(threshold / 1e6, 1)} million deliveries a month (${dollars(marginal)} / ${dollars(perMillion, 3)} per million deliveries, arrays of 50, 3 exports); even then the absolute amount is small. The limit that bites first with many exports is not the bill but the stack: ${maxExportsWithin(inventory, 'resources', SOURCES.stackResources.value)} exports per CloudFormation stack. Splitting the exports over several stacks (or nested stacks) keeps isolation and lifts it; grouping would only be worth reopening if per-export polling ever costs more than the stage's traffic for most exports, i.e. stages of hundreds of exports that each carry less than ${num(threshold / 1e6, 1)} million deliveries a month.`,
  ].join('\n');
};

const sourcesSection = (): string => {
  const rows: string[][] = Object.values(SOURCES).map((source) => [
    source.what,
    Array.isArray(source.value) ? source.value.join('-') : num(Number(source.value)),
    `[${new URL(source.url).pathname.split('/').pop() || source.url}](${source.url})`,
    source.confirmed ? 'yes' : 'no',
    'note' in source ? source.note : '',
  ]);
  const priceRows: string[][] = Object.entries(PRICE_SOURCES).map(([key, source]) => [
    key,
    String(PRICES[key as keyof typeof PRICE_SOURCES]),
    `[pricing](${source.url})`,
    source.confirmed ? 'yes' : 'no',
    source.note,
  ]);
  return [
    table(['input', 'value', 'source', 'figure on the stored AWS page', 'note'], rows),
    '',
    table(['price', 'USD', 'source', 'figure on the stored AWS page', 'note'], priceRows),
  ].join('\n');
};

class ScalePageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScalePageError';
  }
}

const MARKERS = {
  notice: '<!-- scale:notice -->',
  run: '<!-- scale:run -->',
  atRest: '<!-- scale:at-rest -->',
  underLoad: '<!-- scale:under-load -->',
  bends: '<!-- scale:bends -->',
  simulation: '<!-- scale:simulation -->',
  grouping: '<!-- scale:grouping -->',
  sources: '<!-- scale:sources -->',
} as const;

const NOTICE = [
  '> This page is generated by `npm run bench` (`bench/main.ts`, figure 10; alone:',
  '> `BENCH_ONLY=10 npm run bench`) from the prose in `bench/scalePage.md`, the model in',
  '> `bench/scale/model.ts` and the inputs of the run (`bench/results/latest.json`). Edit those,',
  '> never this file; `npm run bench -- --report-only` rebuilds it without measuring again.',
].join('\n');

/** The inputs of figure 10 in a run's results, if it ran. */
const scaleDetailsOf = (results: BenchResults): ScaleDetails | undefined => {
  const figure = results.figures.find((candidate) => candidate.id === SCALE_FIGURE_ID);
  if (!figure || figure.error !== undefined) return undefined;
  return figure.details as unknown as ScaleDetails;
};

/**
 * The page for a run in which figure 10 ran.
 *
 * @example
 * const page = scalePage(await readFile('bench/scalePage.md', 'utf8'), results);
 */
const scalePage = (template: string, results: BenchResults): string => {
  const details = scaleDetailsOf(results);
  if (!details)
    throw new ScalePageError('figure 10 did not run (or failed): docs/scale.md left as it is');
  const sections: Record<keyof typeof MARKERS, string> = {
    notice: NOTICE,
    run: `Inputs measured ${results.date.slice(0, 10)} with \`${results.command}\` on ${results.machine.cpus} CPUs (${results.machine.cpuModel}), Node ${results.machine.node}. Prices: ${PRICES.asOf}.`,
    atRest: atRestSection(details),
    underLoad: underLoadSection(details),
    bends: bendsSection(details),
    simulation: simulationSection(details),
    grouping: groupingSection(details),
    sources: sourcesSection(),
  };
  let page = template;
  for (const [key, marker] of Object.entries(MARKERS) as [keyof typeof MARKERS, string][]) {
    const parts = page.split(marker);
    if (parts.length !== 2) {
      throw new ScalePageError(
        `bench/scalePage.md must contain ${marker} exactly once (found ${parts.length - 1})`,
      );
    }
    page = parts.join(sections[key]);
  }
  return page;
};

export type { ScaleDetails, SimulatedProducer };
export { ASSUMPTIONS, SCALE_FIGURE_ID, ScalePageError, scaleDetailsOf, scalePage, scaleSummary };
