/**
 * Figure 7: what middy and Powertools (context injection, metrics flush) and the partial batch
 * response add around the delivery step. Both sides run the same records through the same
 * engine (`deliverRecords`) with the same kind of notice sink, breakers and ledger, on in-memory
 * I/O: an HTTP client that answers 202 at once and an SQS client whose `send` does nothing.
 * Only the wrapper differs. Each side runs in a process of its own
 * (`../harness/middlewareSideChild.ts`), rounds alternating between the two.
 */
import { num } from '../format.js';
import type { MiddlewareSide } from '../harness/middlewareSideChild.js';
import { alternateRounds, pairedColumns, pairedRatio } from '../harness/rounds.js';
import { type SideProcess, withSideProcesses } from '../harness/sideProcess.js';
import type { FigureOutput } from '../report.js';
import type { BenchSettings } from '../settings.js';

const GOAL = 0.95;

/** A side once set up: its `setup` answers how many warm-up records failed. */
type WarmSide = SideProcess & { readonly setup: { readonly warmUpFailed: number } };

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const setup = (side: MiddlewareSide) => ({
    name: `figure 7, ${side} side`,
    setup: { side, batchesPerRound: settings.middlewareBatches },
  });
  const { rounds, warmUpFailed } = await withSideProcesses(
    './middlewareSideChild.ts',
    { wrapped: setup('wrapped'), bare: setup('bare') },
    async ({ wrapped, bare }: Readonly<Record<MiddlewareSide, WarmSide>>) => ({
      rounds: await alternateRounds(
        { wrapped: wrapped.round, bare: bare.round },
        settings.rounds,
        settings.middlewareBatches * 10,
      ),
      warmUpFailed: wrapped.setup.warmUpFailed + bare.setup.warmUpFailed,
    }),
  );
  const failed = warmUpFailed + rounds.wrapped.failed + rounds.bare.failed;
  const wrappedRate = rounds.wrapped.median;
  const bareRate = rounds.bare.median;
  const paired = pairedRatio(rounds.wrapped, rounds.bare);
  return {
    rows: [
      {
        figure: '7',
        name: 'Middleware overhead (in-memory I/O)',
        measured: `${num(wrappedRate)} records/s (middy + Powertools handler)`,
        baseline: `${num(bareRate)} records/s (deliverRecords without middy)`,
        ...pairedColumns(paired, GOAL, failed === 0),
      },
    ],
    details: {
      batchesPerRound: settings.middlewareBatches,
      rounds: settings.rounds,
      sides: rounds,
      ratio: paired,
      failedRecords: failed,
    },
  };
};

export { run };
