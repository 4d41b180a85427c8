import { App } from 'aws-cdk-lib';
import { StackPropsError } from '../../infra/errors.js';
import { stackNameFor, TapPassWebhooksStack } from '../../infra/stack.js';
import { stackPropsProblems, validateStackProps } from '../../infra/stackProps.js';
import type { ExportConfig, ObservabilityConfig } from '../../shared/config/types.js';
import { configFromYaml, exportYaml } from './stackFactory.js';

const withExport = (
  config: ObservabilityConfig,
  change: (exp: ExportConfig) => ExportConfig,
): ObservabilityConfig => ({ exports: config.exports.map(change) });

describe('Function: stackPropsProblems()', () => {
  let valid: ObservabilityConfig;

  beforeAll(async () => {
    valid = await configFromYaml(
      ['exports:', exportYaml('alerts'), exportYaml('audit')].join('\n'),
    );
  });

  it('finds nothing wrong with a loaded config, a plain stage and an email', () => {
    // Prepare
    const props = { stage: 'eustaging', config: valid, alarmEmail: 'oncall@example.com' };

    // Act
    const problems = stackPropsProblems(props);

    // Assess
    expect(problems).toEqual([]);
    expect(validateStackProps(props)).toBe(props);
  });

  it.each([
    ['a stage with capitals', { stage: 'Prod' }, /stage "Prod" cannot be used in resource names/],
    ['a stage too long', { stage: 'a'.repeat(17) }, /cannot be used in resource names/],
    ['no exports', { config: { exports: [] } }, /no exports/],
    ['an email without a domain', { alarmEmail: 'oncall' }, /alarmEmail "oncall" is not an email/],
  ])('reports %s', (_name, override, message) => {
    // Prepare
    const props = { stage: 'dev', config: valid, ...override };

    // Act
    const problems = stackPropsProblems(props);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it.each([
    [
      'a batch size above 10',
      (e: ExportConfig) => ({ ...e, delivery: { ...e.delivery, batch_size: 11 } }),
      /batch_size 11 is not an integer from 1 to 10/,
    ],
    [
      'a concurrency below 2',
      (e: ExportConfig) => ({ ...e, delivery: { ...e.delivery, max_concurrency: 1 } }),
      /max_concurrency 1 is not an integer from 2 to 1000/,
    ],
    [
      'an export name with a slash',
      (e: ExportConfig) => ({ ...e, name: `${e.name}/x` }),
      /cannot be part of queue and alarm names/,
    ],
    [
      'a timeout beyond Lambda',
      (e: ExportConfig) => ({ ...e, webhook: { ...e.webhook, timeout_seconds: 600 } }),
      /delivery function timeout of 1210 s; Lambda allows 900 s/,
    ],
    [
      'attempts beyond SQS',
      (e: ExportConfig) => ({ ...e, retry: { ...e.retry, max_attempts: 996 } }),
      /maxReceiveCount of 1001/,
    ],
  ])('reports %s in every export', (_name, change, message) => {
    // Prepare
    const config = withExport(valid, change);

    // Act
    const problems = stackPropsProblems({ stage: 'dev', config });

    // Assess
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const problem of problems) expect(problem).toMatch(message);
  });

  it('reports a duplicate export name', () => {
    // Prepare
    const first = valid.exports[0] as ExportConfig;
    const config = { exports: [first, first] };

    // Act
    const problems = stackPropsProblems({ stage: 'dev', config });

    // Assess
    expect(problems).toEqual(['export "alerts" appears twice; export names are unique']);
  });
});

describe('Class: TapPassWebhooksStack (invalid props)', () => {
  it('throws every problem at once and adds nothing to the app', async () => {
    // Prepare
    const config = await configFromYaml(['exports:', exportYaml('alerts')].join('\n'));
    const app = new App();
    const broken = withExport(config, (e) => ({
      ...e,
      delivery: { batch_size: 0, max_concurrency: 0 },
    }));

    // Act
    const act = () =>
      new TapPassWebhooksStack(app, stackNameFor('dev'), {
        stage: 'Dev',
        config: broken,
        alarmEmail: 'x',
      });

    // Assess
    expect(act).toThrow(StackPropsError);
    try {
      act();
    } catch (error) {
      expect((error as StackPropsError).problems).toHaveLength(4);
      expect((error as Error).message).toMatch(/^cannot build stage "Dev":\n- stage "Dev"/);
    }
    expect(app.node.children).toHaveLength(0);
  });
});
