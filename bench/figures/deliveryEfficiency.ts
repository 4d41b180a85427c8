/**
 * Figure 1: the delivery handler (middy + Powertools + the per-record delivery step) fed
 * pre-built batches of 10, against a bare loop that sends the same prepared requests with the
 * same HTTP client (shared/transport/http.ts, Node.js's `http` module with a keep-alive agent),
 * 10 in flight, to the same receiver. Each side runs in a process of its own
 * (../harness/deliverySideChild.ts); rounds alternate so that a slow spell of the machine hits
 * both sides.
 */
import { megabytes, num, times } from '../format.js';
import type { DeliverySideStats } from '../harness/deliverySideChild.js';
import type { BenchExport } from '../harness/fixtures.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { alternateRounds, pairedColumns, pairedRatio, pairedResult } from '../harness/rounds.js';
import { deliverySides, withSideProcesses } from '../harness/sideProcess.js';
import type { FigureOutput } from '../report.js';
import { VERDICTS } from '../report.js';
import type { BenchSettings } from '../settings.js';

const EXPORT = 'pagerduty-alerts';
const GOAL = 0.8;
const WARM_UP_BATCHES = 400;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess();
  const exports: BenchExport[] = [{ kind: 'pagerduty', url: receivers.urls[0] ?? '' }];
  const common = {
    endpoint: server.endpoint,
    exports,
    deliveries: settings.deliveries,
    warmUpBatches: WARM_UP_BATCHES,
  };
  try {
    return await withSideProcesses(
      './deliverySideChild.ts',
      // The quiet side is the diagnosis: the same handler with its notices (logs, metrics) dropped.
      deliverySides('figure 1', common, {
        handler: { kind: 'handler', exportName: EXPORT },
        bare: { kind: 'bare', exportName: EXPORT },
        quiet: { kind: 'quiet', exportName: EXPORT },
      }),
      async ({ handler, bare, quiet }) => {
        await receivers.mark();
        const sides = await alternateRounds(
          { handler: handler.round, bare: bare.round, quiet: quiet.round },
          settings.rounds,
          settings.deliveries,
        );
        const handlerStats = await handler.call<DeliverySideStats>('stats');
        const quietStats = await quiet.call<DeliverySideStats>('stats');
        const received = await receivers.stats();

        const failed = sides.handler.failed + sides.bare.failed + sides.quiet.failed;
        const handlerRate = sides.handler.median;
        const bareRate = sides.bare.median;
        const paired = pairedRatio(sides.handler, sides.bare);
        const quietPaired = pairedRatio(sides.quiet, sides.bare);
        const quietRate = sides.quiet.median;
        return {
          rows: [
            {
              figure: '1',
              name: 'Delivery efficiency (seed PagerDuty template)',
              measured: `${num(handlerRate)} req/s (handler, batches of 10)`,
              baseline: `${num(bareRate)} req/s (bare loop, same HTTP client, 10 in flight)`,
              ...pairedColumns(
                paired,
                GOAL,
                failed === 0 && handlerStats.sqsCommands + quietStats.sqsCommands === 0,
              ),
            },
            {
              figure: '1',
              name: 'Diagnosis: the same handler, notices (logs, metrics) dropped',
              measured: `${num(quietRate)} req/s`,
              baseline: `${num(bareRate)} req/s (bare loop)`,
              result: pairedResult(quietPaired),
              value: quietPaired.wall.median,
              goal: 'none (explains 1)',
              verdict: VERDICTS.info,
            },
            {
              figure: '1',
              name: 'Peak RSS while delivering',
              measured: megabytes(handlerStats.rssPeakBytes),
              baseline: `${megabytes(handlerStats.rssStartBytes)} before the rounds (the handler's process)`,
              result: times(handlerStats.rssPeakBytes / handlerStats.rssStartBytes),
              value: handlerStats.rssPeakBytes / 1024 / 1024,
              goal: 'reported',
              verdict: VERDICTS.info,
            },
          ],
          details: {
            deliveriesPerRound: settings.deliveries,
            rounds: settings.rounds,
            sides,
            ratio: paired,
            failedDeliveries: failed,
            handlerSqsCommands: handlerStats.sqsCommands,
            receiver: received,
            rssStartMb: handlerStats.rssStartBytes / 1024 / 1024,
            rssPeakMb: handlerStats.rssPeakBytes / 1024 / 1024,
            note: 'bare loop keeps 10 requests in flight at all times; the handler waits for the slowest record of each batch, as on Lambda',
          },
        };
      },
    );
  } finally {
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
