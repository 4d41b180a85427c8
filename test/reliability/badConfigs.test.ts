/**
 * The bad-config corpus (test/fixtures/bad-configs/) through `validate`, as a user runs it:
 * every file with `# expect:` headers exits 2 and prints each error they state, at its line and
 * column, then the error count; a file with only `# warn:` headers (a config that loads, with
 * warnings) exits 0 and prints each warning they state. In-process (`runValidate`) for every file; as a subprocess
 * (`node --import tsx cli/main.ts validate`) for a sample at the small size and for every file
 * at the large one (a subprocess costs about a second of start-up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runValidate } from '../../cli/validate.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { reliabilityScale } from './helpers.js';

const SCALE = reliabilityScale();
const CORPUS = join(import.meta.dirname, '../fixtures/bad-configs');
const EXPECT = /^# expect: (\d+)(?::(\d+))?: (.+)$/;
const WARN = /^# warn: (\d+)(?::(\d+))?: (.+)$/;
/** Subprocesses at once when every file is run. */
const PARALLEL_RUNS = 2;

interface Expectation {
  /** `file:line:col ` or `file:line:` when the header gives no column. */
  readonly prefix: string;
  readonly fragment: string;
}

const files = readdirSync(CORPUS)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

const expectationsOf = (path: string, file: string, header = EXPECT): Expectation[] =>
  readFileSync(join(CORPUS, file), 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = header.exec(line);
      if (!match?.[1] || !match[3]) return [];
      const where = `${path}:${match[1]}:`;
      return [{ prefix: match[2] ? `${where}${match[2]} ` : where, fragment: match[3] }];
    });

/** What is wrong with one run's exit code and stderr, as readable lines. */
const problemsOf = (
  file: string,
  path: string,
  code: number | string,
  stderr: string,
): string[] => {
  const lines = stderr.split('\n');
  const expectations = expectationsOf(path, file);
  const problems: string[] = [];
  if (expectations.length === 0) {
    // A config that loads, with warnings: exit 0, each warning printed at its place.
    if (code !== 0) problems.push(`${file}: exit code ${code} instead of 0 (warnings only)`);
    const warnings = expectationsOf(path, file, WARN);
    if (warnings.length === 0) problems.push(`${file}: no # expect: or # warn: header`);
    for (const { prefix, fragment } of warnings) {
      if (!lines.some((line) => line.startsWith(`WARNING: ${prefix}`) && line.includes(fragment))) {
        problems.push(`${file}: no line "WARNING: ${prefix}… ${fragment}" in:\n${stderr}`);
      }
    }
    return problems;
  }
  if (code !== 2) problems.push(`${file}: exit code ${code} instead of 2`);
  for (const { prefix, fragment } of expectations) {
    if (!lines.some((line) => line.startsWith(prefix) && line.includes(fragment))) {
      problems.push(`${file}: no line "${prefix}… ${fragment}" in:\n${stderr}`);
    }
  }
  const summary = `${path}: ${expectations.length} error${expectations.length === 1 ? '' : 's'}; the config is invalid`;
  if (!lines.includes(summary)) problems.push(`${file}: no line "${summary}"`);
  return problems;
};

/** Runs `tasks` with at most `limit` at once, keeping their order in the result. */
const runLimited = async <T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> => {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      const task = tasks[index];
      if (task) results[index] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
};

describe('Command: validate on the bad-config corpus', () => {
  it(`exits 2 with every expected error (0 with every expected warning) for each of the ${files.length} bad configs (in-process)`, async () => {
    // Prepare
    const runs = files.map((file) => ({ file, path: relative(process.cwd(), join(CORPUS, file)) }));

    // Act
    const problems: string[] = [];
    for (const { file, path } of runs) {
      const err: string[] = [];
      const code = await runValidate(
        { config: path, env: {} },
        { out: () => {}, err: (line) => err.push(line) },
      );
      problems.push(...problemsOf(file, path, code, err.join('\n')));
    }

    // Assess
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(problems).toEqual([]);
  });

  const sample = SCALE.validateEveryConfigInSubprocess
    ? files
    : files.filter((_, index) => index % 16 === 0);

  it(`exits 2 with every expected error (0 with every warning) as a subprocess, for ${sample.length} of the bad configs (${SCALE.name})`, async () => {
    // Prepare
    const tasks = sample.map((file) => async () => {
      const path = relative(REPO_ROOT, join(CORPUS, file));
      const { code, stderr } = await runCli(['validate', '--config', path], { timeoutMs: 60_000 });
      return problemsOf(file, path, code, stderr);
    });

    // Act
    const problems = (await runLimited(tasks, PARALLEL_RUNS)).flat();

    // Assess
    expect(sample.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  }, 600_000);
});
