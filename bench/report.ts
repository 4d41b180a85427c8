/**
 * What a figure reports, and how the run prints it: one table on the console, the same table
 * in Markdown with the run's machine, sizes and prices (`bench/results/latest.md`, and the
 * middle of `docs/performance.md`).
 */
import { num } from './format.js';
import { describeMachine, type MachineInfo } from './machine.js';
import type { PRICES } from './prices.js';
import { type BenchSettings, SIZES } from './settings.js';

const VERDICTS = { pass: 'PASS', miss: 'MISS', info: 'INFO' } as const;
type Verdict = (typeof VERDICTS)[keyof typeof VERDICTS];

/** One line of the table: a measured figure next to its same-run baseline and its goal. */
interface FigureRow {
  /** e.g. `1`, `5c`. */
  readonly figure: string;
  readonly name: string;
  readonly measured: string;
  readonly baseline: string;
  /** The ratio or count the goal is about, formatted. */
  readonly result: string;
  /** The same, as a number, for the JSON. */
  readonly value: number;
  readonly goal: string;
  readonly verdict: Verdict;
}

/** What one figure's process hands back. */
interface FigureOutput {
  readonly rows: readonly FigureRow[];
  /** Raw measurements for the JSON. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** A finished figure, as the JSON records it. */
interface FigureReport extends FigureOutput {
  readonly id: number;
  readonly title: string;
  readonly seconds: number;
  /** Largest resident set of the figure's own process (not its server or receiver processes). */
  readonly maxRssMb: number;
  readonly error?: string;
}

/** Everything a run measured: `bench/results/latest.json`. */
interface BenchResults {
  /** ISO 8601, when the run ended. */
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly settings: BenchSettings;
  readonly prices: typeof PRICES;
  readonly seconds: number;
  readonly figures: readonly FigureReport[];
}

/** `PASS` when `ok`, else `MISS`. */
const verdict = (ok: boolean): Verdict => (ok ? VERDICTS.pass : VERDICTS.miss);

const COLUMNS = ['Figure', 'Measured', 'Baseline (same run)', 'Ratio / count', 'Goal', ''] as const;

const cells = (row: FigureRow): string[] => [
  `${row.figure}. ${row.name}`,
  row.measured,
  row.baseline,
  row.result,
  row.goal,
  row.verdict,
];

/** The table for a terminal: padded columns. */
const consoleTable = (rows: readonly FigureRow[]): string => {
  const lines = [[...COLUMNS], ...rows.map(cells)];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...lines.map((line) => (line[column] ?? '').length)),
  );
  const format = (line: readonly string[]) =>
    line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const [header, ...body] = lines;
  return [format(header ?? []), rule, ...body.map(format)].join('\n');
};

const escapeMarkdown = (cell: string): string => cell.replaceAll('|', '\\|');

/** The table in GitHub Markdown. */
const markdownTable = (rows: readonly FigureRow[]): string =>
  [
    `| ${COLUMNS.map((column) => column || 'Result').join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cells(row).map(escapeMarkdown).join(' | ')} |`),
  ].join('\n');

/** The sizes of a run as the environment variables that set them. */
const settingsLine = (settings: BenchSettings): string =>
  Object.entries(SIZES)
    .map(([key, size]) => `${size.env}=${settings[key as keyof typeof SIZES]}`)
    .join(' ');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const detailsOf = (results: BenchResults, id: number): Record<string, unknown> =>
  results.figures.find((figure) => figure.id === id)?.details ?? {};

/** Figure 5's Lambda memory sizes, which its dollars depend on. */
const memoryLine = (results: BenchResults): string | undefined => {
  const memory = detailsOf(results, 5).functionMemoryMb;
  if (
    !isRecord(memory) ||
    typeof memory.ingest !== 'number' ||
    typeof memory.delivery !== 'number'
  ) {
    return undefined;
  }
  return `Lambda memory for figure 5's dollars: ingest ${memory.ingest} MB, delivery ${memory.delivery} MB (from \`${memory.source}\`).`;
};

/** Figure 6's resident set of a fresh process that imported each bundled handler. */
const bundleRssLine = (results: BenchResults): string | undefined => {
  const bundles = detailsOf(results, 6).bundles;
  if (!isRecord(bundles)) return undefined;
  const sizes = Object.entries(bundles).flatMap(([name, bundle]) =>
    isRecord(bundle) && typeof bundle.medianMaxRssMbAfterImport === 'number'
      ? [`${name} ${num(bundle.medianMaxRssMbAfterImport)} MB`]
      : [],
  );
  if (sizes.length === 0) return undefined;
  return `Resident set of a fresh Node.js process after importing a bundled handler (figure 6, median): ${sizes.join(', ')}.`;
};

/**
 * The report of a run in GitHub Markdown: when and where it ran, the table, how to read it,
 * and the run's sizes and prices.
 */
const resultsMarkdown = (results: BenchResults): string => {
  const { prices } = results;
  return [
    `Measured ${results.date.slice(0, 10)} with \`${results.command}\` (total ${num(results.seconds)} s) on ${describeMachine(results.machine)}.`,
    '',
    markdownTable(results.figures.flatMap((figure) => figure.rows)),
    '',
    'How to read it: every figure is measured next to its baseline in the same run, with the embedded SQS server and the webhook receivers in their own processes on 127.0.0.1 (figure 9, which counts requests only, runs them in its own). Throughput figures alternate their sides round by round and take the median of the paired ratios of the rounds, with its 95% confidence interval; "CPU" is the same ratio on the CPU time of the measuring process, steadier than wall-clock time on a shared machine (the verdict uses wall-clock time). Peak RSS is that of a process running the TypeScript sources through tsx; figure 6 has the bundled handlers.',
    '',
    ...[
      `Sizes: \`${settingsLine(results.settings)}\`.`,
      `Prices: ${prices.asOf}: SQS $${prices.sqsPerMillionRequests} per million requests (64 KiB chunks); Lambda arm64 $${prices.lambdaArmPerGbSecond} per GB-s + $${prices.lambdaPerMillionRequests} per million requests; EventBridge $${prices.eventBridgePerMillionEvents} per million custom events + $${prices.eventBridgeApiDestinationsPerMillion} per million API destination invocations.`,
      memoryLine(results),
      bundleRssLine(results),
    ]
      .filter((line) => line !== undefined)
      .map((line) => `- ${line}`),
    '',
  ].join('\n');
};

export type { BenchResults, FigureOutput, FigureReport, FigureRow, Verdict };
export { consoleTable, markdownTable, resultsMarkdown, settingsLine, VERDICTS, verdict };
