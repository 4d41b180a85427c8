/**
 * Figure 2: new TCP connections per 1,000 deliveries to one receiver, counted by the receiver
 * (its `connection` events). The handler runs batch after batch, as a warm Lambda container
 * does; the baseline is the bare loop with the same client settings against a second, fresh
 * receiver.
 */
import { createHttpClient } from '../../shared/transport/http.js';
import { megabytes, num, times } from '../format.js';
import { bareLoop, deliveryRig, preparedRequests } from '../harness/deliveryRig.js';
import { benchConfig, benchEvent, totalCommands } from '../harness/fixtures.js';
import { RssSampler } from '../harness/measure.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import type { FigureOutput } from '../report.js';
import { VERDICTS, verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const EXPORT = 'pagerduty-alerts';
const GOAL = 10;
const COLD_DELIVERIES = 1_000;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess({ count: 2 });
  const handlerHttp = createHttpClient();
  const bareHttp = createHttpClient();
  try {
    const [handlerUrl = '', bareUrl = ''] = receivers.urls;
    const config = await benchConfig([{ kind: 'pagerduty', url: handlerUrl }]);
    const bareConfig = await benchConfig([{ kind: 'pagerduty', url: bareUrl }]);
    const rig = await deliveryRig({ endpoint: server.endpoint, config, http: handlerHttp });
    const events = Array.from({ length: settings.reuseDeliveries }, (_, i) => benchEvent(i));
    const batches = await rig.batches(EXPORT, events);
    const bareExport = bareConfig.exports[0];
    if (!bareExport) throw new Error('no export');
    const requests = await preparedRequests(bareExport, events);
    await receivers.mark();

    // The first 1,000 deliveries fill the pool; the rest show whether it is reused.
    const coldBatches = Math.min(COLD_DELIVERIES / 10, batches.length);
    const sampler = RssSampler.start();
    let failed = await rig.run(batches.slice(0, coldBatches));
    const afterCold = await receivers.stats();
    failed += await rig.run(batches.slice(coldBatches));
    const memory = sampler.stop();
    const bareFailed = await bareLoop(bareHttp, requests);
    const stats = await receivers.stats();

    const [handlerSide, bareSide] = stats.receivers;
    const perThousand = (connections = 0) => (connections * 1000) / events.length;
    const handlerRate = perThousand(handlerSide?.connections);
    const warmConnections =
      (handlerSide?.connections ?? 0) - (afterCold.receivers[0]?.connections ?? 0);
    const bareRate = perThousand(bareSide?.connections);
    return {
      rows: [
        {
          figure: '2',
          name: 'Connection reuse (new TCP connections / 1,000 deliveries)',
          measured: `${num(handlerRate, 1)} (${handlerSide?.connections} over ${num(events.length)} deliveries; ${warmConnections} after the first ${num(COLD_DELIVERIES)})`,
          baseline: `${num(bareRate, 1)} (bare loop, ${bareSide?.connections} over ${num(events.length)})`,
          result: num(handlerRate, 1),
          value: handlerRate,
          goal: `<= ${GOAL}`,
          verdict: verdict(
            handlerRate <= GOAL && failed === 0 && totalCommands(rig.sqsCommands) === 0,
          ),
        },
        {
          figure: '2',
          name: 'Peak RSS while delivering',
          measured: megabytes(memory.peakBytes),
          baseline: `${megabytes(memory.startBytes)} before the run`,
          result: times(memory.peakBytes / memory.startBytes),
          value: memory.peakBytes / 1024 / 1024,
          goal: 'reported',
          verdict: VERDICTS.info,
        },
      ],
      details: {
        deliveries: events.length,
        failedDeliveries: failed + bareFailed,
        connectionsDuringFirstThousand: afterCold.receivers[0]?.connections,
        connectionsAfterFirstThousand: warmConnections,
        receivers: stats,
        rssStartMb: memory.startBytes / 1024 / 1024,
        rssPeakMb: memory.peakBytes / 1024 / 1024,
      },
    };
  } finally {
    await Promise.all([handlerHttp.close(), bareHttp.close()]);
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
