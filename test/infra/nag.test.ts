import { Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadConfigFile } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import {
  configFromYaml,
  exportYaml,
  manyExportsYaml,
  REPO_ROOT,
  repositoryConfigFiles,
  synthStack,
} from './stackFactory.js';

const NO_VARIABLES_YAML = ['exports:', exportYaml('plain')].join('\n');

const PRODUCERS_YAML = [
  'producers:',
  '  - account: "111122223333"',
  '  - role_arn: arn:aws:iam::111122223333:role/x',
  '  - { service: sns.amazonaws.com, source_arn: "arn:aws:sns:eu-west-1:111122223333:t" }',
].join('\n');

const CASES: [string, () => Promise<ObservabilityConfig>, string | undefined][] = [
  ['one export without variables', () => configFromYaml(NO_VARIABLES_YAML), undefined],
  ...repositoryConfigFiles().map(
    (file): [string, () => Promise<ObservabilityConfig>, string | undefined] => [
      file.slice(REPO_ROOT.length),
      () => loadConfigFile(file),
      'oncall@example.com',
    ],
  ),
  ['ten exports', () => configFromYaml(manyExportsYaml(10)), 'oncall@example.com'],
  [
    'producers of every form',
    () => configFromYaml([NO_VARIABLES_YAML, PRODUCERS_YAML].join('\n')),
    undefined,
  ],
];

/** Every acknowledgement in a construct tree: rule id → reasons. */
const acknowledgements = (root: IConstruct): Map<string, string[]> => {
  const found = new Map<string, string[]>();
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        found.set(rule, [...(found.get(rule) ?? []), reason]);
      }
    }
  }
  return found;
};

describe('Class: AwsSolutionsChecks on TapPassWebhooksStack', () => {
  it.each(CASES)('finds nothing unacknowledged in the stack of %s', async (_name, load, email) => {
    // Prepare
    const config = await load();
    const { stack } = synthStack(config, email === undefined ? {} : { alarmEmail: email });

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing unacknowledged with active tracing and destroyable queues', async () => {
    // Prepare
    const config = await configFromYaml(NO_VARIABLES_YAML);
    const { stack } = synthStack(config, { tracing: true, removal: 'destroy' });

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('synthesizes with the pack registered through Validations, as infra/app.ts does', async () => {
    // Prepare
    const config = await configFromYaml(manyExportsYaml(3));
    const { app } = synthStack(config, { alarmEmail: 'oncall@example.com' });

    // Act
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth({ force: true });

    // Assess
    expect(assembly.stacks.map((stack) => stack.stackName)).toEqual(['TapPassWebhooks-test']);
  });

  it('fails synth on a finding nobody acknowledged (the check is not vacuous)', async () => {
    // Prepare
    const config = await configFromYaml(NO_VARIABLES_YAML);
    const { app, stack } = synthStack(config);
    new Queue(stack, 'Unencrypted', { encryption: QueueEncryption.UNENCRYPTED });

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Assess
    expect(report.violations.map((violation) => violation.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    expect(() => app.synth({ force: true })).toThrow(/AwsSolutions-SQS2/);
  });

  it('acknowledges only the runtime version and the SSM decrypt key, each with a reason', async () => {
    // Prepare
    const config = await configFromYaml(manyExportsYaml(3));

    // Act
    const { stack } = synthStack(config, { alarmEmail: 'oncall@example.com' });
    const acks = acknowledgements(stack);

    // Assess
    expect([...acks.keys()].sort()).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      'AwsSolutions-L1',
    ]);
    expect(acks.get('AwsSolutions-L1')).toHaveLength(3);
    for (const reasons of acks.values()) {
      for (const reason of reasons) expect(reason.length).toBeGreaterThan(80);
    }
  });

  it('needs no key acknowledgement when no export references a variable', async () => {
    // Prepare
    const config = await configFromYaml(NO_VARIABLES_YAML);

    // Act
    const { stack } = synthStack(config);

    // Assess
    expect([...acknowledgements(stack).keys()]).toEqual(['AwsSolutions-L1']);
  });
});
