/**
 * One Lambda sandbox of a bundled asset: a fresh Node.js process that loads the asset's handler
 * as Lambda's Node.js runtime does (the `Handler` setting `<module>.<export>`, the module found
 * as `.js`, `.mjs` or `.cjs` in the asset folder, which is the working directory) and then
 * runs one invocation at a time. Plain JavaScript, so that nothing of the test's TypeScript
 * toolchain is loaded next to the bundle.
 *
 * Usage (test/artifacts/lambdaSandboxes.ts spawns it with an IPC channel):
 *   node lambdaProcess.mjs <asset folder> <handler, e.g. index.handler>
 *
 * Messages on the IPC channel, never on stdout: the function's own output (logs, EMF metrics)
 * goes to stdout and stderr as it would to CloudWatch.
 * - to the parent, once loaded: `{ type: 'ready', pid, nodeVersion, moduleFile }`, or
 *   `{ type: 'init-error', errorType, errorMessage }` before exiting;
 * - from the parent: `{ type: 'invoke', id, event, context }`, `context` holding the Lambda
 *   context's fields and `deadline` (epoch ms) for `getRemainingTimeInMillis`;
 * - to the parent: `{ type: 'result', id, response }` or `{ type: 'error', id, errorType,
 *   errorMessage }`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The extensions Lambda's Node.js runtime tries for the handler's module, in its order. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'];

const send = (message) =>
  new Promise((resolve) => {
    process.send(message, resolve);
  });

const errorFields = (error) => ({
  errorType: error instanceof Error ? error.name : 'Error',
  errorMessage: error instanceof Error ? error.message : String(error),
});

/** Imports the handler named by the `Handler` setting, as the runtime's init phase does. */
const loadHandler = async (assetDir, handlerSetting) => {
  const dot = handlerSetting.lastIndexOf('.');
  if (dot <= 0) throw new Error(`Handler "${handlerSetting}" is not <module>.<export>`);
  const moduleName = handlerSetting.slice(0, dot);
  const exportName = handlerSetting.slice(dot + 1);
  const moduleFile = MODULE_EXTENSIONS.map((ext) => join(assetDir, `${moduleName}${ext}`)).find(
    (file) => existsSync(file),
  );
  if (moduleFile === undefined) {
    throw new Error(`no ${moduleName}.{js,mjs,cjs} in ${assetDir}`);
  }
  const module = await import(pathToFileURL(moduleFile).href);
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${moduleFile} exports no function "${exportName}"`);
  }
  return { handler, moduleFile };
};

/** The Lambda context of one invocation, its clock counting down to `deadline`. */
const lambdaContext = ({ deadline, ...fields }) => ({
  callbackWaitsForEmptyEventLoop: true,
  ...fields,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const [assetDir, handlerSetting] = process.argv.slice(2);
// The parent going away (the suite ended, or killed it) ends the sandbox.
process.on('disconnect', () => process.exit(0));

let loaded;
try {
  loaded = await loadHandler(assetDir, handlerSetting);
} catch (error) {
  await send({ type: 'init-error', ...errorFields(error) });
  process.exit(1);
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  try {
    const response = await loaded.handler(message.event, lambdaContext(message.context));
    await send({ type: 'result', id: message.id, response: response ?? null });
  } catch (error) {
    await send({ type: 'error', id: message.id, ...errorFields(error) });
  }
});

await send({
  type: 'ready',
  pid: process.pid,
  nodeVersion: process.version,
  moduleFile: loaded.moduleFile,
});
