import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  type ConfigIssue,
  ConfigValidationError,
  configVariableNames,
  DEFAULTS,
  FLOW_CONTROL_DEFAULTS,
  formatIssue,
  loadConfigFile,
  parseConfig,
} from '../../shared/config/index.js';

/** A minimal valid export, as YAML lines under `exports:`, plus `extra` lines inside it. */
const configWith = (extra = '', url = 'https://example.com/hook'): string =>
  `exports:\n  - name: alerts\n    destination: webhook\n    webhook:\n      url: ${url}\n${extra}`;

const messages = (issues: readonly ConfigIssue[]): string[] => issues.map(formatIssue);

describe('Function: parseConfig()', () => {
  it('loads the spec seed verbatim, with every default applied', async () => {
    // Prepare
    const text = await readFile('config/examples/pagerduty-alerts.yaml', 'utf8');

    // Act
    const result = await parseConfig(text, 'pagerduty-alerts.yaml');

    // Assess
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.config).toEqual({
      exports: [
        {
          name: 'pagerduty-alerts',
          destination: 'webhook',
          format: 'json',
          webhook: {
            url: 'https://events.pagerduty.com/v2/enqueue',
            method: 'POST',
            headers: {
              Authorization: 'Token token=${PD_ROUTING_KEY}',
              'Content-Type': 'application/json',
            },
            body_template: expect.stringContaining('"custom_details": {{event_json}}'),
            timeout_seconds: 10,
            allow_private_network: false,
          },
          filters: { min_severity: 'error', event_kinds: ['policy_block', 'auth_fail'] },
          retry: { max_attempts: 5, backoff_seconds: [1, 2, 4, 8, 16] },
          delivery: { batch_size: 10, max_concurrency: 5 },
          breaker: { ...FLOW_CONTROL_DEFAULTS.breaker },
        },
      ],
    });
  });

  it.each(['config/examples/routing.yaml', 'config/observability.yaml'])(
    'loads the routing seed %s: three exports, filters as written',
    async (file) => {
      // Prepare
      const text = await readFile(file, 'utf8');

      // Act
      const { config, issues, warnings } = await parseConfig(text, file);

      // Assess
      expect(issues).toEqual([]);
      expect(warnings).toEqual([]);
      expect(config?.exports.map((exp) => [exp.name, exp.webhook.url, exp.filters])).toEqual([
        [
          'slack-detections',
          '${SLACK_WEBHOOK_URL}',
          { event_kinds: ['detection'], min_severity: 'warn' },
        ],
        [
          'pagerduty-auth',
          'https://events.pagerduty.com/v2/enqueue',
          { event_kinds: ['auth_fail'], min_severity: 'error' },
        ],
        ['s3-archive', '${S3_WEBHOOK_BRIDGE_URL}', {}],
      ]);
    },
  );

  it('applies every default to a minimal export', async () => {
    // Act
    const { config } = await parseConfig(configWith(), 'minimal.yaml');

    // Assess
    expect(config?.exports[0]).toEqual({
      name: 'alerts',
      destination: 'webhook',
      format: DEFAULTS.format,
      webhook: {
        url: 'https://example.com/hook',
        method: DEFAULTS.method,
        headers: {},
        timeout_seconds: DEFAULTS.timeoutSeconds,
        allow_private_network: false,
      },
      filters: {},
      retry: { max_attempts: DEFAULTS.maxAttempts, backoff_seconds: [...DEFAULTS.backoffSeconds] },
      delivery: { batch_size: DEFAULTS.batchSize, max_concurrency: DEFAULTS.maxConcurrency },
      breaker: { ...FLOW_CONTROL_DEFAULTS.breaker },
    });
  });

  it('fills defaults inside partly written blocks', async () => {
    // Act
    const { config } = await parseConfig(
      configWith('    retry: { max_attempts: 3 }\n    delivery: { max_concurrency: 50 }\n'),
      'partial.yaml',
    );

    // Assess
    expect(config?.exports[0]?.retry).toEqual({
      max_attempts: 3,
      backoff_seconds: [1, 2, 4, 8, 16],
    });
    expect(config?.exports[0]?.delivery).toEqual({ batch_size: 10, max_concurrency: 50 });
  });

  it('treats filters: {} like no filters: every event', async () => {
    // Act
    const { config } = await parseConfig(configWith('    filters: {}\n'), 'all.yaml');

    // Assess
    expect(config?.exports[0]?.filters).toEqual({});
  });

  it('accepts the limits of every range', async () => {
    // Prepare
    const extra = [
      '    retry: { max_attempts: 20, backoff_seconds: [0, 43200] }',
      '    delivery: { batch_size: 1, max_concurrency: 1000 }',
      '    format: text',
      '',
    ].join('\n');
    const text = configWith(extra).replace(
      '      url:',
      '      timeout_seconds: 60\n      method: PATCH\n      url:',
    );

    // Act
    const { config, issues } = await parseConfig(text, 'limits.yaml');

    // Assess
    expect(messages(issues)).toEqual([]);
    expect(config?.exports[0]?.webhook.timeout_seconds).toBe(60);
    expect(config?.exports[0]?.webhook.method).toBe('PATCH');
    expect(config?.exports[0]?.retry.max_attempts).toBe(20);
  });

  it.each([
    '${SLACK_WEBHOOK_URL}',
    'https://${HOOK_HOST}/services/hook',
    'https://example.com:${HOOK_PORT}/hook',
    'https://example.com/services/${HOOK_PATH}?key=${HOOK_KEY}',
    '"${BASE_URL}/v1/events"',
    'http://localhost:8080/hook',
  ])('accepts the URL %s without resolving anything', async (url) => {
    // Act
    const { config, issues, warnings } = await parseConfig(configWith('', url), 'url.yaml');

    // Assess
    expect(messages(issues)).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config?.exports[0]?.webhook.url).toBe(url.replace(/^"|"$/g, ''));
  });

  it('never reads the environment: ${VAR} stays as written', async () => {
    // Prepare
    const saved = process.env.HOOK_HOST;
    process.env.HOOK_HOST = 'resolved.example.com';

    try {
      // Act
      const { config } = await parseConfig(configWith('', 'https://${HOOK_HOST}/hook'), 'env.yaml');

      // Assess
      expect(config?.exports[0]?.webhook.url).toBe('https://${HOOK_HOST}/hook');
    } finally {
      if (saved === undefined) delete process.env.HOOK_HOST;
      else process.env.HOOK_HOST = saved;
    }
  });

  it('returns a deeply frozen config', async () => {
    // Act
    const { config } = await parseConfig(configWith(), 'frozen.yaml');

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config?.exports[0]?.retry.backoff_seconds)).toBe(true);
    expect(Object.isFrozen(config?.exports[0]?.webhook.headers)).toBe(true);
  });

  it('gives each parse its own default objects', async () => {
    // Act
    const first = await parseConfig(configWith(), 'a.yaml');
    const second = await parseConfig(configWith(), 'b.yaml');

    // Assess
    expect(first.config?.exports[0]?.retry).not.toBe(second.config?.exports[0]?.retry);
    expect(first.config?.exports[0]?.retry).toEqual(second.config?.exports[0]?.retry);
  });

  it('accepts a json template with a ${VAR} inside a JSON string', async () => {
    // Prepare: a format json template whose ${VAR} sits in a JSON string.
    const text = configWith(
      `      body_template: '{"key": "\${ROUTING_KEY}", "kind": "{{event_kind}}", "event": {{event_json}}}'\n`,
    );

    // Act
    const { issues } = await parseConfig(text, 'template.yaml');

    // Assess
    expect(messages(issues)).toEqual([]);
  });

  it('checks text templates for Liquid syntax only', async () => {
    // Act
    const { issues } = await parseConfig(
      configWith('    format: text\n').replace(
        '      url:',
        '      body_template: "TapPass {{event_kind}} on {{agent_id}}"\n      url:',
      ),
      'text.yaml',
    );

    // Assess
    expect(messages(issues)).toEqual([]);
  });

  it('warns about plain http to remote hosts and literal credentials', async () => {
    // Prepare
    const text = [
      'exports:',
      '  - name: plain',
      '    destination: webhook',
      '    webhook:',
      '      url: http://hooks.example.com/in',
      '      headers:',
      '        Authorization: Bearer abc123',
      '        X-Api-Key: "${API_KEY}"',
      '',
    ].join('\n');

    // Act
    const { config, issues, warnings } = await parseConfig(text, 'risky.yaml');

    // Assess
    expect(issues).toEqual([]);
    expect(config).toBeDefined();
    expect(messages(warnings)).toEqual([
      'risky.yaml:5:12 exports[0].webhook.url: uses http://, so events and headers travel unencrypted; use https://',
      expect.stringMatching(
        /^risky\.yaml:7:24 exports\[0\]\.webhook\.headers\.Authorization: looks like a credential written literally/,
      ),
    ]);
  });

  it('never echoes a header value in an error', async () => {
    // Prepare
    const text = configWith('').replace(
      '      url:',
      '      headers:\n        Authorization: "Token s3cr3t-value\\nX: y"\n      url:',
    );

    // Act
    const { issues } = await parseConfig(text, 'secret.yaml');

    // Assess
    expect(issues).toHaveLength(1);
    expect(messages(issues).join('\n')).not.toContain('s3cr3t');
  });

  it('reports issues in file order, across schema and cross-key checks', async () => {
    // Prepare
    const text = [
      'exports:',
      '  - name: same',
      '    destination: webhook',
      '    webhook: { url: "https://example.com/a", method: DELETE }',
      '  - name: same',
      '    destination: webhook',
      '    webhook: { url: "https://example.com/b" }',
      '    retry: { max_attempts: 99 }',
      '',
    ].join('\n');

    // Act
    const { issues } = await parseConfig(text, 'order.yaml');

    // Assess
    expect(issues.map((issue) => [issue.line, issue.path])).toEqual([
      [4, 'exports[0].webhook.method'],
      [5, 'exports[1].name'],
      [8, 'exports[1].retry.max_attempts'],
    ]);
  });

  it('stops a YAML alias bomb instead of expanding it', async () => {
    // Prepare: each level doubles the size; 2^30 items if expanded.
    const levels = Array.from(
      { length: 30 },
      (_, index) => `l${index + 1}: &l${index + 1} [*l${index}, *l${index}]`,
    );
    const text = ['l0: &l0 [x]', ...levels, 'exports: []', ''].join('\n');

    // Act
    const { config, issues } = await parseConfig(text, 'bomb.yaml');

    // Assess
    expect(config).toBeUndefined();
    expect(messages(issues)).toEqual([
      expect.stringContaining('bomb.yaml:1:1 the YAML cannot be read'),
    ]);
  });

  it('points a missing key at the map it is missing from', async () => {
    // Prepare
    const text =
      'exports:\n  - name: alerts\n    destination: webhook\n    webhook:\n      method: PUT\n';

    // Act
    const { issues } = await parseConfig(text, 'missing.yaml');

    // Assess
    expect(issues).toEqual([
      {
        file: 'missing.yaml',
        line: 5,
        col: 7,
        path: 'exports[0].webhook.url',
        message: expect.stringMatching(/^is required/),
      },
    ]);
  });
});

