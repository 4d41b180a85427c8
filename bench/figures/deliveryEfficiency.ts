/**
 * Figure 1: the delivery handler (middy + Powertools + the per-record delivery step) fed
 * pre-built batches of 10, against a bare loop that sends the same prepared requests with the
 * same HTTP client (shared/transport/http.ts, Node.js's `http` module with a keep-alive agent),
 * 10 in flight, to the same receiver. Rounds alternate so that a slow spell of the machine hits
 * both sides.
 */
import { createHttpClient } from '../../shared/transport/http.js';
import { megabytes, num, times } from '../format.js';
import { bareLoop, deliveryRig, preparedRequests } from '../harness/deliveryRig.js';
import {
  benchConfig,
  benchEvent,
  silentObservability,
  totalCommands,
} from '../harness/fixtures.js';
import { RssSampler } from '../harness/measure.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { alternateRounds, measuredHere, pairedRatio } from '../harness/rounds.js';
import type { FigureOutput } from '../report.js';
import { VERDICTS, verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const EXPORT = 'pagerduty-alerts';
const GOAL = 0.8;
const WARM_UP_BATCHES = 50;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess();
  const handlerHttp = createHttpClient();
  const bareHttp = createHttpClient();
  try {
    const config = await benchConfig([{ kind: 'pagerduty', url: receivers.urls[0] ?? '' }]);
    const rig = await deliveryRig({ endpoint: server.endpoint, config, http: handlerHttp });
    // Diagnosis: the same handler with its notices (logs, metrics) dropped.
    const quiet = await deliveryRig({
      endpoint: server.endpoint,
      config,
      http: handlerHttp,
      observability: { ...silentObservability('delivery'), notify: () => undefined },
    });
    const events = Array.from({ length: settings.deliveries }, (_, index) => benchEvent(index));
    const batches = await rig.batches(EXPORT, events);
    const requests = await preparedRequests(rig.exportConfig(EXPORT), events);

    // Warm-up: JIT, template compilation, connection pools.
    await rig.run(batches.slice(0, WARM_UP_BATCHES));
    await quiet.run(batches.slice(0, WARM_UP_BATCHES));
    await bareLoop(bareHttp, requests.slice(0, WARM_UP_BATCHES * 10));
    await receivers.mark();

    const sampler = RssSampler.start();
    const sides = await alternateRounds(
      {
        handler: measuredHere(() => rig.run(batches)),
        bare: measuredHere(() => bareLoop(bareHttp, requests)),
        quiet: measuredHere(() => quiet.run(batches)),
      },
      settings.rounds,
      events.length,
    );
    const memory = sampler.stop();
    const received = await receivers.stats();

    const failed = sides.handler.failed + sides.bare.failed + sides.quiet.failed;
    const handlerRate = sides.handler.median;
    const bareRate = sides.bare.median;
    const paired = pairedRatio(sides.handler, sides.bare);
    const quietPaired = pairedRatio(sides.quiet, sides.bare);
    const ratio = paired.wall;
    const quietRate = sides.quiet.median;
    return {
      rows: [
        {
          figure: '1',
          name: 'Delivery efficiency (seed PagerDuty template)',
          measured: `${num(handlerRate)} req/s (handler, batches of 10)`,
          baseline: `${num(bareRate)} req/s (bare loop, same HTTP client, 10 in flight)`,
          result: `${times(ratio)} (CPU ${times(paired.cpu)})`,
          value: ratio,
          goal: `>= ${num(GOAL, 2)}x`,
          verdict: verdict(ratio >= GOAL && failed === 0 && totalCommands(rig.sqsCommands) === 0),
        },
        {
          figure: '1',
          name: 'Diagnosis: the same handler, notices (logs, metrics) dropped',
          measured: `${num(quietRate)} req/s`,
          baseline: `${num(bareRate)} req/s (bare loop)`,
          result: `${times(quietPaired.wall)} (CPU ${times(quietPaired.cpu)})`,
          value: quietPaired.wall,
          goal: 'none (explains 1)',
          verdict: VERDICTS.info,
        },
        {
          figure: '1',
          name: 'Peak RSS while delivering',
          measured: megabytes(memory.peakBytes),
          baseline: `${megabytes(memory.startBytes)} before the rounds`,
          result: times(memory.peakBytes / memory.startBytes),
          value: memory.peakBytes / 1024 / 1024,
          goal: 'reported',
          verdict: VERDICTS.info,
        },
      ],
      details: {
        deliveriesPerRound: events.length,
        rounds: settings.rounds,
        sides,
        ratioPerCpuSecond: paired.cpu,
        failedDeliveries: failed,
        handlerSqsCommands: rig.sqsCommands,
        receiver: received,
        rssStartMb: memory.startBytes / 1024 / 1024,
        rssPeakMb: memory.peakBytes / 1024 / 1024,
        note: 'bare loop keeps 10 requests in flight at all times; the handler waits for the slowest record of each batch, as on Lambda',
      },
    };
  } finally {
    await Promise.all([handlerHttp.close(), bareHttp.close()]);
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
