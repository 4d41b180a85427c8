/**
 * `cdk synth` as a user runs it (the CDK CLI, cdk.json's app through `npx tsx`, esbuild bundling
 * on this machine), as a child process without AWS credentials or instance metadata, so a
 * synth that would reach for an account fails here instead of passing on a developer's laptop.
 * Used by test/infra/app.test.ts and the artifacts suite.
 */
import { spawn } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { REPO_ROOT } from './cli.js';

const CDK_CLI = join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/** How a `cdk synth` ended. */
interface SynthRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of the synth: this one without AWS credentials or profile. */
const synthEnvironment = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const base = { ...process.env };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    delete base[name];
  }
  delete base.AWS_PROFILE;
  return {
    ...base,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // The app runs through `npx tsx`: this Node.js and the project's binaries first.
    PATH: [join(REPO_ROOT, 'node_modules', '.bin'), dirname(process.execPath), base.PATH].join(
      delimiter,
    ),
    ...extra,
  };
};

/**
 * Runs a command from the repository root with {@link synthEnvironment} plus `env`.
 *
 * @example
 * const run = await runOffline(process.execPath, ['-e', 'console.log(1)']);
 */
const runOffline = (
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<SynthRun> =>
  new Promise<SynthRun>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: synthEnvironment(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/**
 * Runs `cdk synth -c <key>=<value>... -o <outdir>` from the repository root.
 *
 * @example
 * const synth = await cdkSynth(outdir, { stage: 'ci', config: 'config/examples/routing.yaml' });
 * expect(synth.code).toBe(0);
 */
const cdkSynth = (
  outdir: string,
  context: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv = {},
): Promise<SynthRun> =>
  runOffline(
    process.execPath,
    [
      CDK_CLI,
      'synth',
      ...Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
      '-o',
      outdir,
      '--no-notices',
      '--quiet',
    ],
    env,
  );

export type { SynthRun };
export { cdkSynth, runOffline };
