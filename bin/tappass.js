#!/usr/bin/env node
// The `tappass` executable (package.json "bin"): `tappass observability test --export NAME`,
// `tappass validate`, ... Paths given to it resolve from the directory it is run in. It runs
// the compiled CLI, dist/cli/main.js (`npm run build`, run by `npm ci` through "prepare"), and
// falls back to the TypeScript source through tsx's loader when dist/ was not built or is older
// than the source (an edit since the last build): the same code the `npm run` scripts run
// (cli/main.ts), which imports only the command that runs.
import { existsSync, readdirSync, statSync } from 'node:fs';

// What `--no-warnings=ExperimentalWarning` does for the npm scripts (a shebang cannot pass it
// portably): the embedded SQS server's SQLite is "experimental" and that is not the user's news.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning') return;
  emitWarning(warning, ...rest);
};
const compiled = new URL('../dist/cli/main.js', import.meta.url);

/**
 * Whether a source file the bundle is built from (cli/, shared/, local/) changed after the
 * build: in a clone, an edit without `npm run build` must not run yesterday's code. Walking
 * about a hundred files costs a few milliseconds; a package without its sources is never stale.
 */
const isStale = () => {
  const builtAt = statSync(compiled).mtimeMs;
  for (const folder of ['cli', 'shared', 'local']) {
    const root = new URL(`../${folder}/`, import.meta.url);
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > builtAt) {
        return true;
      }
    }
  }
  return false;
};

if (existsSync(compiled) && !isStale()) {
  await import(compiled.href);
} else {
  // Loaded only here: tsx's loader costs most of a second, the compiled CLI needs none of it.
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
