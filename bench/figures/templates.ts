/**
 * Figure 4: templates. (a) Liquid parses per message once every export is warm: compiled
 * bodies are cached per container, so the count must not move. (b) The same handler's
 * throughput with the seed PagerDuty template against a constant body (same headers, same
 * receiver), each in a process of its own (../harness/deliverySideChild.ts), rounds alternating.
 */

import { num } from '../format.js';
import type { DeliverySideStats } from '../harness/deliverySideChild.js';
import type { BenchExport } from '../harness/fixtures.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { alternateRounds, pairedColumns, pairedRatio } from '../harness/rounds.js';
import { deliverySides, withSideProcesses } from '../harness/sideProcess.js';
import type { FigureOutput } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const TEMPLATED = 'pagerduty-alerts';
const CONSTANT = 'constant-body';
const GOAL = 0.9;
const WARM_UP_BATCHES = 400;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess();
  const url = receivers.urls[0] ?? '';
  const exports: BenchExport[] = [
    { kind: 'pagerduty', url },
    { kind: 'constant', url },
  ];
  const common = {
    endpoint: server.endpoint,
    exports,
    deliveries: settings.deliveries,
    warmUpBatches: WARM_UP_BATCHES,
  };
  try {
    return await withSideProcesses(
      './deliverySideChild.ts',
      deliverySides('figure 4', common, {
        templated: { kind: 'handler', exportName: TEMPLATED },
        constant: { kind: 'handler', exportName: CONSTANT },
      }),
      async ({ templated, constant }) => {
        const sides = await alternateRounds(
          { templated: templated.round, constant: constant.round },
          settings.rounds,
          settings.deliveries,
        );
        const stats = await Promise.all(
          [templated, constant].map((side) => side.call<DeliverySideStats>('stats')),
        );
        const sum = (of: (side: DeliverySideStats) => number) =>
          stats.reduce((total, side) => total + of(side), 0);
        const failed = sides.templated.failed + sides.constant.failed;
        // The rounds and the uncounted first round of alternateRounds: the sides count parses
        // from the end of their own warm-up.
        const messages = settings.deliveries * 2 * (settings.rounds + 1);
        const warmUpParses = sum((side) => side.warmUpParses);
        const parses = sum((side) => side.parsesAfterWarmUp);
        const perMessage = parses / messages;

        const templatedRate = sides.templated.median;
        const constantRate = sides.constant.median;
        const paired = pairedRatio(sides.templated, sides.constant);
        return {
          rows: [
            {
              figure: '4a',
              name: 'Template parses per message after warm-up',
              measured: `${parses} parses over ${num(messages)} messages`,
              baseline: `${warmUpParses} parses while warming 2 exports (one process each)`,
              result: num(perMessage, 0),
              value: perMessage,
              goal: '0',
              verdict: verdict(parses === 0),
            },
            {
              figure: '4b',
              name: 'Seed PagerDuty template vs constant body',
              measured: `${num(templatedRate)} req/s (PagerDuty template)`,
              baseline: `${num(constantRate)} req/s (constant body)`,
              ...pairedColumns(paired, GOAL, failed === 0 && sum((side) => side.sqsCommands) === 0),
            },
          ],
          details: {
            deliveriesPerRound: settings.deliveries,
            rounds: settings.rounds,
            warmUpParses,
            parsesAfterWarmUp: parses,
            sides,
            ratio: paired,
            failedDeliveries: failed,
          },
        };
      },
    );
  } finally {
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