describe('Function: parseConfig() with YAML merge keys', () => {
  it("merges <<: *anchor (one map or a list of maps), the export's own keys winning", async () => {
    // Prepare
    const text = [
      'exports:',
      '  - &first',
      '    name: first',
      '    destination: webhook',
      '    webhook: &hook',
      '      url: https://example.com/hook',
      '      headers:',
      '        X-Team: security',
      '    retry: &retry',
      '      max_attempts: 7',
      '      backoff_seconds: [5, 30]',
      '  - <<: *first',
      '    name: second',
      '    webhook:',
      '      <<: *hook',
      '      url: https://example.com/other',
      '  - <<: [*first, {format: text}]',
      '    name: third',
      '',
    ].join('\n');

    // Act
    const { config, issues } = await parseConfig(text, 'merge.yaml');

    // Assess
    expect(issues).toEqual([]);
    const [first, second, third] = config?.exports ?? [];
    expect(second).toEqual({
      ...first,
      name: 'second',
      webhook: { ...first?.webhook, url: 'https://example.com/other' },
    });
    expect(third).toEqual({ ...first, name: 'third', format: 'text' });
    expect(second?.retry).toEqual({ max_attempts: 7, backoff_seconds: [5, 30] });
  });

  it('places an error of a merged value where the value is written', async () => {
    // Prepare
    const text = [
      'exports:',
      '  - name: first',
      '    destination: webhook',
      '    webhook: &hook',
      '      url: https://example.com/hook',
      '      timeout_seconds: 0',
      '  - name: second',
      '    destination: webhook',
      '    webhook:',
      '      <<: *hook',
      '      method: GET',
      '',
    ].join('\n');

    // Act
    const { issues } = await parseConfig(text, 'merge.yaml');

    // Assess
    expect(messages(issues)).toEqual([
      'merge.yaml:6:24 exports[0].webhook.timeout_seconds: must be at least 1, got 0',
      'merge.yaml:6:24 exports[1].webhook.timeout_seconds: must be at least 1, got 0',
      expect.stringMatching(/^merge\.yaml:11:15 exports\[1\]\.webhook\.method: "GET" is not/),
    ]);
  });
});

