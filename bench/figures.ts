/**
 * The figures of `npm run bench`, in order. Each is loaded only in its own process, so one
 * figure's imports and heap never weigh on another's measurements.
 */
import type { FigureOutput } from './report.js';
import type { BenchSettings } from './settings.js';

interface FigureModule {
  run(settings: BenchSettings): Promise<FigureOutput>;
}

interface FigureDefinition {
  readonly id: number;
  readonly title: string;
  load(): Promise<FigureModule>;
}

const FIGURES: readonly FigureDefinition[] = [
  {
    id: 1,
    title: 'Delivery efficiency',
    load: () => import('./figures/deliveryEfficiency.js'),
  },
  { id: 2, title: 'Connection reuse', load: () => import('./figures/connectionReuse.js') },
  {
    id: 3,
    title: 'Concurrency inside a batch',
    load: () => import('./figures/batchConcurrency.js'),
  },
  { id: 4, title: 'Templates', load: () => import('./figures/templates.js') },
  { id: 5, title: 'SQS requests and cost', load: () => import('./figures/sqsRequests.js') },
  { id: 6, title: 'Cold path', load: () => import('./figures/coldPath.js') },
  {
    id: 7,
    title: 'Middleware overhead',
    load: () => import('./figures/middlewareOverhead.js'),
  },
  { id: 8, title: 'End to end', load: () => import('./figures/endToEnd.js') },
  { id: 9, title: 'Batching', load: () => import('./figures/batching.js') },
  { id: 10, title: 'Scale and cost model', load: () => import('./figures/scale.js') },
  { id: 11, title: 'CLI start', load: () => import('./figures/cliStart.js') },
];

export type { FigureDefinition, FigureModule };
export { FIGURES };
