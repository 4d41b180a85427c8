/**
 * A side of a side-by-side figure in a process of its own: forked, set up (warm-up included),
 * then run round by round by `alternateRounds` (./rounds.ts), measuring itself.
 */
import type { DeliverySideSpec } from './deliverySideChild.js';
import type { Measured } from './rounds.js';
import { RpcChild } from './rpc.js';

/** A running side process. */
interface SideProcess {
  /** One measured run (the child's `round`). */
  round(): Promise<Measured>;
  /** Calls another method of the child. */
  call<T>(method: string, params?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Forks `module` (relative to bench/harness, serving `setup` and `round`) and sets it up.
 *
 * @example
 * const bare = await startSideProcess('./middlewareSideChild.ts', 'figure 7, bare', { side: 'bare' });
 */
const startSideProcess = async <T = unknown>(
  module: string,
  name: string,
  setup: unknown,
): Promise<SideProcess & { readonly setup: T }> => {
  const child = RpcChild.fork(module, name);
  try {
    const answer = await child.call<T>('setup', setup);
    return {
      setup: answer,
      round: () => child.call<Measured>('round'),
      call: (method, params) => child.call(method, params),
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
};

/**
 * Starts one process of `module` per side (set up in parallel), hands them to `use` with what
 * each `setup` answered (`T`), and stops
 * them all afterwards, whatever happened; a side that fails to start fails the figure.
 *
 * @example
 * await withSideProcesses('./deliverySideChild.ts', { handler: { name, setup } }, (sides) => ...);
 */
const withSideProcesses = async <K extends string, R, T = unknown>(
  module: string,
  specs: Readonly<Record<K, { readonly name: string; readonly setup: unknown }>>,
  use: (sides: Readonly<Record<K, SideProcess & { readonly setup: T }>>) => Promise<R>,
): Promise<R> => {
  const names = Object.keys(specs) as K[];
  const started = await Promise.allSettled(
    names.map((key) => startSideProcess<T>(module, specs[key].name, specs[key].setup)),
  );
  try {
    const sides = {} as Record<K, SideProcess & { readonly setup: T }>;
    names.forEach((key, index) => {
      const outcome = started[index];
      if (outcome?.status !== 'fulfilled') throw outcome?.reason;
      sides[key] = outcome.value;
    });
    return await use(sides);
  } finally {
    await Promise.all(
      started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop() : undefined)),
    );
  }
};

/**
 * The specs of a delivery figure's sides (./deliverySideChild.ts): what they share once, and
 * each side's kind and export, named after the figure and the side.
 *
 * @example
 * deliverySides('figure 4', common, { templated: { kind: 'handler', exportName: 'pagerduty-alerts' } });
 */
const deliverySides = <K extends string>(
  figure: string,
  common: Omit<DeliverySideSpec, 'kind' | 'exportName'>,
  sides: Readonly<Record<K, Pick<DeliverySideSpec, 'kind' | 'exportName'>>>,
): Record<K, { name: string; setup: DeliverySideSpec }> =>
  Object.fromEntries(
    (Object.keys(sides) as K[]).map((key) => [
      key,
      { name: `${figure}, ${key} side`, setup: { ...common, ...sides[key] } },
    ]),
  ) as Record<K, { name: string; setup: DeliverySideSpec }>;

export type { SideProcess };
export { deliverySides, withSideProcesses };
