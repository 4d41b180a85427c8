import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RUNTIME_CONFIG_PATH,
  runtimeConfigJson,
  writeRuntimeConfigFile,
} from '../../infra/runtimeConfigFile.js';
import { readRuntimeConfig } from '../../lambdas/runtime.js';
import { configFromYaml, exportYaml } from './stackFactory.js';

describe('Function: writeRuntimeConfigFile()', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'tappass-runtime-config-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('writes the normalized config the functions read, defaults applied', async () => {
    // Prepare
    const config = await configFromYaml(
      ['exports:', exportYaml('a', { headers: { Authorization: 'Bearer ${A_TOKEN}' } })].join('\n'),
    );

    // Act
    const path = writeRuntimeConfigFile(config, directory);

    // Assess
    expect(readFileSync(path, 'utf8')).toBe(runtimeConfigJson(config));
    expect(readRuntimeConfig(path)).toEqual(config);
    expect(readRuntimeConfig(path).exports[0]).toMatchObject({
      format: 'json',
      webhook: {
        method: 'POST',
        timeout_seconds: 10,
        headers: { Authorization: 'Bearer ${A_TOKEN}' },
      },
      retry: { max_attempts: 5, backoff_seconds: [1, 2, 4, 8, 16] },
      delivery: { batch_size: 10, max_concurrency: 5 },
    });
    expect(RUNTIME_CONFIG_PATH).toBe('/var/task/observability.json');
  });

  it('names the file after its content: same config, same file; other config, other file', async () => {
    // Prepare
    const first = await configFromYaml(['exports:', exportYaml('a')].join('\n'));
    const same = await configFromYaml(['exports:', exportYaml('a')].join('\n'));
    const other = await configFromYaml(['exports:', exportYaml('b')].join('\n'));

    // Act
    const paths = [first, same, other].map((config) => writeRuntimeConfigFile(config, directory));

    // Assess
    expect(paths[0]).toBe(paths[1]);
    expect(paths[2]).not.toBe(paths[0]);
    expect(readRuntimeConfig(paths[2] ?? '').exports[0]?.name).toBe('b');
  });
});
