#!/usr/bin/env node
// The `tappass` executable (package.json "bin"): `tappass observability test --export NAME`,
// `tappass validate`, ... Paths given to it resolve from the directory it is run in. It runs
// the CLI's TypeScript through tsx's loader, the same code the `npm run` scripts run
// (cli/main.ts); cli/main.ts imports only the command that runs.
import { register } from 'tsx/esm/api';

// What `--no-warnings=ExperimentalWarning` does for the npm scripts (a shebang cannot pass it
// portably): the embedded SQS server's SQLite is "experimental" and that is not the user's news.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning') return;
  emitWarning(warning, ...rest);
};
register();
await import('../cli/main.ts');
