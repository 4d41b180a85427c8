/**
 * `npm run bench`: measures each figure of the README's Performance section against a baseline
 * in the same run, on 127.0.0.1 receivers and the embedded SQS server, prints one table and
 * writes `bench/results/latest.json` and `bench/results/latest.md`.
 *
 * Sizes come from the environment (see `bench/settings.ts`), e.g.
 * `BENCH_EVENTS=2000 BENCH_ONLY=1,8 npm run bench`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FIGURES } from './figures.js';
import { num } from './format.js';
import { RpcChild } from './harness/rpc.js';
import { describeMachine, machineInfo } from './machine.js';
import { PRICES } from './prices.js';
import {
  consoleTable,
  type FigureOutput,
  type FigureReport,
  type FigureRow,
  markdownTable,
  VERDICTS,
} from './report.js';
import { type BenchSettings, readSettings, SIZES } from './settings.js';

/** A figure that takes longer than this has hung: its process is killed. */
const FIGURE_TIMEOUT_MS = 10 * 60_000;

const RESULTS_DIR = new URL('./results/', import.meta.url);

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

const settingsLine = (settings: BenchSettings): string =>
  Object.entries(SIZES)
    .map(([key, size]) => `${size.env}=${settings[key as keyof typeof SIZES]}`)
    .join(' ');

const markdownReport = (options: {
  date: string;
  machine: string;
  settings: string;
  seconds: number;
  rows: readonly FigureRow[];
}): string =>
  [
    `Measured ${options.date} with \`${COMMAND}\` (total ${num(options.seconds)} s) on ${options.machine}.`,
    '',
    markdownTable(options.rows),
    '',
    'How to read it: every figure is measured next to its baseline in the same run, with the embedded SQS server and the webhook receivers in their own processes on 127.0.0.1. Throughput figures alternate their sides round by round and take medians; "CPU" is the same ratio on the CPU time of the measuring process, steadier than wall-clock time on a shared machine (the verdict uses wall-clock time). Peak RSS is that of a process running the TypeScript sources through tsx; figure 6 has the bundled handlers.',
    '',
    `Sizes: \`${options.settings}\`.`,
    `Prices: ${PRICES.asOf}: SQS $${PRICES.sqsPerMillionRequests} per million requests (64 KiB chunks); Lambda arm64 $${PRICES.lambdaArmPerGbSecond} per GB-s + $${PRICES.lambdaPerMillionRequests} per million requests; EventBridge $${PRICES.eventBridgePerMillionEvents} per million custom events + $${PRICES.eventBridgeApiDestinationsPerMillion} per million API destination invocations.`,
    '',
  ].join('\n');

const main = async (): Promise<number> => {
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
  const rows = reports.flatMap((report) => report.rows);
  console.log(`\n${consoleTable(rows)}\n`);
  console.log(`total runtime ${num(seconds)} s`);

  const date = new Date().toISOString();
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = {
    date,
    command: COMMAND,
    machine,
    settings,
    prices: PRICES,
    seconds,
    figures: reports,
  };
  await writeFile(new URL('latest.json', RESULTS_DIR), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(
    new URL('latest.md', RESULTS_DIR),
    markdownReport({
      date: date.slice(0, 10),
      machine: describeMachine(machine),
      settings: settingsLine(settings),
      seconds,
      rows,
    }),
  );
  console.log(`wrote ${fileURLToPath(new URL('latest.json', RESULTS_DIR))} and latest.md`);
  return reports.some((report) => report.error !== undefined) ? 1 : 0;
};

process.exitCode = await main();
