/**
 * Figure 10: the inputs of the scale model (docs/scale.md). Measured here: a scaled-down load
 * through the local stack (the real ingest, delivery and dead-letter handlers behind event
 * source mappings with Lambda's semantics, on the embedded SQS server, 3 exports), for JSON
 * arrays of 50 events per message and for one event per message: CPU time of the pipeline
 * process per delivery, SQS requests per delivery (empty receives apart) and invocations.
 * Counted: what the CDK stack deploys (`../scale/inventory.ts`). The model itself
 * (`../scale/model.ts`) runs when the page is written, so `--report-only` applies a change to
 * it without measuring again.
 */
import { LocalPipeline } from '../../local/pipeline.js';
import { localSqsClient } from '../../local/sqsServer.js';
import { FUNCTION_MEMORY_MB } from '../../shared/sqs/queueSettings.js';
import { createHttpClient } from '../../shared/transport/http.js';
import { num } from '../format.js';
import { BENCH_STAGE, benchConfig, benchSecrets, mixedExports } from '../harness/fixtures.js';
import { processUsage, waitFor } from '../harness/measure.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { pushEvents } from '../harness/producer.js';
import { recordSqsTraffic, within } from '../harness/sqsTraffic.js';
import type { FigureOutput, FigureRow } from '../report.js';
import { VERDICTS } from '../report.js';
import { stackInventory } from '../scale/inventory.js';
import { sqsRequestsPerDelivery } from '../scale/model.js';
import { type ScaleDetails, type SimulatedProducer, scaleSummary } from '../scale/page.js';
import type { BenchSettings } from '../settings.js';

const EXPORTS = 3;
const WARM_UP_EVENTS = 300;
const TIMEOUT_MS = 120_000;