describe('Function: loadConfigFile()', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-load-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the default config', async () => {
    // Act
    const config = await loadConfigFile('config/observability.yaml');

    // Assess
    expect(config.exports.map((exp) => exp.name)).toEqual([
      'slack-detections',
      'pagerduty-auth',
      's3-archive',
    ]);
  });

  it('throws ConfigValidationError with every issue, one per line of the message', async () => {
    // Prepare
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      configWith('    format: xml\n').replace('https://example.com/hook', 'ftp://example.com'),
    );

    // Act
    const error = await loadConfigFile(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error).toBeInstanceOf(ConfigError);
    const validation = error as ConfigValidationError;
    expect(validation.name).toBe('ConfigValidationError');
    expect(validation.file).toBe(file);
    expect(validation.issues.map((issue) => issue.path)).toEqual([
      'exports[0].webhook.url',
      'exports[0].format',
    ]);
    expect(validation.message.split('\n')).toEqual(validation.issues.map(formatIssue));
    expect(validation.message).toContain(
      `${file}:5:12 exports[0].webhook.url: uses the unsupported scheme "ftp"`,
    );
  });

  it('throws ConfigError with the cause when the file cannot be read', async () => {
    // Prepare
    const file = join(dir, 'absent.yaml');

    // Act
    const error = await loadConfigFile(file).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigError).message).toBe(`cannot read config file ${file}: no such file`);
    expect((error as ConfigError).cause).toMatchObject({ code: 'ENOENT' });
  });

  it('hands warnings to onWarning and still returns the config', async () => {
    // Prepare
    const file = join(dir, 'warn.yaml');
    await writeFile(file, configWith('', 'http://hooks.example.com/in'));
    const warnings: ConfigIssue[] = [];

    // Act
    const config = await loadConfigFile(file, { onWarning: (warning) => warnings.push(warning) });

    // Assess
    expect(config.exports).toHaveLength(1);
    expect(warnings.map((warning) => warning.path)).toEqual(['exports[0].webhook.url']);
  });
});

