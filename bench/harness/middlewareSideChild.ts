/**
 * Child process: one side of figure 7 (../figures/middlewareOverhead.ts), alone in its
 * process. Two sides sharing a process share its JIT feedback and its heap: the engine code both
 * run is then optimised for neither's shapes, and one side's garbage is collected in the other's
 * time. Alone, each runs as a delivery function's container runs its handler.
 */
import type { SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../local/lambdaContext.js';
import { createDeliveryHandler } from '../../shared/handlers/delivery.js';
import { deliverRecords } from '../../shared/pipeline/delivery/engine.js';
import { ExportGuards } from '../../shared/pipeline/flowControl/exportGuards.js';
import { silentObservability } from './fixtures.js';
import { inMemoryDelivery } from './inMemoryDelivery.js';
import { type Measured, measuredHere } from './rounds.js';
import { serveParent } from './rpc.js';

/** The two wrappings figure 7 compares. */
type MiddlewareSide = 'wrapped' | 'bare';

/** Distinct records cycled through; enough that no cache of ours is the thing measured. */
const DISTINCT_BATCHES = 100;

/**
 * Batches run before the rounds count, until the JIT is done: a fresh process took two runs of
 * 2,000 batches to settle (31, 23, then 15 µs a record).
 */
const WARM_UP_BATCHES = 6_000;

// Handlers call Powertools Metrics as on Lambda, but no EMF record is printed.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

let round: (() => Promise<Measured>) | undefined;

/**
 * Builds one side over the in-memory delivery step and warms it up. Each round then runs
 * `batchesPerRound` batches, cycling through the distinct ones.
 */
const setup = async (params: { side: MiddlewareSide; batchesPerRound: number }) => {
  const observability = silentObservability('delivery');
  const { deps, ledger, batches, timeoutMs } = await inMemoryDelivery(DISTINCT_BATCHES * 10);
  const context = () => lambdaContext({ functionName: 'delivery', timeoutMs });
  let invoke: (batch: SQSRecord[]) => Promise<number>;
  if (params.side === 'wrapped') {
    const handler = createDeliveryHandler({ ...deps, observability });
    invoke = async (batch) =>
      (await handler({ Records: batch }, context())).batchItemFailures.length;
  } else {
    // The handler builds its breakers and rate limiters once per container; so does this side.
    const guards = new ExportGuards();
    invoke = async (batch) => {
      const invocation = context();
      const clock = { remainingMs: () => invocation.getRemainingTimeInMillis() };
      const report = await deliverRecords(
        batch,
        { ...deps, notify: observability.notify, guards },
        clock,
      );
      return report.batchItemFailures.length;
    };
  }
  // The ledger is emptied whenever the cycle of batches starts over, so that the records stay
  // new deliveries.
  const loop = async (count: number) => {
    let failed = 0;
    for (let index = 0; index < count; index++) {
      if (index % batches.length === 0) ledger.forget();
      failed += await invoke(batches[index % batches.length] ?? []);
    }
    return failed;
  };
  const warmUpFailed = await loop(WARM_UP_BATCHES);
  round = measuredHere(() => loop(params.batchesPerRound));
  return { warmUpFailed };
};

serveParent({
  setup,
  round: () => {
    if (round === undefined) throw new Error('round before setup');
    return round();
  },
});

export type { MiddlewareSide };
