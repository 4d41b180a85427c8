/**
 * The stack of a config with a batched export: its event source takes `batch.max_events`
 * records gathered for `batch.max_wait_seconds`, its queue's visibility timeout covers the
 * batching window, the other exports are unchanged, and cdk-nag still finds nothing.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { deliveryFunctionTimeoutSeconds } from '../../shared/sqs/queueSettings.js';
import { configFromYaml, exportYaml, logicalId, queueArnRef, synthStack } from './stackFactory.js';

const YAML = [
  'exports:',
  exportYaml('pager', { batchSize: 5, maxConcurrency: 3 }),
  exportYaml('archive', { maxConcurrency: 2 }),
  '    rate_limit_per_second: 20',
  '    batch:',
  '      max_events: 500',
  '      max_bytes: 2097152',
  '      max_wait_seconds: 30',
].join('\n');

describe('Class: TapPassWebhooksStack (batched export)', () => {
  it('gives the batched export an event source of max_events records and a max_wait_seconds window', async () => {
    // Prepare
    const config = await configFromYaml(YAML);

    // Act
    const { stack, template } = synthStack(config);

    // Assess
    const archive = stack.queues.byExport.get('archive');
    const pager = stack.queues.byExport.get('pager');
    if (!archive || !pager) throw new Error('the stack lacks an export queue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: queueArnRef(stack, archive.delivery),
      FunctionName: { Ref: logicalId(stack, stack.deliveryFunction.function) },
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 30,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const pagerSource = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping'),
    ).find(
      (resource) =>
        JSON.stringify(resource.Properties.EventSourceArn) ===
        JSON.stringify(queueArnRef(stack, pager.delivery)),
    );
    expect(pagerSource?.Properties).toMatchObject({
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    expect(pagerSource?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it('adds the batching window to the batched queue visibility timeout only', async () => {
    // Prepare
    const config = await configFromYaml(YAML);
    const sixTimes = 6 * deliveryFunctionTimeoutSeconds(config);

    // Act
    const { template } = synthStack(config);

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'tappass-test-deliver-archive',
      VisibilityTimeout: sixTimes + 30,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'tappass-test-deliver-pager',
      VisibilityTimeout: sixTimes,
    });
  });

  it('passes cdk-nag with a batched export', async () => {
    // Prepare
    const config = await configFromYaml(YAML);
    const { stack } = synthStack(config);

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(report.violations).toEqual([]);
  });
});
