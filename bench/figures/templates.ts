/**
 * Figure 4: templates. (a) Liquid parses per message once every export is warm: compiled
 * bodies are cached per container, so the count must not move. (b) The same handler's
 * throughput with the seed PagerDuty template against a constant body (same headers, same
 * receiver), rounds alternating.
 */

import { templateParseCount } from '../../shared/request/template.js';
import { createHttpClient } from '../../shared/transport/http.js';
import { num, times } from '../format.js';
import { deliveryRig } from '../harness/deliveryRig.js';
import { benchConfig, benchEvent, totalCommands } from '../harness/fixtures.js';
import { startReceiverProcess, startSqsServerProcess } from '../harness/processes.js';
import { alternateRounds, measuredHere, pairedRatio } from '../harness/rounds.js';
import type { FigureOutput } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const TEMPLATED = 'pagerduty-alerts';
const CONSTANT = 'constant-body';
const GOAL = 0.9;
const WARM_UP_BATCHES = 50;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const server = await startSqsServerProcess();
  const receivers = await startReceiverProcess();
  const http = createHttpClient();
  try {
    const url = receivers.urls[0] ?? '';
    const config = await benchConfig([
      { kind: 'pagerduty', url },
      { kind: 'constant', url },
    ]);
    const rig = await deliveryRig({ endpoint: server.endpoint, config, http });
    const events = Array.from({ length: settings.deliveries }, (_, i) => benchEvent(i));
    const batches = {
      templated: await rig.batches(TEMPLATED, events),
      constant: await rig.batches(CONSTANT, events),
    };

    const parsesAtStart = templateParseCount();
    let failed = await rig.run(batches.templated.slice(0, WARM_UP_BATCHES));
    failed += await rig.run(batches.constant.slice(0, WARM_UP_BATCHES));
    const warmUpParses = templateParseCount() - parsesAtStart;

    const parsesBefore = templateParseCount();
    const sides = await alternateRounds(
      {
        templated: measuredHere(() => rig.run(batches.templated)),
        constant: measuredHere(() => rig.run(batches.constant)),
      },
      settings.rounds,
      events.length,
    );
    failed += sides.templated.failed + sides.constant.failed;
    const messages = events.length * 2 * settings.rounds;
    const parses = templateParseCount() - parsesBefore;
    const perMessage = parses / messages;

    const templatedRate = sides.templated.median;
    const constantRate = sides.constant.median;
    const paired = pairedRatio(sides.templated, sides.constant);
    const ratio = paired.wall;
    return {
      rows: [
        {
          figure: '4a',
          name: 'Template parses per message after warm-up',
          measured: `${parses} parses over ${num(messages)} messages`,
          baseline: `${warmUpParses} parses while warming 2 exports`,
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
          result: `${times(ratio)} (CPU ${times(paired.cpu)})`,
          value: ratio,
          goal: `>= ${num(GOAL, 2)}x`,
          verdict: verdict(ratio >= GOAL && failed === 0 && totalCommands(rig.sqsCommands) === 0),
        },
      ],
      details: {
        deliveriesPerRound: events.length,
        rounds: settings.rounds,
        warmUpParses,
        parsesAfterWarmUp: parses,
        sides,
        ratioPerCpuSecond: paired.cpu,
        failedDeliveries: failed,
      },
    };
  } finally {
    await http.close();
    await Promise.all([receivers.stop(), server.stop()]);
  }
};

export { run };
