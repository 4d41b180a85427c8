/**
 * `npm run bench`: measures each figure of docs/performance.md against a baseline in the same
 * run, on 127.0.0.1 receivers and the embedded SQS server, prints one table and writes
 * `bench/results/latest.json` (every raw measurement), `bench/results/latest.md` (the report)
 * and `docs/performance.md` (the report inside the prose of `bench/performancePage.md`).
 *
 * Sizes come from the environment (see `bench/settings.ts`), e.g.
 * `BENCH_EVENTS=2000 BENCH_ONLY=1,8 npm run bench`; a run of some figures only leaves
 * docs/performance.md as it is. `npm run bench -- --report-only` measures nothing: it rewrites
 * latest.md and docs/performance.md from latest.json, after the prose changed.
 *
 * Figure 10 holds the inputs of the scale model: whenever it ran (`BENCH_ONLY=10` runs it alone)
 * the run also writes `docs/scale.md` from the prose of `bench/scalePage.md`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FIGURES } from './figures.js';
import { num } from './format.js';
import { RpcChild } from './harness/rpc.js';
import { describeMachine, machineInfo } from './machine.js';
import { PerformancePageError, performancePage } from './performancePage.js';
import { PRICES } from './prices.js';
import {
  type BenchResults,
  consoleTable,
  type FigureOutput,
  type FigureReport,
  type FigureRow,
  resultsMarkdown,
  settingsLine,
  VERDICTS,
} from './report.js';
import { ScalePageError, scaleDetailsOf, scalePage } from './scale/page.js';
import { type BenchSettings, readSettings } from './settings.js';

/** A figure that takes longer than this has hung: its process is killed. */
const FIGURE_TIMEOUT_MS = 10 * 60_000;

const RESULTS_DIR = new URL('./results/', import.meta.url);
const LATEST_JSON = new URL('latest.json', RESULTS_DIR);
const LATEST_MD = new URL('latest.md', RESULTS_DIR);
const PAGE_TEMPLATE = new URL('./performancePage.md', import.meta.url);
const PAGE = new URL('../docs/performance.md', import.meta.url);
const SCALE_TEMPLATE = new URL('./scalePage.md', import.meta.url);
const SCALE_PAGE = new URL('../docs/scale.md', import.meta.url);

const COMMAND = 'npm run bench';

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/** Runs one figure in its own process. */
const runFigure = async (
  figure: (typeof FIGURES)[number],
  settings: BenchSettings,
): Promise<FigureReport> => {
  const startedAt = performance.now();
  const child = RpcChild.fork('./figureChild.ts', `figure ${figure.id}`);
  const base = { id: figure.id, title: figure.title };
  try {
    const output = await withTimeout(
      child.call<FigureOutput & { maxRssMb: number }>('run', { id: figure.id, settings }),
      FIGURE_TIMEOUT_MS,
      `figure ${figure.id}`,
    );
    await child.stop();
    return { ...base, ...output, seconds: (performance.now() - startedAt) / 1000 };
  } catch (error) {
    child.kill();
    const message = error instanceof Error ? error.message : String(error);
    const row: FigureRow = {
      figure: String(figure.id),
      name: figure.title,
      measured: `failed: ${message}`,
      baseline: '-',
      result: '-',
      value: Number.NaN,
      goal: '-',
      verdict: VERDICTS.miss,
    };
    return {
      ...base,
      rows: [row],
      details: {},
      error: message,
      maxRssMb: Number.NaN,
      seconds: (performance.now() - startedAt) / 1000,
    };
  }
};

/** docs/scale.md, when figure 10 ran. */
const writeScalePage = async (results: BenchResults): Promise<void> => {
  if (!scaleDetailsOf(results)) {
    console.log(`${fileURLToPath(SCALE_PAGE)} left as it is: figure 10 did not run`);
    return;
  }
  await writeFile(SCALE_PAGE, scalePage(await readFile(SCALE_TEMPLATE, 'utf8'), results));
  console.log(`wrote ${fileURLToPath(SCALE_PAGE)}`);
};

/** Writes latest.md, docs/scale.md when figure 10 ran and, for a run of every figure, docs/performance.md. */
const writeReports = async (results: BenchResults): Promise<void> => {
  await writeFile(LATEST_MD, resultsMarkdown(results));
  console.log(`wrote ${fileURLToPath(LATEST_MD)}`);
  await writeScalePage(results);
  if (results.settings.only !== undefined) {
    console.log(
      `${fileURLToPath(PAGE)} left as it is: this run measured figures ${results.settings.only.join(', ')} only`,
    );
    return;
  }
  await writeFile(PAGE, performancePage(await readFile(PAGE_TEMPLATE, 'utf8'), results));
  console.log(`wrote ${fileURLToPath(PAGE)}`);
};

/** `--report-only`: the reports of the last run, from its JSON. */
const reportOnly = async (): Promise<number> => {
  let results: BenchResults;
  try {
    results = JSON.parse(await readFile(LATEST_JSON, 'utf8')) as BenchResults;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`cannot read ${fileURLToPath(LATEST_JSON)} (${reason}): run ${COMMAND} first`);
    return 2;
  }
  try {
    await writeReports(results);
  } catch (error) {
    if (!(error instanceof PerformancePageError || error instanceof ScalePageError)) throw error;
    console.error(error.message);
    return 1;
  }
  return 0;
};

const measure = async (): Promise<number> => {
  const startedAt = performance.now();
  const settings = readSettings(process.env);
  const machine = machineInfo();
  const figures = FIGURES.filter((figure) => settings.only?.includes(figure.id) ?? true);
  console.log(`${COMMAND}: ${describeMachine(machine)}`);
  console.log(`sizes: ${settingsLine(settings)}\n`);

  const reports: FigureReport[] = [];
  for (const figure of figures) {
    process.stdout.write(`figure ${figure.id}/${FIGURES.length}: ${figure.title} ... `);
    const report = await runFigure(figure, settings);
    reports.push(report);
    console.log(report.error ? `FAILED (${report.error})` : `${num(report.seconds, 1)} s`);
  }

  const seconds = (performance.now() - startedAt) / 1000;
  console.log(`\n${consoleTable(reports.flatMap((report) => report.rows))}\n`);
  console.log(`total runtime ${num(seconds)} s`);

  const results: BenchResults = {
    date: new Date().toISOString(),
    command: COMMAND,
    machine,
    settings,
    prices: PRICES,
    seconds,
    figures: reports,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(LATEST_JSON, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(LATEST_JSON)}`);
  await writeReports(results);
  return reports.some((report) => report.error !== undefined) ? 1 : 0;
};

const main = async (args: readonly string[]): Promise<number> => {
  if (args.length === 0) return measure();
  if (args.length === 1 && args[0] === '--report-only') return reportOnly();
  console.error(`usage: ${COMMAND} [-- --report-only]`);
  return 2;
};

process.exitCode = await main(process.argv.slice(2));
