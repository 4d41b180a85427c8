/**
 * The stage topology both builders read: which queues, redrives, event sources and functions a
 * config gives, with which settings; and that the CDK builder refuses a topology it cannot build
 * rather than dropping a redrive.
 */
import { App, Stack } from 'aws-cdk-lib';
import { PipelineQueues } from '../../infra/constructs/pipelineQueues.js';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  deliveryFunctionTimeoutSeconds,
  maxReceiveCountFor,
  SOURCE_RETENTION_SECONDS,
} from '../../shared/sqs/queueSettings.js';
import {
  QUEUE_ROLES,
  redriveSourcesOf,
  SQS_QUEUE_DEFAULTS,
  type StageTopology,
  stageTopology,
} from '../../shared/sqs/topology.js';
import { configFromYaml, exportYaml } from './stackFactory.js';

const YAML = [
  'exports:',
  exportYaml('pager', { batchSize: 5, maxConcurrency: 3, maxAttempts: 4, timeoutSeconds: 45 }),
  exportYaml('archive', { maxConcurrency: 2 }),
  '    rate_limit_per_second: 20',
  '    batch:',
  '      max_events: 500',
  '      max_bytes: 2097152',
  '      max_wait_seconds: 30',
].join('\n');

const topologyOf = async (): Promise<StageTopology> =>
  stageTopology('qa', await configFromYaml(YAML));

const queueNamed = (topology: StageTopology, name: string) => {
  const queue = topology.queues.find((candidate) => candidate.name === name);
  if (!queue) throw new Error(`no queue ${name}`);
  return queue;
};

const sourceOf = (topology: StageTopology, queueName: string) => {
  const source = topology.eventSources.find((candidate) => candidate.queueName === queueName);
  if (!source) throw new Error(`no event source on ${queueName}`);
  return source;
};

