/**
 * Child process: one side of figure 1 (../figures/deliveryEfficiency.ts) or figure 4
 * (../figures/templates.ts), alone in its process, against the figure's SQS server and
 * receiver. As for figure 7 (./middlewareSideChild.ts): sides that share a process share its
 * JIT feedback and its heap, and one side's garbage is then collected in another's time.
 */
import { templateParseCount } from '../../shared/request/template.js';
import { createHttpClient } from '../../shared/transport/http.js';
import { BATCH_SIZE, bareLoop, deliveryRig, preparedRequests } from './deliveryRig.js';
import {
  type BenchExport,
  benchConfig,
  benchEvent,
  silentObservability,
  totalCommands,
} from './fixtures.js';
import { RssSampler } from './measure.js';
import { type Measured, measuredHere } from './rounds.js';
import { serveParent } from './rpc.js';

/**
 * What a side sends: the handler on an export's records (`handler`), the same with its notices
 * dropped (`quiet`), or the handler's prepared requests in a bare loop (`bare`).
 */
type DeliverySideKind = 'handler' | 'quiet' | 'bare';

interface DeliverySideSpec {
  readonly kind: DeliverySideKind;
  /** The SQS server's endpoint and the figure's exports (their receivers' URLs). */
  readonly endpoint: string;
  readonly exports: readonly BenchExport[];
  /** The export whose records this side delivers. */
  readonly exportName: string;
  readonly deliveries: number;
  readonly warmUpBatches: number;
}

/** What a side says of itself once the rounds are over. */
interface DeliverySideStats {
  /** SQS commands the handler sent (none at steady state); 0 for the bare loop. */
  readonly sqsCommands: number;
  /** Liquid parses in this process during the set-up's warm-up, and after it. */
  readonly warmUpParses: number;
  readonly parsesAfterWarmUp: number;
  /** Resident set at the start of the rounds and its peak during them. */
  readonly rssStartBytes: number;
  readonly rssPeakBytes: number;
}

// Handlers call Powertools Metrics as on Lambda, but no EMF record is printed.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

let side: { round: () => Promise<Measured>; stats: () => DeliverySideStats } | undefined;

const setup = async (spec: DeliverySideSpec): Promise<void> => {
  const http = createHttpClient();
  const config = await benchConfig(spec.exports);
  const rig = await deliveryRig({
    endpoint: spec.endpoint,
    config,
    http,
    ...(spec.kind === 'quiet'
      ? { observability: { ...silentObservability('delivery'), notify: () => undefined } }
      : {}),
  });
  const events = Array.from({ length: spec.deliveries }, (_, index) => benchEvent(index));
  const parsesBefore = templateParseCount();
  let run: () => Promise<number>;
  if (spec.kind === 'bare') {
    const requests = await preparedRequests(rig.exportConfig(spec.exportName), events);
    run = () => bareLoop(http, requests);
  } else {
    const batches = await rig.batches(spec.exportName, events);
    run = () => rig.run(batches);
  }
  // The warm-up repeats the round's deliveries until it has sent `warmUpBatches` batches: a
  // round (BENCH_DELIVERIES) can be shorter than the warm-up the JIT needs.
  const rounds = Math.ceil((spec.warmUpBatches * BATCH_SIZE) / Math.max(1, spec.deliveries));
  for (let round = 0; round < rounds; round++) await run();
  const warmUpParses = templateParseCount() - parsesBefore;
  const parsesAfter = templateParseCount();
  let sampler: RssSampler | undefined;
  const measured = measuredHere(run);
  side = {
    round: () => {
      sampler ??= RssSampler.start();
      return measured();
    },
    stats: () => {
      const memory = sampler?.stop() ?? { startBytes: 0, peakBytes: 0 };
      return {
        sqsCommands: totalCommands(rig.sqsCommands),
        warmUpParses,
        parsesAfterWarmUp: templateParseCount() - parsesAfter,
        rssStartBytes: memory.startBytes,
        rssPeakBytes: memory.peakBytes,
      };
    },
  };
};

const current = () => {
  if (side === undefined) throw new Error('called before setup');
  return side;
};

serveParent({
  setup,
  round: () => current().round(),
  stats: () => current().stats(),
});

export type { DeliverySideKind, DeliverySideSpec, DeliverySideStats };
