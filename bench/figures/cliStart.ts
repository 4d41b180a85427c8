/**
 * Figure 11: the CLI's start. `tappass --help` and `tappass validate` run as a user runs them,
 * a fresh `node bin/tappass.js …` process, against a bare `node -e 0` in the same run: the
 * time from spawn to exit, median of many processes run in turn. The bin runs the compiled
 * CLI (`npm run build`, done here first so the figure never times the tsx fallback).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, num, times } from '../format.js';
import type { FigureOutput, FigureRow } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const run$ = promisify(execFile);

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tappass.js', import.meta.url));

/** What is timed: bare node, the baseline, and the two commands of issue #14. */
const COMMANDS = {
  node: ['-e', '0'],
  help: [BIN, '--help'],
  validate: [BIN, 'validate', '--config', 'config/observability.yaml'],
} as const;

/** The goals, times bare node: the top-level help at most 4x, validate at most 8x. */
const GOALS = { help: 4, validate: 8 } as const;
type CommandName = keyof typeof COMMANDS;

/** Runs one command in a fresh process and reports its wall time, spawn to exit, in ms. */
const timeOnce = async (name: CommandName): Promise<number> => {
  const start = performance.now();
  // validate exits 0 on the shipped config; its warnings about unset variables go to stderr.
  await run$(process.execPath, [...COMMANDS[name]], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  return performance.now() - start;
};

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  await run$('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT });
  const names = Object.keys(COMMANDS) as CommandName[];
  // Interleaved, so that a busy spell of the machine falls on every command alike.
  const samples = new Map<CommandName, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < settings.coldRuns; round++) {
    for (const name of names) samples.get(name)?.push(await timeOnce(name));
  }
  const ms = (name: CommandName) => median(samples.get(name) ?? []);
  const bare = ms('node');
  const rows = (['help', 'validate'] as const).map(
    (name): FigureRow => ({
      figure: '11',
      name: `CLI start: tappass ${name === 'help' ? '--help' : 'validate'}`,
      measured: `${num(ms(name))} ms (median of ${settings.coldRuns})`,
      baseline: `${num(bare)} ms (node -e 0)`,
      result: times(ms(name) / bare),
      value: ms(name) / bare,
      goal: `<= ${num(GOALS[name])}x`,
      verdict: verdict(ms(name) / bare <= GOALS[name]),
    }),
  );
  return {
    rows,
    details: Object.fromEntries(
      names.map((name) => [
        name,
        { args: COMMANDS[name], ms: samples.get(name), medianMs: ms(name) },
      ]),
    ),
  };
};

export { run };
