/**
 * Figure 7: what middy and Powertools (context injection, metrics flush) and the partial batch
 * response add around the delivery step. Both sides run the same records through the same
 * engine (`deliverRecords`) with the same notice sink, breakers and ledger of their own, on
 * in-memory I/O: an HTTP client that answers 202 at once and an SQS client whose `send` does
 * nothing. Only the wrapper differs.
 */
import type { SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../local/lambdaContext.js';
import { createDeliveryHandler } from '../../shared/handlers/delivery.js';
import { deliverRecords } from '../../shared/pipeline/delivery/engine.js';
import { ExportGuards } from '../../shared/pipeline/flowControl/exportGuards.js';
import { num, times } from '../format.js';
import { silentObservability } from '../harness/fixtures.js';
import { inMemoryDelivery } from '../harness/inMemoryDelivery.js';
import { alternateRounds } from '../harness/rounds.js';
import type { FigureOutput } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const GOAL = 0.95;
/** Distinct records cycled through; enough that no cache of ours is the thing measured. */
const DISTINCT_BATCHES = 100;

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const observability = silentObservability('delivery');
  // Both sides carry the same ledger, emptied whenever the cycle of batches starts over, so that
  // the records stay new deliveries and only the wrapper differs.
  const { deps, ledger, batches, timeoutMs } = await inMemoryDelivery(DISTINCT_BATCHES * 10);
  const wrapped = createDeliveryHandler({ ...deps, observability });
  // The handler builds its breakers and rate limiters once per container; the bare side gets
  // its own, so that both do the same per-record work and only the wrapper differs.
  const bareGuards = new ExportGuards();

  const context = () => lambdaContext({ functionName: 'delivery', timeoutMs });
  const sides = {
    wrapped: async (batch: SQSRecord[]) => {
      const response = await wrapped({ Records: batch }, context());
      return response.batchItemFailures.length;
    },
    bare: async (batch: SQSRecord[]) => {
      const invocation = context();
      const clock = { remainingMs: () => invocation.getRemainingTimeInMillis() };
      const report = await deliverRecords(
        batch,
        { ...deps, notify: observability.notify, guards: bareGuards },
        clock,
      );
      return report.batchItemFailures.length;
    },
  };
  const loop = async (side: keyof typeof sides, count: number) => {
    let failed = 0;
    for (let i = 0; i < count; i++) {
      if (i % batches.length === 0) ledger.forget();
      failed += await sides[side](batches[i % batches.length] ?? []);
    }
    return failed;
  };

  // Warm-up: every distinct batch once on each side.
  const warmUpFailed =
    (await loop('wrapped', DISTINCT_BATCHES)) + (await loop('bare', DISTINCT_BATCHES));
  const rounds = await alternateRounds(
    {
      wrapped: () => loop('wrapped', settings.middlewareBatches),
      bare: () => loop('bare', settings.middlewareBatches),
    },
    settings.rounds,
    settings.middlewareBatches * 10,
  );
  const failed = warmUpFailed + rounds.wrapped.failed + rounds.bare.failed;
  const wrappedRate = rounds.wrapped.median;
  const bareRate = rounds.bare.median;
  const ratio = wrappedRate / bareRate;
  return {
    rows: [
      {
        figure: '7',
        name: 'Middleware overhead (in-memory I/O)',
        measured: `${num(wrappedRate)} records/s (middy + Powertools handler)`,
        baseline: `${num(bareRate)} records/s (deliverRecords without middy)`,
        result: `${times(ratio)} (CPU ${times(rounds.wrapped.cpuMedian / rounds.bare.cpuMedian)})`,
        value: ratio,
        goal: `>= ${num(GOAL, 2)}x`,
        verdict: verdict(ratio >= GOAL && failed === 0),
      },
    ],
    details: {
      batchesPerRound: settings.middlewareBatches,
      rounds: settings.rounds,
      sides: rounds,
      ratioPerCpuSecond: rounds.wrapped.cpuMedian / rounds.bare.cpuMedian,
      failedRecords: failed,
    },
  };
};

export { run };
