/**
 * One topology, two builders: for each config, the CDK stack (synthesized, not bundled) and the
 * local stack (embedded SQS server and event-source emulator) must run every queue and every
 * event source mapping with the same settings. Queue attributes are read back from the embedded
 * server; the mappings' settings from the running emulator. A difference names the queue or
 * mapping and the setting.
 *
 * Not compared, because the local stack does not model them: SSE-SQS encryption, the TLS-only
 * queue policies, the redrive allow policies and the functions' memory.
 */
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  ListQueuesCommand,
  QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { LocalPipeline } from '../../local/pipeline.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { loadConfigFile } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import { APP_PREFIX, type FunctionRole, functionName } from '../../shared/sqs/queueNames.js';
import {
  configFromYaml,
  deployedSettings,
  exportYaml,
  NONE,
  REPO_ROOT,
  repositoryConfigFiles,
  type Settings,
  type SettingValue,
  type StageSettings,
  synthStack,
} from '../infra/stackFactory.js';

/** A config with a batched export next to a plain one (see `batch:` in docs/config). */
const BATCHED_YAML = [
  'exports:',
  exportYaml('pager', { batchSize: 5, maxConcurrency: 3, maxAttempts: 4 }),
  exportYaml('archive', { maxConcurrency: 2 }),
  '    rate_limit_per_second: 20',
  '    batch:',
  '      max_events: 500',
  '      max_bytes: 2097152',
  '      max_wait_seconds: 30',
].join('\n');

/** A slow webhook: the delivery function's timeout, and so every delivery visibility, grows. */
const SLOW_WEBHOOK_YAML = [
  'exports:',
  exportYaml('slow', { timeoutSeconds: 45 }),
  exportYaml('quick', { timeoutSeconds: 5, maxAttempts: 2 }),
].join('\n');

const seedFiles = [...repositoryConfigFiles(), join(REPO_ROOT, 'local', 'demo.yaml')];

const CONFIG_CASES: [string, () => Promise<ObservabilityConfig>][] = [
  ...seedFiles.map((file): [string, () => Promise<ObservabilityConfig>] => [
    file.slice(REPO_ROOT.length),
    () => loadConfigFile(file),
  ]),
  ['a batched export', () => configFromYaml(BATCHED_YAML)],
  ['an export with timeout_seconds: 45', () => configFromYaml(SLOW_WEBHOOK_YAML)],
];

const QUEUE_ATTRIBUTES = [
  QueueAttributeName.VisibilityTimeout,
  QueueAttributeName.MessageRetentionPeriod,
  QueueAttributeName.DelaySeconds,
  QueueAttributeName.RedrivePolicy,
];

const lastSegment = (text: string, separator: string): string =>
  text.slice(text.lastIndexOf(separator) + 1);

/** The settings of every queue of a stage, as the embedded server reports them. */
const localQueueSettings = async (
  sqs: SQSClient,
  stage: string,
): Promise<Map<string, Settings>> => {
  const listed = await sqs.send(
    new ListQueuesCommand({ QueueNamePrefix: `${APP_PREFIX}-${stage}-`, MaxResults: 1000 }),
  );
  const queues = new Map<string, Settings>();
  for (const queueUrl of listed.QueueUrls ?? []) {
    const { Attributes: attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: QUEUE_ATTRIBUTES }),
    );
    const redrive =
      attributes.RedrivePolicy === undefined
        ? undefined
        : (JSON.parse(attributes.RedrivePolicy) as {
            deadLetterTargetArn: string;
            maxReceiveCount: number | string;
          });
    queues.set(lastSegment(queueUrl, '/'), {
      VisibilityTimeout: Number(attributes.VisibilityTimeout),
      MessageRetentionPeriod: Number(attributes.MessageRetentionPeriod),
      DelaySeconds: Number(attributes.DelaySeconds),
      'RedrivePolicy.deadLetterTarget': redrive
        ? lastSegment(redrive.deadLetterTargetArn, ':')
        : NONE,
      'RedrivePolicy.maxReceiveCount': redrive ? Number(redrive.maxReceiveCount) : NONE,
    });
  }
  return queues;
};

