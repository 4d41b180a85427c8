/**
 * jest runs in native ESM mode (`--experimental-vm-modules`, see package.json) because
 * @middy/core 5+ ships ESM only. TypeScript is stripped by @swc/jest; types are checked
 * separately by `npm run typecheck`.
 *
 * Five projects, chosen with `--selectProjects` by the npm scripts:
 * - `unit`: in memory only, no socket, no child process (`npm run test:unit`, seconds);
 * - `integration`: the embedded SQS server, receivers on 127.0.0.1 and the CLI as a child
 *   process (`test/integration`, `test/cli`);
 * - `infra`: CDK stacks synthesized in memory, and `cdk synth` as a child process;
 * - `reliability`: the long runs, small by default, large with `RELIABILITY_SCALE=large`;
 * - `artifacts`: a stage synthesized by `cdk synth`, its bundled assets run in child processes
 *   (`npm run test:artifacts`).
 * `npm test` runs the first three; `.ci/run` adds `artifacts`, and `reliability` at the small
 * size.
 * @type {import('jest').Config}
 */

/** @type {import('jest').Config} */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Sources import siblings as `./x.js` (NodeNext); map them back to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30000,
};

/** @returns {import('jest').Config} */
const project = (displayName, ...folders) => ({
  ...shared,
  displayName,
  testMatch: folders.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
});

export default {
  projects: [
    project('unit', 'unit'),
    project('integration', 'integration', 'cli'),
    project('infra', 'infra'),
    project('reliability', 'reliability'),
    project('artifacts', 'artifacts'),
  ],
  testTimeout: shared.testTimeout,
  // The reference machine has 2 vCPUs; jest's default (cores - 1) runs one worker. With two,
  // jest used about 1.1 cores: integration files spend most of their time waiting on SQS long
  // polls, batching windows and backoff timers. A third worker keeps both cores busy (about
  // 1.5 cores) and the tests wait on conditions, never on wall-clock time, so they hold under
  // the extra load.
  maxWorkers: 3,
  // ESM test files under vm modules are not freed between files; a worker grown past this
  // is replaced, which costs a second and keeps later files from crawling through GC.
  workerIdleMemoryLimit: '1GB',
};
