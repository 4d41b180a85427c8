/**
 * Asset hashes do not depend on the synth's `-o` folder: the source maps' paths are made
 * relative to the project root (infra/portableSourceMap.mjs), so synthesizing from another
 * folder uploads and updates nothing. Real bundling (esbuild), so one test.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stackNameFor, TapPassWebhooksStack } from '../../infra/stack.js';
import { CDK_JSON_CONTEXT, configFromYaml, exportYaml } from './stackFactory.js';

const SLOW_MS = 240_000;

/** The S3 keys (content hashes) of the three functions' code, by function name. */
const codeKeys = (template: Template): Record<string, string> =>
  Object.fromEntries(
    Object.values(template.findResources('AWS::Lambda::Function')).map((resource) => [
      String(resource.Properties.FunctionName),
      String(resource.Properties.Code.S3Key),
    ]),
  );

describe('Class: PipelineFunction (asset hashes)', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it(
    'bundles the same assets, with project-relative source maps, whatever the output folder',
    async () => {
      // Prepare
      const config = await configFromYaml(['exports:', exportYaml('plain')].join('\n'));
      const synth = (outdir: string) => {
        const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT } });
        const stack = new TapPassWebhooksStack(app, stackNameFor('hash'), {
          stage: 'hash',
          config,
        });
        app.synth();
        return Template.fromStack(stack);
      };
      const first = mkdtempSync(join(tmpdir(), 'tappass-out-a-'));
      const second = join(mkdtempSync(join(tmpdir(), 'tappass-out-b-')), 'deeper', 'cdk.out');
      folders.push(first, second);

      // Act
      const keysA = codeKeys(synth(first));
      const keysB = codeKeys(synth(second));

      // Assess
      expect(Object.keys(keysA)).toHaveLength(3);
      expect(keysB).toEqual(keysA);
      const asset = readdirSync(first).find((name) => name.startsWith('asset.'));
      expect(asset).toBeDefined();
      const map = JSON.parse(readFileSync(join(first, String(asset), 'index.mjs.map'), 'utf8'));
      expect(map.sources.some((source: string) => source.startsWith('lambdas/'))).toBe(true);
      expect(map.sources.every((source: string) => !source.startsWith('..'))).toBe(true);
    },
    SLOW_MS,
  );
});