describe('Function: configVariableNames()', () => {
  it('lists the ${VAR} names of each export: url, header values and template', async () => {
    // Prepare
    const config = await loadConfigFile('config/observability.yaml');
    const seed = await loadConfigFile('config/examples/pagerduty-alerts.yaml');

    // Act
    const names = configVariableNames(config);
    const seedNames = configVariableNames(seed);

    // Assess
    expect([...names]).toEqual([
      ['slack-detections', ['SLACK_WEBHOOK_URL']],
      ['pagerduty-auth', ['PD_ROUTING_KEY']],
      ['s3-archive', ['S3_WEBHOOK_BRIDGE_URL']],
    ]);
    expect([...seedNames]).toEqual([['pagerduty-alerts', ['PD_ROUTING_KEY']]]);
  });
});

describe('Function: formatIssue()', () => {
  it('formats file:line:col, the key path and the message', () => {
    // Prepare
    const issue: ConfigIssue = {
      file: 'config/observability.yaml',
      line: 12,
      col: 15,
      path: 'exports[1].webhook.method',
      message: '"GET" is not a supported method; use POST, PUT or PATCH',
    };

    // Act
    const line = formatIssue(issue);

    // Assess
    expect(line).toBe(
      'config/observability.yaml:12:15 exports[1].webhook.method: "GET" is not a supported method; use POST, PUT or PATCH',
    );
  });

  it('leaves out the path for problems of the whole file', () => {
    // Act
    const line = formatIssue({
      file: 'a.yaml',
      line: 1,
      col: 1,
      path: '',
      message: 'the file is empty',
    });

    // Assess
    expect(line).toBe('a.yaml:1:1 the file is empty');
  });
});
