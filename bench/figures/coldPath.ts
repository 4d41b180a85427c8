/**
 * Figure 6: the cold path. Each handler is bundled the way the CDK stack bundles it (esbuild:
 * minified ESM for Node.js 22 with the `createRequire` banner, the AWS SDK inlined, source maps
 * beside it), and so is a stub handler that imports only `@aws-sdk/client-sqs`. Compared: the
 * bundle's size, and the time a fresh `node` process (with `--enable-source-maps`, as the stack
 * sets) takes to import it, median of many processes run in turn.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { median, num, times } from '../format.js';
import type { FigureOutput, FigureRow } from '../report.js';
import { verdict } from '../report.js';
import type { BenchSettings } from '../settings.js';

const run$ = promisify(execFile);

const GOAL = 1.5;
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The banner of `infra/constructs/pipelineFunction.ts`, if it cannot be imported. */
const FALLBACK_REQUIRE_SHIM =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

const STUB_SOURCE = `import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
let client;
export const handler = async (event) => {
  client ??= new SQSClient({});
  return client.send(new SendMessageCommand({ QueueUrl: event.queueUrl, MessageBody: 'stub' }));
};
`;

const HANDLERS = ['ingest', 'delivery', 'dlq'] as const;
type BundleName = (typeof HANDLERS)[number] | 'stub';

/** The banner the stack uses, read from infra when it is there. */
const requireShim = async (): Promise<{ banner: string; source: string }> => {
  try {
    const { REQUIRE_SHIM } = await import('../../infra/constructs/pipelineFunction.js');
    return { banner: REQUIRE_SHIM, source: 'infra/constructs/pipelineFunction.ts' };
  } catch {
    return { banner: FALLBACK_REQUIRE_SHIM, source: 'built in (infra not importable)' };
  }
};

/** esbuild options equivalent to the stack's `NodejsFunction` bundling. */
const bundleOptions = (banner: string, outfile: string): BuildOptions => ({
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: banner },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  outfile,
  logLevel: 'silent',
});

const bundle = async (name: BundleName, dir: string, banner: string): Promise<string> => {
  const outfile = join(dir, name, 'index.mjs');
  const options = bundleOptions(banner, outfile);
  if (name === 'stub') {
    await build({
      ...options,
      stdin: { contents: STUB_SOURCE, resolveDir: PROJECT_ROOT, loader: 'js' },
    });
  } else {
    await build({ ...options, entryPoints: [join(PROJECT_ROOT, 'lambdas', `${name}.ts`)] });
  }
  return outfile;
};

interface ImportSample {
  readonly ms: number;
  readonly maxRssMb: number;
}

/** Imports `file` in a fresh Node.js process and reports how long the import took. */
const importOnce = async (file: string): Promise<ImportSample> => {
  const code = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); const ms = performance.now() - t; console.log(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
  const { stdout } = await run$(
    process.execPath,
    ['--enable-source-maps', '--input-type=module', '-e', code],
    // A clean environment, as a fresh Lambda container has (no tsx loader, no NODE_OPTIONS).
    { env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' } },
  );
  return JSON.parse(stdout) as ImportSample;
};

const run = async (settings: BenchSettings): Promise<FigureOutput> => {
  const dir = await mkdtemp(join(tmpdir(), 'tappass-bench-cold-'));
  try {
    const shim = await requireShim();
    const names: BundleName[] = ['stub', ...HANDLERS];
    const files = new Map<BundleName, string>();
    for (const name of names) files.set(name, await bundle(name, dir, shim.banner));

    const sizes = new Map<BundleName, { bytes: number; deflated: number }>();
    for (const [name, file] of files) {
      const contents = await readFile(file);
      sizes.set(name, { bytes: (await stat(file)).size, deflated: deflateSync(contents).length });
    }

    // Interleaved, so that a busy spell of the machine falls on every bundle alike.
    const samples = new Map<BundleName, ImportSample[]>(names.map((name) => [name, []]));
    for (let round = 0; round < settings.coldRuns; round++) {
      for (const name of names) samples.get(name)?.push(await importOnce(files.get(name) ?? ''));
    }
    const importMs = (name: BundleName) => median((samples.get(name) ?? []).map((s) => s.ms));
    const stub = { bytes: sizes.get('stub')?.bytes ?? 0, ms: importMs('stub') };

    const rows: FigureRow[] = HANDLERS.flatMap((name): FigureRow[] => {
      const bytes = sizes.get(name)?.bytes ?? 0;
      const ms = importMs(name);
      return [
        {
          figure: '6',
          name: `Cold path: ${name} bundle size`,
          measured: `${num(bytes / 1024)} KiB minified`,
          baseline: `${num(stub.bytes / 1024)} KiB (stub: @aws-sdk/client-sqs only)`,
          result: times(bytes / stub.bytes),
          value: bytes / stub.bytes,
          goal: `<= ${num(GOAL, 1)}x`,
          verdict: verdict(bytes / stub.bytes <= GOAL),
        },
        {
          figure: '6',
          name: `Cold path: ${name} import in a fresh process`,
          measured: `${num(ms)} ms (median of ${settings.coldRuns})`,
          baseline: `${num(stub.ms)} ms (stub)`,
          result: times(ms / stub.ms),
          value: ms / stub.ms,
          goal: `<= ${num(GOAL, 1)}x`,
          verdict: verdict(ms / stub.ms <= GOAL),
        },
      ];
    });
    return {
      rows,
      details: {
        bannerFrom: shim.source,
        esbuild: { ...bundleOptions(shim.banner, '<dir>/index.mjs'), banner: 'createRequire shim' },
        nodeFlags: ['--enable-source-maps'],
        bundles: Object.fromEntries(
          names.map((name) => [
            name,
            {
              bytes: sizes.get(name)?.bytes,
              deflatedBytes: sizes.get(name)?.deflated,
              importMs: samples.get(name)?.map((s) => s.ms),
              medianImportMs: importMs(name),
              medianMaxRssMbAfterImport: median((samples.get(name) ?? []).map((s) => s.maxRssMb)),
            },
          ]),
        ),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

export { run };