const PRODUCERS = [
  { key: 'arrays', label: 'arrays of 50 events per message', perMessage: 50, share: 1 },
  // Single-event pushes are slow to produce; a fifth of the events shows the ratio well.
  { key: 'single', label: 'one event per message', perMessage: 1, share: 0.2 },
] as const;

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess({ count: EXPORTS });
  const http = createHttpClient();
  let pipeline: LocalPipeline | undefined;
  const simulated: SimulatedProducer[] = [];
  try {
    const config = await benchConfig(mixedExports(receivers.urls));
    const sqs = localSqsClient(server.endpoint);
    const traffic = recordSqsTraffic(sqs);
    const producerSqs = localSqsClient(server.endpoint);
    const producerTraffic = recordSqsTraffic(producerSqs);
    pipeline = await LocalPipeline.start({
      sqs,
      config,
      stage: BENCH_STAGE,
      secrets: benchSecrets(),
      http,
    });
    const { queues } = pipeline;
    const deliveryQueues = new Set(config.exports.map((exp) => queues.delivery(exp.name)));
    const deletedDeliveries = () =>
      sum(
        traffic.calls
          .filter(
            (call) =>
              call.command === 'DeleteMessageBatchCommand' && deliveryQueues.has(call.queueUrl),
          )
          .map((call) => call.entries),
      );

    let next = 0;
    const burst = async (count: number, perMessage: number) => {
      const deleted = deletedDeliveries();
      await receivers.mark();
      await pushEvents(producerSqs, queues.ingest, { first: next, count, perMessage });
      next += count;
      await receivers.waitForDistinct(count * EXPORTS, TIMEOUT_MS);
      await waitFor(
        () => deletedDeliveries() >= deleted + count * EXPORTS,
        'the last deletes',
        TIMEOUT_MS,
      );
    };

    await burst(WARM_UP_EVENTS, 50);
    for (const producer of PRODUCERS) {
      const events = Math.max(100, Math.round(settings.scaleEvents * producer.share));
      const before = processUsage();
      const startedAt = performance.now();
      await burst(events, producer.perMessage);
      const endedAt = performance.now();
      const cpuSeconds = processUsage().cpuSeconds - before.cpuSeconds;
      const window = within(traffic, startedAt, endedAt);
      const producerWindow = within(producerTraffic, startedAt, endedAt);
      const deliveries = events * EXPORTS;
      const nonEmpty = window.calls.filter((call) => !call.empty).length;
      const invocations = (isDelivery: boolean) =>
        window.invocations.filter((i) => deliveryQueues.has(i.queueUrl) === isDelivery);
      const deliveryInvocations = invocations(true);
      simulated.push({
        key: producer.key,
        label: producer.label,
        eventsPerMessage: producer.perMessage,
        events,
        deliveries,
        seconds: (endedAt - startedAt) / 1000,
        cpuSeconds,
        cpuSecondsPerDelivery: cpuSeconds / deliveries,
        sqsRequestsPerDelivery: (nonEmpty + producerWindow.calls.length) / deliveries,
        emptyReceives: window.calls.length - nonEmpty,
        modelSqsRequestsPerDelivery: sqsRequestsPerDelivery({
          eventsPerMessage: producer.perMessage,
          exportsPerEvent: EXPORTS,
          recordsPerInvocation: 10,
        }),
        deliveryInvocations: deliveryInvocations.length,
        ingestInvocations: invocations(false).length,
        recordsPerDeliveryInvocation:
          deliveryInvocations.length > 0
            ? sum(deliveryInvocations.map((i) => i.records)) / deliveryInvocations.length
            : 0,
      });
    }
  } finally {
    const stopping = pipeline?.stop();
    await server.stop();
    await stopping;
    await http.close();
    await receivers.stop();
  }

  // After the load, so the synth's CPU does not weigh on the measurement.
  const stack = await stackInventory();
  const details: ScaleDetails = {
    exports: EXPORTS,
    simulated,
    stack,
    memoryMb: { ingest: FUNCTION_MEMORY_MB.ingest, delivery: FUNCTION_MEMORY_MB.delivery },
  };
  const summary = scaleSummary(details);
  const rows: FigureRow[] = [
    ...simulated.map(
      (producer): FigureRow => ({
        figure: '10',
        name: `Scale inputs: CPU and SQS requests per delivery (producer: ${producer.label})`,
        measured: `${num(producer.cpuSecondsPerDelivery * 1e6)} µs CPU, ${num(producer.sqsRequestsPerDelivery, 3)} SQS requests (${num(producer.deliveries)} deliveries)`,
        baseline: `model: ${num(producer.modelSqsRequestsPerDelivery, 3)} SQS requests per delivery`,
        result: num(producer.sqsRequestsPerDelivery / producer.modelSqsRequestsPerDelivery, 2),
        value: producer.sqsRequestsPerDelivery / producer.modelSqsRequestsPerDelivery,
        goal: 'reported',
        verdict: VERDICTS.info,
      }),
    ),
    {
      figure: '10',
      name: 'At rest: dollars per export per month (3 / 30 / 200 exports)',
      measured: summary.atRest.map((row) => `$${num(row.perExport, 2)}`).join(' / '),
      baseline: `+$${num(summary.marginalAtRest, 2)} per export added`,
      result: `$${num(summary.atRest[summary.atRest.length - 1]?.total ?? Number.NaN, 0)}/month at 200`,
      value: summary.marginalAtRest,
      goal: 'reported',
      verdict: VERDICTS.info,
    },
    {
      figure: '10',
      name: '10,000 events/s x 3 exports (arrays of 50, receiver 100 ms)',
      measured: `${num(summary.rate.concurrency)} concurrent, ${num(summary.rate.sqsRequestsPerSecond)} SQS req/s, $${num(summary.rate.dollarsPerHour.total, 2)}/h`,
      baseline: `account default ${num(1000)} concurrent`,
      result: `${num(summary.rate.concurrency)} concurrent`,
      value: summary.rate.concurrency,
      goal: 'reported',
      verdict: VERDICTS.info,
    },
  ];
  return { rows, details: details as unknown as Record<string, unknown> };
};

export { run };
