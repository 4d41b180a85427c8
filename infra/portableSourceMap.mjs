// Rewrites the `sources` of a bundle's source map (index.mjs.map) relative to the project root.
// esbuild writes them relative to the bundling folder, which CDK puts under the `-o` folder, so
// the same code synthesized into another folder had another map, another asset hash, and every
// function was uploaded and updated again. Run by the afterBundling hook of
// infra/constructs/pipelineFunction.ts: `node portableSourceMap.mjs <outputDir> <projectRoot>`.
// Plain JavaScript: it runs inside the bundling step, with no TypeScript loader.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const [outputDir, projectRoot] = process.argv.slice(2);
if (!outputDir || !projectRoot) {
  console.error('usage: node portableSourceMap.mjs <outputDir> <projectRoot>');
  process.exit(2);
}
const mapFile = join(outputDir, 'index.mjs.map');
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
map.sources = map.sources.map((source) =>
  relative(projectRoot, resolve(outputDir, map.sourceRoot ?? '', source))
    .split(sep)
    .join('/'),
);
delete map.sourceRoot;
writeFileSync(mapFile, JSON.stringify(map));
