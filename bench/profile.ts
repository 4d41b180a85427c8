/**
 * `npm run bench:profile`: where a delivery's CPU goes. Runs the delivery handler as figure 7
 * does (the seed PagerDuty export, batches of 10, in-memory I/O: a 202 at once, SQS calls that
 * do nothing) under the V8 profiler, and prints CPU microseconds per record by module, the
 * table behind "Where a delivery's time goes" in docs/performance.md.
 *
 * Metrics are disabled as in the figures (`PROFILE_METRICS=1` keeps them, EMF printed).
 * `PROFILE_ROUNDS` (default 40) rounds of 1,000 records, after a warm-up round. Modules are
 * named by their source file; `node_modules` packages by their name.
 */
import { Session } from 'node:inspector/promises';
import { lambdaContext } from '../local/lambdaContext.js';
import { createDeliveryHandler } from '../shared/handlers/delivery.js';
import { silentObservability } from './harness/fixtures.js';
import { inMemoryDelivery } from './harness/inMemoryDelivery.js';

const RECORDS_PER_ROUND = 1_000;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly url: string; readonly functionName: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A profile node's module: the repository file, a package, or V8's own (GC, program). */
const moduleOf = (node: ProfileNode): string => {
  const { url, functionName } = node.callFrame;
  if (url === '') return `(${functionName.replace(/[()]/g, '')})`;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage?.[1]) return inPackage[1];
  const inRepository = /\/((?:shared|lambdas|local|bench)\/.+)$/.exec(url);
  return inRepository?.[1] ?? url.replace(/^node:internal\/.*/, 'node internals');
};

const main = async (): Promise<void> => {
  if (process.env.PROFILE_METRICS !== '1') process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const rounds = Number(process.env.PROFILE_ROUNDS ?? 40);
  const { deps, ledger, batches, timeoutMs } = await inMemoryDelivery(RECORDS_PER_ROUND);
  const handler = createDeliveryHandler({
    ...deps,
    observability: silentObservability('delivery'),
  });
  const round = async () => {
    ledger.forget();
    for (const batch of batches) {
      await handler({ Records: batch }, lambdaContext({ functionName: 'delivery', timeoutMs }));
    }
  };

  await round();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  for (let index = 0; index < rounds; index++) await round();
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  session.disconnect();

  const records = rounds * RECORDS_PER_ROUND;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byModule = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    total += micros;
    const name = moduleOf(node);
    byModule.set(name, (byModule.get(name) ?? 0) + micros);
  });
  const rows = [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 15);
  console.log(`| module | CPU per record | share |\n|---|---|---|`);
  for (const [name, micros] of rows) {
    console.log(
      `| ${name} | ${(micros / records).toFixed(1)} µs | ${((100 * micros) / total).toFixed(1)}% |`,
    );
  }
  console.log(`| **all** | **${(total / records).toFixed(1)} µs** | ${records} records |`);
};

await main();