describe('Function: stageTopology()', () => {
  it('lists each dead-letter queue before the queues that redrive into it', async () => {
    // Act
    const topology = await topologyOf();

    // Assess
    expect(topology.queues.map((queue) => queue.name)).toEqual([
      'tappass-qa-ingest-dlq',
      'tappass-qa-ingest',
      'tappass-qa-dead-letters',
      'tappass-qa-deliver-pager-dlq',
      'tappass-qa-deliver-pager',
      'tappass-qa-deliver-archive-dlq',
      'tappass-qa-deliver-archive',
    ]);
    const seen = new Set<string>();
    for (const queue of topology.queues) {
      if (queue.redrive) expect(seen).toContain(queue.redrive.deadLetterQueue);
      seen.add(queue.name);
    }
  });

  it('gives every queue its retention, visibility, delay and redrive', async () => {
    // Prepare
    const config = await configFromYaml(YAML);
    const [pager] = config.exports;
    if (!pager) throw new Error('the config has no export');
    const sixTimesDelivery = 6 * deliveryFunctionTimeoutSeconds(config);

    // Act
    const topology = stageTopology('qa', config);

    // Assess
    expect(queueNamed(topology, 'tappass-qa-ingest')).toEqual({
      name: 'tappass-qa-ingest',
      role: QUEUE_ROLES.ingest,
      visibilityTimeoutSeconds: 180,
      retentionSeconds: SOURCE_RETENTION_SECONDS,
      delaySeconds: 0,
      redrive: { deadLetterQueue: 'tappass-qa-ingest-dlq', maxReceiveCount: 5 },
    });
    expect(queueNamed(topology, 'tappass-qa-dead-letters')).toEqual({
      name: 'tappass-qa-dead-letters',
      role: QUEUE_ROLES.archive,
      visibilityTimeoutSeconds: SQS_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
      retentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      delaySeconds: 0,
    });
    expect(queueNamed(topology, 'tappass-qa-deliver-pager')).toMatchObject({
      exportName: 'pager',
      visibilityTimeoutSeconds: sixTimesDelivery,
      redrive: {
        deadLetterQueue: 'tappass-qa-deliver-pager-dlq',
        maxReceiveCount: maxReceiveCountFor(pager),
      },
    });
    // The batched export's records are received while the window gathers them.
    expect(queueNamed(topology, 'tappass-qa-deliver-archive').visibilityTimeoutSeconds).toBe(
      sixTimesDelivery + 30,
    );
    expect(queueNamed(topology, 'tappass-qa-deliver-archive-dlq')).toMatchObject({
      visibilityTimeoutSeconds: 180,
      redrive: { deadLetterQueue: 'tappass-qa-dead-letters', maxReceiveCount: 100 },
    });
  });

  it('sizes each event source: ingest windowed and unlimited, delivery per export, DLQs at 2', async () => {
    // Act
    const topology = await topologyOf();

    // Assess
    expect(topology.eventSources.map((source) => source.functionRole)).toEqual([
      'ingest',
      'delivery',
      'delivery',
      'dlq',
      'dlq',
    ]);
    expect(sourceOf(topology, 'tappass-qa-ingest')).toEqual({
      queueName: 'tappass-qa-ingest',
      functionRole: 'ingest',
      batchSize: 10,
      maxBatchingWindowSeconds: 1,
      reportBatchItemFailures: true,
    });
    expect(sourceOf(topology, 'tappass-qa-deliver-pager')).toMatchObject({
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: 3,
    });
    expect(sourceOf(topology, 'tappass-qa-deliver-archive')).toMatchObject({
      batchSize: 500,
      maxBatchingWindowSeconds: 30,
      maxConcurrency: 2,
    });
    expect(sourceOf(topology, 'tappass-qa-deliver-archive-dlq')).toMatchObject({
      functionRole: 'dlq',
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: 2,
    });
  });

  it('names every function and gives it its timeout and memory', async () => {
    // Act
    const { functions } = await topologyOf();

    // Assess
    expect(functions).toEqual({
      ingest: {
        role: 'ingest',
        name: 'tappass-qa-ingest',
        timeoutSeconds: 30,
        memoryMb: 256,
        recursiveLoop: 'Terminate',
      },
      // 2 x the 45 s webhook timeout + 10 s; every retry is a send to its own queue: Allow.
      delivery: {
        role: 'delivery',
        name: 'tappass-qa-delivery',
        timeoutSeconds: 100,
        memoryMb: 512,
        recursiveLoop: 'Allow',
      },
      dlq: {
        role: 'dlq',
        name: 'tappass-qa-dlq',
        timeoutSeconds: 30,
        memoryMb: 256,
        recursiveLoop: 'Terminate',
      },
    });
  });
});

describe('Function: redriveSourcesOf()', () => {
  it('lists the queues that redrive into a queue, none for a source', async () => {
    // Prepare
    const topology = await topologyOf();

    // Act & Assess
    expect(redriveSourcesOf(topology, 'tappass-qa-dead-letters')).toEqual([
      'tappass-qa-deliver-pager-dlq',
      'tappass-qa-deliver-archive-dlq',
    ]);
    expect(redriveSourcesOf(topology, 'tappass-qa-ingest-dlq')).toEqual(['tappass-qa-ingest']);
    expect(redriveSourcesOf(topology, 'tappass-qa-ingest')).toEqual([]);
  });
});

describe('Class: PipelineQueues', () => {
  it('refuses a topology whose redrive target comes after its source', async () => {
    // Prepare
    const topology = await topologyOf();
    const reordered: StageTopology = { ...topology, queues: [...topology.queues].reverse() };

    // Act & Assess
    expect(
      () =>
        new PipelineQueues(new Stack(new App(), 'Reordered'), 'Queues', { topology: reordered }),
    ).toThrow(
      'queue tappass-qa-deliver-archive redrives into tappass-qa-deliver-archive-dlq, which the topology does not list before it',
    );
  });
});
