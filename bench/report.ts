/**
 * What a figure reports, and how the run prints it: one table on the console, the same table
 * in Markdown for the README.
 */

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

export type { FigureOutput, FigureReport, FigureRow, Verdict };
export { consoleTable, markdownTable, VERDICTS, verdict };
