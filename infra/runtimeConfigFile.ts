/**
 * The normalized config as the functions read it: JSON with every default applied, written to
 * a file that the bundling step copies into each function's code (`/var/task/observability.json`).
 * It holds `${VAR}` names only; values live in SSM and are read at send time.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObservabilityConfig } from '../shared/config/types.js';

/** Where the file lands inside each function bundle (its directory is `/var/task`). */
const RUNTIME_CONFIG_FILE_NAME = 'observability.json';

/** `TAPPASS_CONFIG_FILE` of every function. */
const RUNTIME_CONFIG_PATH = `/var/task/${RUNTIME_CONFIG_FILE_NAME}`;

/** The file's content: stable for equal configs, so unchanged configs keep their asset hash. */
const runtimeConfigJson = (config: ObservabilityConfig): string =>
  `${JSON.stringify(config, null, 2)}\n`;

/**
 * Writes the normalized config to a file named after its content and returns the path.
 * Content-addressed and renamed into place, so concurrent synths (tests run in parallel)
 * never read a half-written file and never overwrite each other's config.
 *
 * @example
 * const path = writeRuntimeConfigFile(config); // '/tmp/tappass-webhooks/observability-3f2a….json'
 */
const writeRuntimeConfigFile = (
  config: ObservabilityConfig,
  directory: string = join(tmpdir(), 'tappass-webhooks'),
): string => {
  const json = runtimeConfigJson(config);
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const path = join(directory, `observability-${digest}.json`);
  mkdirSync(directory, { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, json, 'utf8');
  renameSync(partial, path);
  return path;
};

export { RUNTIME_CONFIG_FILE_NAME, RUNTIME_CONFIG_PATH, runtimeConfigJson, writeRuntimeConfigFile };
