/**
 * Child process: runs one figure and hands its rows back. A process per figure gives each its
 * own heap and JIT state, and a resident-set high-water mark that is the figure's alone.
 */
import { FIGURES } from '../figures.js';
import type { FigureOutput } from '../report.js';
import type { BenchSettings } from '../settings.js';
import { processUsage } from './measure.js';
import { serveParent } from './rpc.js';

// Handlers call Powertools Metrics as on Lambda, but no EMF record is printed.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

serveParent({
  run: async ({ id, settings }: { id: number; settings: BenchSettings }) => {
    const figure = FIGURES.find((candidate) => candidate.id === id);
    if (!figure) throw new Error(`no figure ${id}`);
    const output: FigureOutput = await (await figure.load()).run(settings);
    return { ...output, maxRssMb: processUsage().maxRssMb };
  },
});
