import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeConfigJson } from '../../infra/runtimeConfigFile.js';
import {
  configVariables,
  ssmParameterNames,
  ssmParameterPrefix,
} from '../../infra/secretParameters.js';
import { loadConfigFile } from '../../shared/config/index.js';
import { StageNameError } from '../../shared/sqs/queueNames.js';
import { configFromYaml, exportYaml, REPO_ROOT, synthStack } from './stackFactory.js';

const TWO_EXPORTS_YAML = [
  'exports:',
  exportYaml('pagerduty', {
    url: 'https://events.pagerduty.com/v2/enqueue',
    headers: { Authorization: 'Token token=${PD_ROUTING_KEY}', 'X-Team': '${TEAM_ID}' },
  }),
  exportYaml('slack', { url: '${SLACK_WEBHOOK_URL}' }),
  exportYaml('other', { headers: { 'X-Key': '${PD_ROUTING_KEY}' } }),
].join('\n');

/** Every file below a directory, recursively. */
const filesBelow = (directory: string): string[] =>
  readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });

describe('Function: ssmParameterPrefix()', () => {
  it('puts every parameter of a stage under /tappass/<stage>', () => {
    // Prepare
    const stages = ['dev', 'prod', 'eustaging'];

    // Act
    const prefixes = stages.map(ssmParameterPrefix);

    // Assess
    expect(prefixes).toEqual(['/tappass/dev', '/tappass/prod', '/tappass/eustaging']);
  });

  it('refuses a stage that cannot be part of a parameter path', () => {
    // Prepare
    const stage = 'Prod/../x';

    // Act
    const act = () => ssmParameterPrefix(stage);

    // Assess
    expect(act).toThrow(StageNameError);
  });
});

describe('Function: ssmParameterNames()', () => {
  it('names one parameter per variable of any export, each once, sorted', async () => {
    // Prepare
    const config = await configFromYaml(TWO_EXPORTS_YAML);

    // Act
    const variables = configVariables(config);
    const names = ssmParameterNames('prod', config);

    // Assess
    expect(variables).toEqual(['PD_ROUTING_KEY', 'SLACK_WEBHOOK_URL', 'TEAM_ID']);
    expect(names).toEqual([
      '/tappass/prod/PD_ROUTING_KEY',
      '/tappass/prod/SLACK_WEBHOOK_URL',
      '/tappass/prod/TEAM_ID',
    ]);
  });
});

describe('Class: TapPassWebhooksStack (secrets)', () => {
  const savedEnv = { ...process.env };
  const secrets = {
    PD_ROUTING_KEY: 'sekret-123',
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/sekret-slack-456',
    S3_WEBHOOK_BRIDGE_URL: 'https://bridge.example.com/sekret-bridge-789',
    TEAM_ID: 'sekret-team-000',
  };

  beforeEach(() => {
    Object.assign(process.env, secrets);
  });

  afterEach(() => {
    for (const key of Object.keys(process.env)) {
      if (!(key in savedEnv)) delete process.env[key];
    }
    Object.assign(process.env, savedEnv);
  });

  it.each([
    ['a config built in the test', () => configFromYaml(TWO_EXPORTS_YAML)],
    [
      'config/observability.yaml',
      () => loadConfigFile(join(REPO_ROOT, 'config/observability.yaml')),
    ],
  ])('keeps secret values in the environment out of the assembly of %s', async (_name, load) => {
    // Prepare
    const config = await load();
    const { app, template } = synthStack(config);

    // Act
    const assembly = app.synth({ force: true });
    const texts = [
      JSON.stringify(template.toJSON()),
      runtimeConfigJson(config),
      ...filesBelow(assembly.directory).map((file) => readFileSync(file, 'utf8')),
    ];

    // Assess
    expect(texts.length).toBeGreaterThan(2);
    for (const text of texts) {
      for (const value of Object.values(secrets)) expect(text).not.toContain(value);
      expect(text).not.toContain('sekret');
    }
    // The names are there: the delivery function needs them to find the parameters.
    expect(texts[0]).toContain('/tappass/test/');
    expect(runtimeConfigJson(config)).toMatch(/\$\{(PD_ROUTING_KEY|SLACK_WEBHOOK_URL)\}/);
  });
});
