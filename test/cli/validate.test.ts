import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { destinationHost, runValidate } from '../../cli/validate.js';
import { useTestStack } from '../helpers/testStack.js';

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

/** Runs the CLI as a user does (`npm run validate` is `tsx cli/main.ts validate`). */
const runCli = (
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

/**
 * What validate says about the seed's exports that have neither preset nor body_template:
 * nothing about pagerduty-auth, whose preset is detected from its literal URL.
 */
const SEED_PRESET_WARNINGS = [
  'WARNING: slack-detections: the url is ${SLACK_WEBHOOK_URL} and there is no preset or body_template, so what is sent depends on its value: if it is a Slack incoming webhook (hooks.slack.com), the slack preset is detected from the host at send time and a Slack message is sent; otherwise the raw event JSON is sent. Set preset: slack, or preset: generic for raw JSON, to make it explicit',
  'WARNING: s3-archive: the url is ${S3_WEBHOOK_BRIDGE_URL} and there is no preset or body_template, so what is sent depends on its value: if it is a Slack incoming webhook (hooks.slack.com), the slack preset is detected from the host at send time and a Slack message is sent; otherwise the raw event JSON is sent. Set preset: slack, or preset: generic for raw JSON, to make it explicit',
];

describe('Function: runValidate()', () => {
  const stack = useTestStack();
  let dir: string;

  beforeEach(async () => {
    dir = await stack.tempDir('cli-validate-');
  });

  it('prints a summary of every export and exits 0', async () => {
    // Prepare
    const { out, output } = collectingOutput();

    // Act
    const code = await runValidate(
      { config: 'config/examples/pagerduty-alerts.yaml', env: { PD_ROUTING_KEY: 'x' } },
      output,
    );

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([
      'config/examples/pagerduty-alerts.yaml: valid, 1 export',
      '',
      'pagerduty-alerts',
      '  destination  POST events.pagerduty.com (webhook, timeout 10 s)',
      '  body         body_template, format json',
      '  headers      Authorization, Content-Type',
      '  filters      event_kinds policy_block, auth_fail; min_severity error',
      '  retry        5 attempts, backoff 1, 2, 4, 8, 16 s',
      '  delivery     batch size 10, max concurrency 5',
      '  variables    ${PD_ROUTING_KEY}',
    ]);
  });

  it('shows a host that comes from a variable as the variable, and "every event" for no filters', async () => {
    // Prepare
    const { out, output } = collectingOutput();

    // Act
    const code = await runValidate({ config: 'config/observability.yaml', env: {} }, output);

    // Assess
    expect(code).toBe(0);
    expect(out).toContain('  destination  POST ${SLACK_WEBHOOK_URL} (webhook, timeout 10 s)');
    expect(out).toContain('  destination  POST ${S3_WEBHOOK_BRIDGE_URL} (webhook, timeout 10 s)');
    expect(out).toContain('  filters      every event');
  });

  it('detects the pagerduty preset of the routing example from its host, and says so', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();

    // Act
    const code = await runValidate(
      { config: 'config/examples/routing.yaml', env: { PD_ROUTING_KEY: 'x' } },
      output,
    );

    // Assess
    expect(code).toBe(0);
    const at = out.indexOf('pagerduty-auth');
    expect(out.slice(at, at + 9)).toEqual([
      'pagerduty-auth',
      '  destination  POST events.pagerduty.com (webhook, timeout 10 s)',
      '  body         preset pagerduty (detected from the host events.pagerduty.com), format json',
      '  headers      Authorization',
      '  filters      event_kinds auth_fail; min_severity error',
      '  retry        5 attempts, backoff 1, 2, 4, 8, 16 s',
      '  delivery     batch size 10, max concurrency 5',
      '  variables    ${PD_ROUTING_KEY}',
      '',
    ]);
    expect(err.join('\n')).not.toContain('pagerduty-auth:');
  });

  it('warns about each variable missing from the environment, without failing', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.test/T0/B0/s3cr3t', PD_ROUTING_KEY: '' };

    // Act
    const code = await runValidate({ config: 'config/observability.yaml', env }, output);

    // Assess
    expect(code).toBe(0);
    expect(err).toEqual([
      ...SEED_PRESET_WARNINGS,
      'WARNING: ${PD_ROUTING_KEY} is not set in this environment (needed by pagerduty-auth); it is resolved at run time, so set it before sending',
      'WARNING: ${S3_WEBHOOK_BRIDGE_URL} is not set in this environment (needed by s3-archive); it is resolved at run time, so set it before sending',
    ]);
  });

  it('never prints a variable value', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();
    const env = {
      SLACK_WEBHOOK_URL: 'https://hooks.slack.test/T0/B0/s3cr3t-url',
      PD_ROUTING_KEY: 's3cr3t-key',
      S3_WEBHOOK_BRIDGE_URL: 'https://bridge.test/s3cr3t-bridge',
    };

    // Act
    await runValidate({ config: 'config/observability.yaml', env }, output);

    // Assess
    expect([...out, ...err].join('\n')).not.toMatch(/s3cr3t|hooks\.slack\.test|bridge\.test/);
    expect(err).toEqual(SEED_PRESET_WARNINGS);
  });

  it('prints every error and exits 2 for an invalid config', async () => {
    // Prepare
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'exports:',
        '  - name: alerts',
        '    destination: webhook',
        '    webhok: {}',
        '  - name: alerts',
        '    destination: webhook',
        '    webhook: { url: "https://example.com", method: GET }',
        '',
      ].join('\n'),
    );
    const { out, err, output } = collectingOutput();

    // Act
    const code = await runValidate({ config: file, env: {} }, output);

    // Assess
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `${file}:2:5 exports[0].webhook: is required (The HTTP request that delivers one audit event)`,
      `${file}:4:5 exports[0].webhok: unknown key "webhok"; did you mean "webhook"?`,
      `${file}:5:11 exports[1].name: duplicate export name "alerts", already used by exports[0] (line 2); give each export its own name`,
      `${file}:7:52 exports[1].webhook.method: "GET" is not a supported method; use POST, PUT or PATCH`,
      `${file}: 4 errors; the config is invalid`,
    ]);
  });

  it('exits 2 when the file cannot be read', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const file = join(dir, 'absent.yaml');

    // Act
    const code = await runValidate({ config: file, env: {} }, output);

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([`${file}: cannot read the config file (no such file)`]);
  });
});