/** The settings every running event source of the local pipeline polls with. */
const localEventSourceSettings = (pipeline: LocalPipeline, stage: string): Map<string, Settings> =>
  new Map(
    pipeline.mappings.map(({ settings }) => [
      lastSegment(settings.queueUrl, '/'),
      {
        Function: functionName(stage, settings.functionName as FunctionRole),
        FunctionTimeout: settings.functionTimeoutMs / 1000,
        BatchSize: settings.batchSize,
        MaximumBatchingWindowInSeconds: settings.maxBatchingWindowMs / 1000,
        MaximumConcurrency: settings.maxConcurrency ?? NONE,
        // The emulator always honours partial batch responses; it has no switch for them.
        ReportBatchItemFailures: true,
      },
    ]),
  );

/** What the local stack of `config` runs, read back while it runs. */
const localSettings = async (
  sqs: SQSClient,
  config: ObservabilityConfig,
  stage: string,
  tweaks: {
    readonly visibilityTimeoutSeconds?: number;
    readonly deliveryConcurrency?: number;
  } = {},
): Promise<StageSettings> => {
  const pipeline = await LocalPipeline.start({
    sqs,
    config,
    stage,
    secrets: new EnvSecretResolver({}),
    pollWaitSeconds: 1,
    ...tweaks,
  });
  try {
    return {
      queues: await localQueueSettings(sqs, stage),
      eventSources: localEventSourceSettings(pipeline, stage),
    };
  } finally {
    await pipeline.stop();
  }
};

const shown = (value: SettingValue | undefined): string =>
  value === undefined ? 'unset' : String(value);

/** Every difference between two sets of settings, one sentence each. */
const differencesOf = (
  kind: string,
  aws: ReadonlyMap<string, Settings>,
  local: ReadonlyMap<string, Settings>,
): string[] => {
  const differences: string[] = [];
  for (const name of new Set([...aws.keys(), ...local.keys()])) {
    const onAws = aws.get(name);
    const locally = local.get(name);
    if (!onAws || !locally) {
      differences.push(`${kind} ${name}: ${onAws ? 'on AWS only' : 'local only'}`);
      continue;
    }
    for (const setting of new Set([...Object.keys(onAws), ...Object.keys(locally)])) {
      if (onAws[setting] !== locally[setting]) {
        differences.push(
          `${kind} ${name}: ${setting} is ${shown(onAws[setting])} on AWS, ${shown(locally[setting])} locally`,
        );
      }
    }
  }
  return differences;
};

const stageDifferences = (aws: StageSettings, local: StageSettings): string[] => [
  ...differencesOf('queue', aws.queues, local.queues),
  ...differencesOf('event source of', aws.eventSources, local.eventSources),
];

let server: EmbeddedSqsServer;
let sqs: SQSClient;
let stageCounter = 0;
const savedEnv = { ...process.env };

/** A stage of its own per test: the server is shared, the queue names are not. */
const nextStage = (): string => {
  stageCounter += 1;
  return `parity${stageCounter}`;
};

beforeAll(async () => {
  server = await startEmbeddedSqs();
  sqs = localSqsClient(server.endpoint);
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
  process.env = savedEnv;
});

describe('Topology parity: the CDK stack and the local stack', () => {
  it.each(CONFIG_CASES)(
    'runs the same queues and event sources for %s',
    async (_name, loadConfig) => {
      // Prepare
      const config = await loadConfig();
      const stage = nextStage();

      // Act
      const aws = deployedSettings(synthStack(config, { stage }).template);
      const local = await localSettings(sqs, config, stage);

      // Assess
      expect(stageDifferences(aws, local)).toEqual([]);
      // Something was compared: ingest, its DLQ, the archive and two queues per export.
      expect(aws.queues.size).toBe(3 + 2 * config.exports.length);
      expect(aws.eventSources.size).toBe(1 + 2 * config.exports.length);
    },
  );

  it('names the queue or mapping and the setting that differs', async () => {
    // Prepare
    const config = await configFromYaml(BATCHED_YAML);
    const stage = nextStage();
    const aws = deployedSettings(synthStack(config, { stage }).template);

    // Act: the test-only overrides make the local stack deviate on purpose.
    const local = await localSettings(sqs, config, stage, {
      visibilityTimeoutSeconds: 7,
      deliveryConcurrency: 9,
    });

    // Assess
    const differences = stageDifferences(aws, local);
    expect(differences).toContain(
      `queue tappass-${stage}-ingest: VisibilityTimeout is 180 on AWS, 7 locally`,
    );
    expect(differences).toContain(
      `event source of tappass-${stage}-deliver-pager: MaximumConcurrency is 3 on AWS, 9 locally`,
    );
    // The archive and the ingest DLQ have no consumer: the override leaves them alone.
    expect(differences.filter((line) => line.includes('-dead-letters:'))).toEqual([]);
  });
});
