import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runValidate } from '../../cli/validate.js';
import { runtimeConfigJson } from '../../infra/runtimeConfigFile.js';
import { loadConfigFile } from '../../shared/config/index.js';
import { cdkSynth, runOffline } from '../helpers/cdkSynth.js';
import { REPO_ROOT } from './stackFactory.js';

const SLOW_MS = 180_000;

/** Imports a bundle in a fresh Node.js and calls its handler with an empty batch. */
const invokeBundle = (assetDir: string) =>
  runOffline(
    process.execPath,
    [
      '--enable-source-maps',
      '--input-type=module',
      '-e',
      `const { handler } = await import(${JSON.stringify(join(assetDir, 'index.mjs'))});
       const context = { getRemainingTimeInMillis: () => 30000, functionName: 'f', awsRequestId: 'r' };
       process.stdout.write(JSON.stringify(await handler({ Records: [] }, context)));`,
    ],
    {
      TAPPASS_STAGE: 'ci',
      TAPPASS_CONFIG_FILE: join(assetDir, 'observability.json'),
      TAPPASS_QUEUE_URL_BASE: 'https://sqs.eu-west-1.amazonaws.com/123456789012/',
      TAPPASS_SSM_PREFIX: '/tappass/ci',
      AWS_REGION: 'eu-west-1',
    },
  );

describe('Function: cdk synth (infra/app.ts through cdk.json)', () => {
  let outdir: string;

  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), 'tappass-synth-'));
  });

  afterEach(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  it(
    'synthesizes a stage offline, bundling each function with the normalized config',
    async () => {
      // Prepare
      const configPath = 'config/examples/pagerduty-alerts.yaml';
      const config = await loadConfigFile(join(REPO_ROOT, configPath));

      // Act
      const synth = await cdkSynth(
        outdir,
        { stage: 'ci', config: configPath, alarmEmail: 'oncall@example.com' },
        { PD_ROUTING_KEY: 'sekret-cli-123' },
      );

      // Assess
      expect(synth.stderr).not.toMatch(/error/i);
      expect(synth.code).toBe(0);
      const template = JSON.parse(
        readFileSync(join(outdir, 'TapPassWebhooks-ci.template.json'), 'utf8'),
      );
      const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
        (resource) => resource.Type,
      );
      expect(types.filter((type) => type === 'AWS::Lambda::Function')).toHaveLength(3);
      expect(types).toContain('AWS::SNS::Topic');
      const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
      expect(assets).toHaveLength(3);
      for (const asset of assets) {
        const dir = join(outdir, asset);
        expect(readdirSync(dir).sort()).toEqual([
          'index.mjs',
          'index.mjs.map',
          'observability.json',
        ]);
        expect(readFileSync(join(dir, 'observability.json'), 'utf8')).toBe(
          runtimeConfigJson(config),
        );
        expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).not.toContain('sekret-cli-123');
        const invoked = await invokeBundle(dir);
        expect(invoked.stdout).toBe('{"batchItemFailures":[]}');
        expect(invoked.code).toBe(0);
      }
      expect(JSON.stringify(template)).not.toContain('sekret-cli-123');
    },
    SLOW_MS,
  );

  it(
    'fails with every problem of an invalid config and writes no stack',
    async () => {
      // Prepare
      const configPath = join(outdir, 'bad.yaml');
      writeFileSync(
        configPath,
        [
          'exports:',
          '  - name: alerts',
          '    destination: webhook',
          '    webhook:',
          '      url: https://hooks.example.com/a',
          '      method: GET',
          '    delivery:',
          '      batch_size: 50',
        ].join('\n'),
      );

      // Act
      const synth = await cdkSynth(join(outdir, 'out'), { stage: 'ci', config: configPath });

      // Assess
      expect(synth.code).not.toBe(0);
      expect(synth.stderr).toContain(`${configPath}:6:15 exports[0].webhook.method:`);
      expect(synth.stderr).toContain(`${configPath}:8:19 exports[0].delivery.batch_size:`);
      expect(existsSync(join(outdir, 'out', 'TapPassWebhooks-ci.template.json'))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    'fails on a stage that cannot be part of resource names',
    async () => {
      // Prepare
      const context = { stage: 'Prod_1', config: 'config/examples/routing.yaml' };

      // Act
      const synth = await cdkSynth(join(outdir, 'out'), context);

      // Assess
      expect(synth.code).not.toBe(0);
      expect(synth.stderr).toContain('stage "Prod_1" cannot be used in resource names');
      expect(existsSync(join(outdir, 'out', 'TapPassWebhooks-Prod_1.template.json'))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    "prints the config file, its exports and validate's warnings, and fails on them under strict",
    async () => {
      // Prepare
      const configPath = 'config/observability.yaml';
      const validated: string[] = [];
      await runValidate(
        { config: join(REPO_ROOT, configPath), env: {} },
        { out: () => {}, err: (line) => validated.push(line) },
      );
      // Variables are resolved at run time from SSM: synth does not judge the environment.
      const expected = validated
        .filter((line) => line.startsWith('WARNING: '))
        .filter((line) => !line.includes('is not set in this environment'))
        .map((line) => line.replaceAll(join(REPO_ROOT, configPath), configPath));
      const config = await loadConfigFile(join(REPO_ROOT, configPath));

      // Act
      const synth = await cdkSynth(join(outdir, 'out'), {
        stage: 'ci',
        config: configPath,
        strict: 'true',
      });

      // Assess
      expect(expected.length).toBeGreaterThan(0);
      expect(synth.stderr).toContain(
        `stage ci: ${configPath}, ${config.exports.length} exports: ${config.exports.map((e) => e.name).join(', ')}`,
      );
      for (const line of expected) expect(synth.stderr).toContain(line);
      expect(synth.stderr).toContain('-c strict=true:');
      expect(synth.code).not.toBe(0);
      expect(existsSync(join(outdir, 'out', 'TapPassWebhooks-ci.template.json'))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    'fails when the config file does not exist',
    async () => {
      // Prepare
      const context = { stage: 'ci', config: 'config/nope.yaml' };

      // Act
      const synth = await cdkSynth(join(outdir, 'out'), context);

      // Assess
      expect(synth.code).not.toBe(0);
      expect(synth.stderr).toContain('cannot read config file config/nope.yaml: no such file');
    },
    SLOW_MS,
  );
});
