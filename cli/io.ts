/**
 * What every CLI command shares: exit codes, so scripts and CI can tell outcomes apart, and
 * an output sink, so tests can run a command in-process and read what it printed.
 */

const EXIT_CODES = {
  /** The command did what was asked and everything checked out. */
  ok: 0,
  /** The thing tested failed (a receiver answered non-2xx, a delivery failed). */
  failed: 1,
  /** Wrong usage (unknown option, missing argument) or an invalid or unreadable config. */
  usage: 2,
} as const;

type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Where a command prints: `out` for results, `err` for errors and warnings. One line per call. */
interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

/** The process's stdout and stderr. */
const consoleOutput: CliOutput = {
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
};

export type { CliOutput, ExitCode };
export { consoleOutput, EXIT_CODES };