describe('Function: destinationHost()', () => {
  it.each([
    ['https://events.pagerduty.com/v2/enqueue', 'events.pagerduty.com'],
    ['http://localhost:8080/hook?x=1', 'localhost:8080'],
    ['https://bot:hunter2@hooks.example.com/in', 'hooks.example.com'],
    ['${SLACK_WEBHOOK_URL}', '${SLACK_WEBHOOK_URL}'],
    ['${BASE_URL}/v1/events', '${BASE_URL}'],
    ['https://${HOOK_HOST}/services/${TOKEN}', '${HOOK_HOST}'],
    ['https://hooks.example.com#frag', 'hooks.example.com'],
  ])('%s → %s', (url, host) => {
    // Act & Assess
    expect(destinationHost(url)).toBe(host);
  });
});

describe('CLI: tappass-webhooks validate', () => {
  it('exits 0 on the default config and warns about unset variables on stderr', async () => {
    // Act
    const result = await runCli(['validate']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('config/observability.yaml: valid, 3 exports');
    expect(result.stderr).toContain('WARNING: ${SLACK_WEBHOOK_URL} is not set');
  });

  it('exits 2 with every error of an invalid config', async () => {
    // Prepare
    const file = 'test/fixtures/bad-configs/many-errors.yaml';

    // Act
    const result = await runCli(['validate', '--config', file]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    // Only our lines: Node may print its own warnings (experimental features) on stderr too.
    const lines = result.stderr.split('\n').filter((line) => line.startsWith(file));
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      'test/fixtures/bad-configs/many-errors.yaml:12:15 exports[0].webhook.method: "GET" is not a supported method; use POST, PUT or PATCH',
    );
  });

  it('exits 2 on a usage error', async () => {
    // Act
    const result = await runCli(['validate', '--no-such-option']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--no-such-option'");
  });
});
