/**
 * Figure 3: concurrency inside a batch. The receiver answers every request after 100 ms; a
 * batch of 10 records delivered one after the other would take a second, concurrently about
 * 100 ms. Baseline: one request alone through the same client settings, in the same run.
 */
import { createHttpClient } from '../../shared/transport/http.js';
import { median, num, times } from '../format.js';
import { deliveryRig, preparedRequests } from '../harness/deliveryRig.js';
import { benchConfig, benchEvent, totalCommands } from '../harness/fixtures.js';
import { timed } from '../harness/measure.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import type { FigureOutput } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const EXPORT = 'pagerduty-alerts';
const RECEIVER_DELAY_MS = 100;
/** Goal: a batch of 10 within 2x the receiver's delay. */
const GOAL = 2;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess({ delayMs: RECEIVER_DELAY_MS });
  const handlerHttp = createHttpClient();
  const bareHttp = createHttpClient();
  try {
    const config = await benchConfig([{ kind: 'pagerduty', url: receivers.urls[0] ?? '' }]);
    const rig = await deliveryRig({ endpoint: server.endpoint, config, http: handlerHttp });
    const events = Array.from({ length: (settings.batches + 1) * 10 }, (_, i) => benchEvent(i));
    const [warmUp = [], ...batches] = await rig.batches(EXPORT, events);
    const [single] = await preparedRequests(rig.exportConfig(EXPORT), events.slice(0, 1));
    if (!single) throw new Error('no request');

    // Warm-up: the first batch opens the connections; on Lambda a warm container has them.
    await rig.run([warmUp]);
    await bareHttp.send(single);

    const batchMs: number[] = [];
    const singleMs: number[] = [];
    let failed = 0;
    for (const batch of batches) {
      const handlerRun = await timed(() => rig.run([batch]));
      failed += handlerRun.result;
      batchMs.push(handlerRun.ms);
      const alone = await timed(() => bareHttp.send(single));
      if (alone.result.errorClass !== undefined) failed += 1;
      singleMs.push(alone.ms);
    }

    const batchMedian = median(batchMs);
    const singleMedian = median(singleMs);
    const ratio = batchMedian / singleMedian;
    return {
      rows: [
        {
          figure: '3',
          name: `Batch of 10, receiver answering after ${RECEIVER_DELAY_MS} ms`,
          measured: `${num(batchMedian)} ms per batch (median of ${batchMs.length}, max ${num(Math.max(...batchMs))})`,
          baseline: `${num(singleMedian)} ms for one request alone`,
          result: times(ratio),
          value: ratio,
          goal: `<= ${num(GOAL, 1)}x (${GOAL * RECEIVER_DELAY_MS} ms)`,
          verdict: verdict(
            ratio <= GOAL &&
              batchMedian <= GOAL * RECEIVER_DELAY_MS &&
              failed === 0 &&
              totalCommands(rig.sqsCommands) === 0,
          ),
        },
      ],
      details: { receiverDelayMs: RECEIVER_DELAY_MS, batchMs, singleMs, failedDeliveries: failed },
    };
  } finally {
    await Promise.all([handlerHttp.close(), bareHttp.close()]);
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
