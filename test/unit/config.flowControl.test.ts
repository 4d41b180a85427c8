/**
 * The flow-control keys of an export in the config file: max_event_age_seconds,
 * rate_limit_per_second, breaker and batch, with their defaults and their error messages.
 */
import { FLOW_CONTROL_DEFAULTS, parseConfig } from '../../shared/config/index.js';

/** A config with one export and `extra` YAML lines inside it. */
const configWith = (extra: string): string =>
  [
    'exports:',
    '  - name: archive',
    '    destination: webhook',
    '    webhook:',
    '      url: https://example.com/bulk',
    extra,
  ].join('\n');

describe('Function: parseConfig() flow-control keys', () => {
  it('turns the breaker on with its defaults and leaves the other keys off', async () => {
    // Act
    const { config, issues } = await parseConfig(configWith(''), 'plain.yaml');

    // Assess
    expect(issues).toEqual([]);
    const exportConfig = config?.exports[0];
    expect(exportConfig?.breaker).toEqual(FLOW_CONTROL_DEFAULTS.breaker);
    expect(exportConfig?.max_event_age_seconds).toBeUndefined();
    expect(exportConfig?.rate_limit_per_second).toBeUndefined();
    expect(exportConfig?.batch).toBeUndefined();
  });

  it('reads every key as written, filling what a block leaves out', async () => {
    // Prepare
    const yaml = configWith(
      [
        '    max_event_age_seconds: 3600',
        '    rate_limit_per_second: 0.5',
        '    breaker: { failure_rate: 0.8, cooldown_seconds: 120 }',
        '    batch: { max_events: 500, encoding: ndjson }',
      ].join('\n'),
    );

    // Act
    const { config, issues } = await parseConfig(yaml, 'full.yaml');

    // Assess
    expect(issues).toEqual([]);
    expect(config?.exports[0]).toMatchObject({
      max_event_age_seconds: 3600,
      rate_limit_per_second: 0.5,
      breaker: { failure_rate: 0.8, min_attempts: 10, window_seconds: 60, cooldown_seconds: 120 },
      batch: { max_events: 500, max_bytes: 1024 * 1024, max_wait_seconds: 5, encoding: 'ndjson' },
    });
  });

  it('disables the breaker with false', async () => {
    // Act
    const { config, issues } = await parseConfig(configWith('    breaker: false'), 'off.yaml');

    // Assess
    expect(issues).toEqual([]);
    expect(config?.exports[0]?.breaker).toBe(false);
  });

  it.each([
    ['    breaker: true', 'exports[0].breaker', 'is not a breaker; write false to disable it'],
    ['    rate_limit_per_second: 0', 'exports[0].rate_limit_per_second', ''],
    ['    max_event_age_seconds: 0', 'exports[0].max_event_age_seconds', ''],
    ['    breaker: { failure_rate: 1.5 }', 'exports[0].breaker.failure_rate', ''],
    ['    batch: { max_events: 20000 }', 'exports[0].batch.max_events', ''],
    ['    batch: { encoding: csv }', 'exports[0].batch.encoding', 'use json_array or ndjson'],
    [
      '    batch: { max_events: 50, max_wait_seconds: 0 }',
      'exports[0].batch.max_wait_seconds',
      'only with a batching window',
    ],
  ])('refuses %s at %s', async (line, path, message) => {
    // Act
    const { config, issues } = await parseConfig(configWith(line), 'bad.yaml');

    // Assess
    expect(config).toBeUndefined();
    expect(issues).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
  });

  it('accepts a batch of up to 10 events without a batching window', async () => {
    // Act
    const { issues } = await parseConfig(
      configWith('    batch: { max_events: 10, max_wait_seconds: 0 }'),
      'small.yaml',
    );

    // Assess
    expect(issues).toEqual([]);
  });
});
