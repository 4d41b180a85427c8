import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsProblems } from '../../infra/stackProps.js';
import { parseConfig } from '../../shared/config/index.js';
import {
  EXPORT_GROUP_MAX_EXPORTS,
  exportGroupOf,
  MAX_EXPORTS_PER_STAGE,
  SINGLE_STACK_MAX_EXPORTS,
  stageLayout,
  stageLayoutProblems,
} from '../../shared/sqs/stageLayout.js';
import { configFromYaml, manyExportsYaml, synthStack } from './stackFactory.js';

/** CloudFormation's limits of one template. */
const MAX_RESOURCES = 500;
const MAX_TEMPLATE_BYTES = 1_000_000;

/** Every template of a synthesized stage: the stack's and each nested stack's. */
const templatesOf = (stack: Stack): [string, Record<string, unknown>][] =>
  [
    stack,
    ...stack.node.findAll().filter((node): node is NestedStack => node instanceof NestedStack),
  ].map((scope) => [scope.node.path, Template.fromStack(scope).toJSON()]);

const resourceCount = (template: Record<string, unknown>): number =>
  Object.keys((template.Resources ?? {}) as object).length;

describe('Stage layout: 200 exports in one stage', () => {
  it('keeps every template under 500 resources and 1 MB, with cdk-nag clean', async () => {
    // Prepare
    const config = await configFromYaml(manyExportsYaml(200));

    // Act
    const { stack } = synthStack(config, { alarmEmail: 'oncall@example.com' });
    const templates = templatesOf(stack);
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(templates.length).toBeGreaterThan(2);
    for (const [, template] of templates) {
      expect(resourceCount(template)).toBeLessThan(MAX_RESOURCES);
      expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(MAX_TEMPLATE_BYTES);
    }
    const all = templates.flatMap(([, template]) =>
      Object.values(template.Resources as Record<string, { Type: string }>),
    );
    expect(all.filter((resource) => resource.Type === 'AWS::SQS::Queue')).toHaveLength(3 + 400);
    expect(
      all.filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping'),
    ).toHaveLength(1 + 400);
    expect(all.filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard').length).toBe(
      1 + (templates.length - 1),
    );
    expect(report.violations).toEqual([]);
  }, 120_000);

  it('keeps a stage of up to 50 exports in one template, with the logical ids it always had', async () => {
    // Prepare
    const config = await configFromYaml(manyExportsYaml(SINGLE_STACK_MAX_EXPORTS));

    // Act
    const { stack, template } = synthStack(config);

    // Assess
    expect(templatesOf(stack)).toHaveLength(1);
    expect(resourceCount(template.toJSON())).toBeLessThan(MAX_RESOURCES);
    template.hasResource('AWS::SQS::Queue', {});
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toContain(
      'QueuesExportexport01DeliveryQueueB51EDD5A',
    );
  }, 60_000);
});

describe('Stage layout: the ceiling', () => {
  it('puts an export in the same group whatever the other exports', () => {
    // Prepare
    const names = Array.from({ length: 120 }, (_, index) => `hook-${index}`);

    // Act
    const all = stageLayout(names);
    const fewer = stageLayout(names.filter((_, index) => index % 2 === 0));

    // Assess
    if (all.kind !== 'nested' || fewer.kind !== 'nested') throw new Error('expected nested');
    fewer.groups.forEach((group, index) => {
      for (const name of group) expect(all.groups[index]).toContain(name);
    });
  });

  it('is refused by validate past the ceiling, with the numbers', async () => {
    // Prepare
    const yaml = manyExportsYaml(MAX_EXPORTS_PER_STAGE + 1);

    // Act
    const { config, issues } = await parseConfig(yaml, 'big.yaml');

    // Assess
    expect(config).toBeUndefined();
    expect(issues.map((issue) => issue.message)).toContainEqual(
      `${MAX_EXPORTS_PER_STAGE + 1} exports: a stage holds at most ${MAX_EXPORTS_PER_STAGE} (CloudFormation allows 500 resources per template and each export needs 9); split the exports over two stages`,
    );
  }, 60_000);

  it('is refused by the stack props (configs built in code) before anything is built', async () => {
    // Prepare
    const config = await configFromYaml(manyExportsYaml(3));
    const names = Array.from({ length: MAX_EXPORTS_PER_STAGE + 1 }, (_, index) => `x${index}`);
    const big = {
      ...config,
      exports: names.map((name) => ({
        ...(config.exports[0] as (typeof config.exports)[0]),
        name,
      })),
    };

    // Act
    const problems = stackPropsProblems({ stage: 'test', config: big });

    // Assess
    expect(problems.some((problem) => problem.includes(`at most ${MAX_EXPORTS_PER_STAGE}`))).toBe(
      true,
    );
  });

  it('names a full export group and the exports that do not fit', () => {
    // Prepare: 51 names that hash into group 0
    const names = Array.from({ length: 2000 }, (_, index) => `c${index}`)
      .filter((name) => exportGroupOf(name) === 0)
      .slice(0, EXPORT_GROUP_MAX_EXPORTS + 1);

    // Act
    const problems = stageLayoutProblems(names);

    // Assess
    expect(names).toHaveLength(EXPORT_GROUP_MAX_EXPORTS + 1);
    expect(problems).toEqual([
      `export group 0 (picked by a hash of the export name) would hold 51 exports, at most 50 fit in one nested stack: rename or move one of ${names.at(-1)}`,
    ]);
  });
});
