/**
 * What AWS does that the emulator alone cannot show (issue 12): recursive loop detection per
 * function, queues retained across deploys, active tracing on demand, Errors and Throttles
 * alarms per function, the dashboard URL of the stack's partition, and the concurrency warning.
 */
import { Match } from 'aws-cdk-lib/assertions';
import {
  CONCURRENCY_WARNING_THRESHOLD,
  concurrencyWarnings,
  eventSourceConcurrency,
} from '../../infra/synthReport.js';
import { stageTopology } from '../../shared/sqs/topology.js';
import { configFromYaml, exportYaml, synthStack } from './stackFactory.js';

const ONE_EXPORT = ['exports:', exportYaml('plain')].join('\n');

describe('Class: TapPassWebhooksStack (AWS parity)', () => {
  it('lets the delivery function loop (RecursiveLoop Allow) and keeps Terminate on the others', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT);

    // Act
    const { template } = synthStack(config);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'tappass-test-delivery',
      RecursiveLoop: 'Allow',
    });
    for (const name of ['tappass-test-ingest', 'tappass-test-dlq']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: name,
        RecursiveLoop: 'Terminate',
      });
    }
  });

  it('retains every queue on deletion and replacement by default, and destroys them on request', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT);

    // Act
    const retained = synthStack(config).template;
    const destroyed = synthStack(config, { removal: 'destroy' }).template;

    // Assess
    const queues = Object.values(retained.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(5);
    for (const queue of queues) {
      expect(queue.DeletionPolicy).toBe('Retain');
      expect(queue.UpdateReplacePolicy).toBe('Retain');
    }
    for (const queue of Object.values(destroyed.findResources('AWS::SQS::Queue'))) {
      expect(queue.DeletionPolicy).toBe('Delete');
      expect(queue.UpdateReplacePolicy).toBe('Delete');
    }
  });

  it('turns on active tracing only when asked', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT);

    // Act
    const plain = synthStack(config).template;
    const traced = synthStack(config, { tracing: true }).template;

    // Assess
    plain.allResourcesProperties('AWS::Lambda::Function', {
      TracingConfig: Match.absent(),
    });
    traced.allResourcesProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('alarms on the Errors and Throttles of every function', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT);

    // Act
    const { template } = synthStack(config);

    // Assess
    for (const role of ['ingest', 'delivery', 'dlq']) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `tappass-test-${role}-${metric.toLowerCase()}`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: Match.anyValue() }],
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    }
  });

  it("builds the dashboard URL from the console domain of the stack's partition", async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT);

    // Act
    const { template } = synthStack(config);

    // Assess
    template.hasMapping('ConsoleDomains', {
      aws: { domain: 'console.aws.amazon.com' },
      'aws-cn': { domain: 'console.amazonaws.cn' },
      'aws-us-gov': { domain: 'console.amazonaws-us-gov.com' },
    });
    const url = JSON.stringify(template.findOutputs('DashboardUrl'));
    expect(url).toContain('"Fn::FindInMap":["ConsoleDomains",{"Ref":"AWS::Partition"},"domain"]');
    expect(url).not.toContain('console.aws.amazon.com');
  });
});

describe('Function: concurrencyWarnings()', () => {
  it('sums the event sources and warns only above the threshold', async () => {
    // Prepare
    const yamlOf = (concurrency: number, count: number) =>
      [
        'exports:',
        ...Array.from({ length: count }, (_, i) =>
          exportYaml(`e${i}`, { maxConcurrency: concurrency }),
        ),
      ].join('\n');
    const quiet = stageTopology('test', await configFromYaml(yamlOf(100, 2)));
    const loud = stageTopology('test', await configFromYaml(yamlOf(300, 2)));

    // Act
    const quietWarnings = concurrencyWarnings(quiet);
    const loudWarnings = concurrencyWarnings(loud);

    // Assess
    const dlqSources = (topology: typeof quiet) =>
      topology.eventSources
        .filter((source) => source.functionRole === 'dlq')
        .reduce((sum, source) => sum + (source.maxConcurrency ?? 0), 0);
    expect(eventSourceConcurrency(quiet)).toBe(200 + dlqSources(quiet));
    expect(eventSourceConcurrency(loud)).toBeGreaterThan(CONCURRENCY_WARNING_THRESHOLD);
    expect(quietWarnings).toEqual([]);
    expect(loudWarnings).toEqual([
      expect.stringMatching(/^WARNING: the event sources of stage test may run \d+ invocations/),
    ]);
  });
});
