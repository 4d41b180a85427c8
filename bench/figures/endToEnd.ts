/**
 * Figure 8: end to end on the local stack. The real pipeline (ingest, delivery and dead-letter
 * handlers behind event source mappings, `npm start`'s settings) on the embedded SQS server,
 * delivering to one receiver per export. A burst of events is pushed as fast as SQS takes it
 * (JSON arrays of 50, as the local stack's push does); measured: events/s until the last
 * delivery arrived and push-to-receipt latency, next to SQS round trips alone measured first in
 * the same process (`harness/sqsCeiling.ts`: bound by the SDK client rather than the server),
 * and latency at light load (events pushed one at a time).
 *
 * Processes: the pipeline here, the SQS server and the receivers in their own, so that the CPU
 * each spends can be read, and so that the answer to "is the emulator the bottleneck?" rests on
 * numbers.
 */

import { availableParallelism } from 'node:os';
import { localSqsClient } from '../../local/sqsServer.js';
import { ThreadedLocalPipeline } from '../../local/threadedPipeline.js';
import { megabytes, num, percentile, times } from '../format.js';
import { BENCH_STAGE, BENCH_VARIABLES, benchConfig, mixedExports } from '../harness/fixtures.js';
import { processUsage, RssSampler } from '../harness/measure.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { pushEvents } from '../harness/producer.js';
import { measureSqsCeiling } from '../harness/sqsCeiling.js';
import { recordSqsTraffic } from '../harness/sqsTraffic.js';
import type { FigureOutput } from '../report.js';
import { VERDICTS, verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const EVENTS_PER_MESSAGE = 50;
const WARM_UP_EVENTS = 500;
/** Share of the emulator's ceiling above which the emulator is called the bottleneck. */
const BOTTLENECK_SHARE = 0.8;
/** Light load: one event every this many ms. */
const LIGHT_INTERVAL_MS = 50;
const DELIVERY_TIMEOUT_MS = 8 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess({ count: settings.exports });
  let pipeline: ThreadedLocalPipeline | undefined;
  try {
    const config = await benchConfig(mixedExports(receivers.urls));
    const exportsCount = config.exports.length;
    const ceiling = await measureSqsCeiling(server, settings.ceilingMessages);

    const sqs = localSqsClient(server.endpoint);
    const traffic = recordSqsTraffic(sqs);
    const producer = localSqsClient(server.endpoint);
    pipeline = await ThreadedLocalPipeline.start({
      sqs,
      endpoint: server.endpoint,
      config,
      stage: BENCH_STAGE,
      variables: BENCH_VARIABLES,
    });
    const ingest = pipeline.queues.ingest;

    await receivers.mark();
    await pushEvents(producer, ingest, {
      first: 0,
      count: WARM_UP_EVENTS,
      perMessage: EVENTS_PER_MESSAGE,
    });
    await receivers.waitForDistinct(WARM_UP_EVENTS * exportsCount, DELIVERY_TIMEOUT_MS);

    // The burst.
    await receivers.mark();
    const deliveries = settings.events * exportsCount;
    const usageBefore = {
      self: processUsage(),
      server: await server.usage(),
      receivers: await receivers.usage(),
    };
    const callsBefore = traffic.calls.length + (await pipeline.workerSqsCalls());
    const sampler = RssSampler.start();
    const pushedFrom = Date.now();
    await pushEvents(producer, ingest, {
      first: WARM_UP_EVENTS,
      count: settings.events,
      perMessage: EVENTS_PER_MESSAGE,
    });
    const pushSeconds = (Date.now() - pushedFrom) / 1000;
    const burst = await receivers.waitForDistinct(deliveries, DELIVERY_TIMEOUT_MS);
    const memory = sampler.stop();
    const seconds = (burst.lastReceivedAt - pushedFrom) / 1000;
    const usageAfter = {
      self: processUsage(),
      server: await server.usage(),
      receivers: await receivers.usage(),
    };
    const burstLatencies = await receivers.latencies();
    const sqsRequests = traffic.calls.length + (await pipeline.workerSqsCalls()) - callsBefore;

    // Light load: one event at a time.
    await receivers.mark();
    for (let i = 0; i < settings.lightEvents; i++) {
      await pushEvents(producer, ingest, {
        first: WARM_UP_EVENTS + settings.events + i,
        count: 1,
        perMessage: 1,
      });
      await sleep(LIGHT_INTERVAL_MS);
    }
    await receivers.waitForDistinct(settings.lightEvents * exportsCount, DELIVERY_TIMEOUT_MS);
    const lightLatencies = await receivers.latencies();

    const eventsPerSecond = settings.events / seconds;
    const messagesPerEvent = exportsCount + 1 / EVENTS_PER_MESSAGE;
    const emulatorBoundEventsPerSecond = ceiling.messagesPerSecond / messagesPerEvent;
    const share = eventsPerSecond / emulatorBoundEventsPerSecond;
    const cpu = (key: keyof typeof usageBefore) =>
      usageAfter[key].cpuSeconds - usageBefore[key].cpuSeconds;
    const cpuSeconds = {
      pipeline: cpu('self'),
      server: cpu('server'),
      receivers: cpu('receivers'),
    };
    const coreShare = (key: keyof typeof cpuSeconds) =>
      `${num((cpuSeconds[key] / seconds) * 100)}%`;
    const busiest = (Object.keys(cpuSeconds) as (keyof typeof cpuSeconds)[]).reduce((a, b) =>
      cpuSeconds[b] > cpuSeconds[a] ? b : a,
    );
    // The emulator is the bottleneck when its process does the most work and the pipeline runs
    // near the SQS round-trip ceiling; otherwise the busiest process is.
    const emulatorBound = busiest === 'server' && share >= BOTTLENECK_SHARE;
    const bottleneck = emulatorBound
      ? `yes: the SQS server process is the busiest (${coreShare('server')} of a core) and the pipeline runs at ${times(share)} of the SQS ceiling`
      : `no: the ${busiest} process is the busiest (${coreShare(busiest)} of a core; SQS server ${coreShare('server')})`;
    const p = (values: readonly number[], q: number) => num(percentile(values, q));
    // What the CPUs allow: were every core busy at this run's CPU per delivery (pipeline, SQS
    // server and receivers together), the share of the SQS ceiling the pipeline would reach.
    const cores = availableParallelism();
    const microsPerDelivery = (key: keyof typeof cpuSeconds) =>
      (cpuSeconds[key] / deliveries) * 1e6;
    const totalMicrosPerDelivery =
      microsPerDelivery('pipeline') + microsPerDelivery('server') + microsPerDelivery('receivers');
    const cpuBoundShare =
      cores / (totalMicrosPerDelivery / 1e6) / exportsCount / emulatorBoundEventsPerSecond;
    const loopMicrosPerMessage = (ceiling.clientCpuShare / ceiling.messagesPerSecond) * 1e6;

    return {
      rows: [
        {
          figure: '8',
          name: `End to end: ${num(settings.events)} events x ${exportsCount} exports`,
          measured: `${num(eventsPerSecond)} events/s (${num(deliveries / seconds)} deliveries/s, ${num(seconds, 1)} s, ${burst.duplicates} duplicates)`,
          baseline: `SQS round trips alone: ${num(ceiling.messagesPerSecond)} msg/s = ${num(emulatorBoundEventsPerSecond)} events/s at ${num(messagesPerEvent, 2)} msg/event`,
          result: times(share),
          value: share,
          // Issue 13's goal: the pipeline at the emulator's ceiling (the same share that calls
          // the emulator the bottleneck).
          goal: `>= ${num(BOTTLENECK_SHARE, 2)}x`,
          verdict: verdict(share >= BOTTLENECK_SHARE),
        },
        {
          figure: '8',
          name: 'Is the emulator the bottleneck?',
          measured: `CPU over the ${num(seconds, 1)} s burst: pipeline ${num(cpuSeconds.pipeline, 1)} s, SQS server ${num(cpuSeconds.server, 1)} s, receivers ${num(cpuSeconds.receivers, 1)} s`,
          baseline: `SQS round trips alone: server ${num(ceiling.serverCpuShare * 100)}%, client ${num(ceiling.clientCpuShare * 100)}% of a core at ${num(ceiling.requestsPerSecond)} req/s (pipeline ${num(sqsRequests / seconds)} req/s)`,
          result: emulatorBound ? 'yes' : `no (${busiest})`,
          value: share,
          goal: 'reported',
          verdict: VERDICTS.info,
        },
        {
          figure: '8',
          name: "Share the machine's CPUs allow",
          measured: `${cores} CPUs / ${num(totalMicrosPerDelivery)} µs of CPU per delivery (pipeline ${num(microsPerDelivery('pipeline'))}, SQS server ${num(microsPerDelivery('server'))}, receivers ${num(microsPerDelivery('receivers'))})`,
          baseline: `SQS round trips alone: ${num(loopMicrosPerMessage)} µs of client CPU per message`,
          result: times(cpuBoundShare),
          value: cpuBoundShare,
          goal: 'reported',
          verdict: VERDICTS.info,
        },
        {
          figure: '8',
          name: 'Push-to-receipt latency, p50 / p99',
          measured: `${p(burstLatencies, 50)} / ${p(burstLatencies, 99)} ms (burst, queueing included)`,
          baseline: `${p(lightLatencies, 50)} / ${p(lightLatencies, 99)} ms at light load (${settings.lightEvents} events, one every ${LIGHT_INTERVAL_MS} ms)`,
          result: `p99 ${p(burstLatencies, 99)} ms`,
          value: percentile(burstLatencies, 99),
          goal: 'reported',
          verdict: VERDICTS.info,
        },
        {
          figure: '8',
          name: 'Peak RSS of the pipeline process',
          measured: megabytes(memory.peakBytes),
          baseline: `${megabytes(memory.startBytes)} before the burst (SQS server peak ${num(usageAfter.server.maxRssMb)} MB, receivers ${num(usageAfter.receivers.maxRssMb)} MB)`,
          result: times(memory.peakBytes / memory.startBytes),
          value: memory.peakBytes / 1024 / 1024,
          goal: 'reported',
          verdict: VERDICTS.info,
        },
      ],
      details: {
        events: settings.events,
        exports: config.exports.map((exp) => exp.name),
        eventsPerMessage: EVENTS_PER_MESSAGE,
        pushSeconds,
        seconds,
        eventsPerSecond,
        deliveriesPerSecond: deliveries / seconds,
        receivers: burst,
        latencyMs: {
          burst: {
            p50: percentile(burstLatencies, 50),
            p99: percentile(burstLatencies, 99),
            count: burstLatencies.length,
          },
          light: {
            p50: percentile(lightLatencies, 50),
            p99: percentile(lightLatencies, 99),
            count: lightLatencies.length,
          },
        },
        ceiling,
        emulatorShare: share,
        emulatorBound,
        cpuBoundShare,
        cpuMicrosPerDelivery: totalMicrosPerDelivery,
        bottleneck,
        cpuSeconds,
        sqsRequests,
        rssStartMb: memory.startBytes / 1024 / 1024,
        rssPeakMb: memory.peakBytes / 1024 / 1024,
        serverMaxRssMb: usageAfter.server.maxRssMb,
        receiversMaxRssMb: usageAfter.receivers.maxRssMb,
      },
    };
  } finally {
    const stopping = pipeline?.stop();
    await server.stop();
    await stopping;
    await receivers.stop();
  }
};

export { run };
