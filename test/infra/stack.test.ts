import { Match } from 'aws-cdk-lib/assertions';
import { stuckDeliveryAgeSeconds } from '../../infra/monitoring.js';
import { configVariables } from '../../infra/secretParameters.js';
import { loadConfigFile } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import { queueNames } from '../../shared/sqs/queueNames.js';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  DLQ_MAX_RECEIVE_COUNT,
  deliveryFunctionTimeoutSeconds,
  INGEST_MAX_RECEIVE_COUNT,
  maxReceiveCountFor,
  PLAIN_FUNCTION_TIMEOUT_SECONDS,
  SOURCE_RETENTION_SECONDS,
  visibilityTimeoutFor,
} from '../../shared/sqs/queueSettings.js';
import {
  configFromYaml,
  exportYaml,
  flatten,
  logicalId,
  manyExportsYaml,
  propertiesOf,
  queueArnRef,
  REPO_ROOT,
  repositoryConfigFiles,
  resourcesOfType,
  rolePermissions,
  roleStatements,
  type SynthResult,
  synthStack,
} from './stackFactory.js';

const ONE_EXPORT_YAML = [
  'exports:',
  exportYaml('pagerduty-alerts', {
    url: 'https://events.pagerduty.com/v2/enqueue',
    headers: { Authorization: 'Token token=${PD_ROUTING_KEY}' },
    maxAttempts: 3,
    timeoutSeconds: 20,
    batchSize: 5,
    maxConcurrency: 7,
  }),
].join('\n');

/** Every config the invariants are checked on: one export, the repository's, ten exports. */
const CONFIG_CASES: [string, () => Promise<ObservabilityConfig>][] = [
  ['one export', () => configFromYaml(ONE_EXPORT_YAML)],
  ...repositoryConfigFiles().map((file): [string, () => Promise<ObservabilityConfig>] => [
    file.slice(REPO_ROOT.length),
    () => loadConfigFile(file),
  ]),
  ['ten exports', () => configFromYaml(manyExportsYaml(10))],
];

const SQS_CONSUME_ACTIONS = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
];
const LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

const refText = (value: unknown): string => JSON.stringify(value);
const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe.each(CONFIG_CASES)('Class: TapPassWebhooksStack (%s)', (_name, loadConfig) => {
  let config: ObservabilityConfig;
  let synth: SynthResult;

  beforeAll(async () => {
    config = await loadConfig();
    synth = synthStack(config, { stage: 'test' });
  });

  it('creates two queues per export plus ingest, its DLQ and the archive, and one policy per queue', () => {
    // Prepare
    const exportCount = config.exports.length;

    // Act
    const { template } = synth;

    // Assess
    template.resourceCountIs('AWS::SQS::Queue', 3 + 2 * exportCount);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 3 + 2 * exportCount);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
    template.resourceCountIs('AWS::IAM::Role', 3);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1 + 2 * exportCount);
    // Three per export, four per stage, Errors and Throttles of each of the three functions.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3 * exportCount + 4 + 2 * 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  it("wires each export's delivery queue to its DLQ and the DLQ to the archive", () => {
    // Prepare
    const { stack, template } = synth;
    const names = queueNames('test');
    const deliveryTimeout = deliveryFunctionTimeoutSeconds(config);

    for (const exportConfig of config.exports) {
      // Act
      const queues = stack.queues.byExport.get(exportConfig.name);

      // Assess
      if (!queues) throw new Error(`no queues for ${exportConfig.name}`);
      const delivery = propertiesOf(template, 'AWS::SQS::Queue', logicalId(stack, queues.delivery));
      expect(delivery).toMatchObject({
        QueueName: names.delivery(exportConfig.name),
        MessageRetentionPeriod: SOURCE_RETENTION_SECONDS,
        VisibilityTimeout: visibilityTimeoutFor(deliveryTimeout),
        RedrivePolicy: {
          deadLetterTargetArn: queueArnRef(stack, queues.deadLetters),
          maxReceiveCount: maxReceiveCountFor(exportConfig),
        },
        RedriveAllowPolicy: { redrivePermission: 'denyAll' },
      });
      expect(maxReceiveCountFor(exportConfig)).toBe(exportConfig.retry.max_attempts + 5);
      const deadLetters = propertiesOf(
        template,
        'AWS::SQS::Queue',
        logicalId(stack, queues.deadLetters),
      );
      expect(deadLetters).toMatchObject({
        QueueName: names.deliveryDlq(exportConfig.name),
        MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
        VisibilityTimeout: visibilityTimeoutFor(PLAIN_FUNCTION_TIMEOUT_SECONDS),
        RedrivePolicy: {
          deadLetterTargetArn: queueArnRef(stack, stack.queues.archive),
          maxReceiveCount: DLQ_MAX_RECEIVE_COUNT,
        },
        RedriveAllowPolicy: { redrivePermission: 'byQueue' },
      });
      const allowed = (
        deadLetters.RedriveAllowPolicy as { sourceQueueArns: unknown[] }
      ).sourceQueueArns.map(flatten);
      expect(allowed).toEqual([
        `arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${names.delivery(exportConfig.name)}`,
      ]);
    }
  });

  it('keeps dead letters 14 days, longer than their sources, and redrives ingest to its DLQ', () => {
    // Prepare
    const { stack, template } = synth;
    const names = queueNames('test');

    // Act
    const queueProperties = (queue: Parameters<typeof queueArnRef>[1]) =>
      propertiesOf(template, 'AWS::SQS::Queue', logicalId(stack, queue));

    // Assess
    expect(DEAD_LETTER_RETENTION_SECONDS).toBe(14 * 86_400);
    expect(DEAD_LETTER_RETENTION_SECONDS).toBeGreaterThan(SOURCE_RETENTION_SECONDS);
    expect(queueProperties(stack.queues.ingest)).toMatchObject({
      QueueName: names.ingest,
      MessageRetentionPeriod: SOURCE_RETENTION_SECONDS,
      VisibilityTimeout: visibilityTimeoutFor(PLAIN_FUNCTION_TIMEOUT_SECONDS),
      RedrivePolicy: {
        deadLetterTargetArn: queueArnRef(stack, stack.queues.ingestDeadLetters),
        maxReceiveCount: INGEST_MAX_RECEIVE_COUNT,
      },
      RedriveAllowPolicy: { redrivePermission: 'denyAll' },
    });
    expect(queueProperties(stack.queues.ingestDeadLetters)).toMatchObject({
      QueueName: names.ingestDlq,
      MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
      RedriveAllowPolicy: { redrivePermission: 'byQueue' },
    });
    const archive = queueProperties(stack.queues.archive);
    expect(archive).toMatchObject({
      QueueName: names.deadLetters,
      MessageRetentionPeriod: DEAD_LETTER_RETENTION_SECONDS,
    });
    expect(archive.RedrivePolicy).toBeUndefined();
    const archiveSources = (archive.RedriveAllowPolicy as { sourceQueueArns: unknown[] })
      .sourceQueueArns;
    expect(archiveSources.map(flatten).map((arn) => arn.split(':').at(-1))).toEqual(
      config.exports.map((exp) => names.deliveryDlq(exp.name)),
    );
  });

  it('encrypts every queue, denies every request without TLS and sets its redrive allow policy', () => {
    // Prepare
    const { template } = synth;
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));

    for (const [queueId, queue] of Object.entries(queues)) {
      // Act
      const tlsPolicies = policies.filter(
        (policy) =>
          (policy.Properties.Queues as unknown[]).some(
            (ref) => refText(ref) === refText({ Ref: queueId }),
          ) &&
          (
            policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }
          ).Statement.some(
            (statement) =>
              statement.Effect === 'Deny' &&
              statement.Action === 'sqs:*' &&
              refText(statement.Condition) ===
                refText({ Bool: { 'aws:SecureTransport': 'false' } }) &&
              refText(statement.Principal) === refText({ AWS: '*' }),
          ),
      );

      // Assess
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(queue.Properties.RedriveAllowPolicy).toBeDefined();
      expect(tlsPolicies).toHaveLength(1);
    }
  });

  it('gives each export its own event source with its batch size and concurrency', () => {
    // Prepare
    const { stack, template } = synth;
    const deliveryFunction = logicalId(stack, stack.deliveryFunction.function);

    for (const exportConfig of config.exports) {
      // Act
      const queues = stack.queues.byExport.get(exportConfig.name);

      // Assess
      if (!queues) throw new Error(`no queues for ${exportConfig.name}`);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: queueArnRef(stack, queues.delivery),
        FunctionName: { Ref: deliveryFunction },
        BatchSize: exportConfig.delivery.batch_size,
        ScalingConfig: { MaximumConcurrency: exportConfig.delivery.max_concurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: queueArnRef(stack, queues.deadLetters),
        FunctionName: { Ref: logicalId(stack, stack.deadLetterFunction.function) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: queueArnRef(stack, stack.queues.ingest),
      FunctionName: { Ref: logicalId(stack, stack.ingestFunction.function) },
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the ingest function consume ingest and send only to the delivery queues and its DLQ', () => {
    // Prepare
    const { stack, template } = synth;
    const q = stack.queues;

    // Act
    const permissions = rolePermissions(template, logicalId(stack, stack.ingestFunction.role));

    // Assess
    expect(sorted(permissions.keys())).toEqual(
      sorted([...SQS_CONSUME_ACTIONS, ...LOG_ACTIONS, 'sqs:SendMessage']),
    );
    for (const action of SQS_CONSUME_ACTIONS) {
      expect(sorted(permissions.get(action) ?? [])).toEqual([
        refText(queueArnRef(stack, q.ingest)),
      ]);
    }
    expect(sorted(permissions.get('sqs:SendMessage') ?? [])).toEqual(
      sorted([...q.deliveryQueues, q.ingestDeadLetters].map((x) => refText(queueArnRef(stack, x)))),
    );
    expect(sorted(permissions.get('logs:PutLogEvents') ?? [])).toEqual([
      refText({ 'Fn::GetAtt': [logicalId(stack, stack.ingestFunction.logGroup), 'Arn'] }),
    ]);
  });

  it('lets the delivery function consume its queues, retry, dead-letter and read only its parameters', () => {
    // Prepare
    const { stack, template } = synth;
    const q = stack.queues;
    const variables = configVariables(config);

    // Act
    const roleId = logicalId(stack, stack.deliveryFunction.role);
    const permissions = rolePermissions(template, roleId);

    // Assess
    const expectedActions = [...SQS_CONSUME_ACTIONS, ...LOG_ACTIONS, 'sqs:SendMessage'];
    if (variables.length > 0) expectedActions.push('ssm:GetParameters', 'kms:Decrypt');
    expect(sorted(permissions.keys())).toEqual(sorted(expectedActions));
    for (const action of SQS_CONSUME_ACTIONS) {
      expect(sorted(permissions.get(action) ?? [])).toEqual(
        sorted(q.deliveryQueues.map((x) => refText(queueArnRef(stack, x)))),
      );
    }
    // The ingest queue too: a paused export raises its webhook.export_paused event there.
    expect(sorted(permissions.get('sqs:SendMessage') ?? [])).toEqual(
      sorted(
        [...q.deliveryQueues, ...q.deliveryDeadLetterQueues, q.ingest].map((x) =>
          refText(queueArnRef(stack, x)),
        ),
      ),
    );
    const parameterArns = variables.map(
      (name) =>
        `arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/tappass/test/${name}`,
    );
    expect(
      sorted([...(permissions.get('ssm:GetParameters') ?? [])].map((r) => flatten(JSON.parse(r)))),
    ).toEqual(sorted(parameterArns));
    const decrypt = roleStatements(template, roleId).filter((s) => s.Action === 'kms:Decrypt');
    expect(decrypt).toHaveLength(variables.length > 0 ? 1 : 0);
    for (const statement of decrypt) {
      const condition = (statement.Condition as { StringEquals: Record<string, unknown> })
        .StringEquals;
      expect(flatten(condition['kms:ViaService'])).toBe('ssm.<AWS::Region>.<AWS::URLSuffix>');
      expect(
        sorted((condition['kms:EncryptionContext:PARAMETER_ARN'] as unknown[]).map(flatten)),
      ).toEqual(sorted(parameterArns));
    }
  });

  it('lets the dead-letter function consume the DLQs and send only to ingest and the archive', () => {
    // Prepare
    const { stack, template } = synth;
    const q = stack.queues;

    // Act
    const permissions = rolePermissions(template, logicalId(stack, stack.deadLetterFunction.role));

    // Assess
    expect(sorted(permissions.keys())).toEqual(
      sorted([...SQS_CONSUME_ACTIONS, ...LOG_ACTIONS, 'sqs:SendMessage']),
    );
    for (const action of SQS_CONSUME_ACTIONS) {
      expect(sorted(permissions.get(action) ?? [])).toEqual(
        sorted(q.deliveryDeadLetterQueues.map((x) => refText(queueArnRef(stack, x)))),
      );
    }
    expect(sorted(permissions.get('sqs:SendMessage') ?? [])).toEqual(
      sorted([q.ingest, q.archive].map((x) => refText(queueArnRef(stack, x)))),
    );
  });

  it('grants no wildcard action and attaches no managed policy to the functions', () => {
    // Prepare
    const { template } = synth;
    const documents = [
      ...Object.values(resourcesOfType(template, 'AWS::IAM::Policy')),
      ...Object.values(resourcesOfType(template, 'AWS::IAM::ManagedPolicy')),
    ].map((policy) => policy.Properties.PolicyDocument as { Statement: { Action: unknown }[] });

    // Act
    const actions = documents.flatMap((doc) => doc.Statement.flatMap((s) => [s.Action].flat()));

    // Assess
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(String(action)).not.toContain('*');
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('raises a dead-letter, a delivery-stuck and a paused alarm per export', () => {
    // Prepare
    const { stack, template } = synth;
    const queueNameOf = (queue: Parameters<typeof queueArnRef>[1]) => ({
      'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'],
    });

    for (const exportConfig of config.exports) {
      // Act
      const alarms = stack.alarms.byExport.get(exportConfig.name);
      const queues = stack.queues.byExport.get(exportConfig.name);

      // Assess
      if (!alarms || !queues) throw new Error(`no alarms or queues for ${exportConfig.name}`);
      const deadLetters = propertiesOf(
        template,
        'AWS::CloudWatch::Alarm',
        logicalId(stack, alarms.deadLetters),
      );
      expect(deadLetters).toMatchObject({
        AlarmName: `tappass-test-${exportConfig.name}-dead-letters`,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      const watched = JSON.stringify(deadLetters.Metrics);
      expect(watched).toContain('"MetricName":"NumberOfMessagesReceived"');
      expect(watched).toContain('"MetricName":"ApproximateNumberOfMessagesVisible"');
      expect(watched).toContain(refText(queueNameOf(queues.deadLetters)));
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `tappass-test-${exportConfig.name}-delivery-stuck`,
        MetricName: 'ApproximateAgeOfOldestMessage',
        Namespace: 'AWS/SQS',
        Threshold: stuckDeliveryAgeSeconds(exportConfig),
        Dimensions: [{ Name: 'QueueName', Value: queueNameOf(queues.delivery) }],
        AlarmActions: Match.absent(),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `tappass-test-${exportConfig.name}-paused`,
        MetricName: 'ExportPaused',
        Namespace: 'TapPassWebhooks',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: Match.arrayWith([{ Name: 'export', Value: exportConfig.name }]),
      });
    }
    for (const [name, queue] of [
      ['ingest-parked', stack.queues.ingestDeadLetters],
      ['ingest-stuck', stack.queues.ingest],
      ['dead-letters-expiring', stack.queues.archive],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `tappass-test-${name}`,
        Dimensions: [{ Name: 'QueueName', Value: queueNameOf(queue) }],
      });
    }
    // A dead letter whose webhook.dlq could not be raised, from the dead-letter function.
    const notRaised = JSON.stringify(
      propertiesOf(
        template,
        'AWS::CloudWatch::Alarm',
        logicalId(stack, stack.alarms.alertsNotRaised),
      ),
    );
    expect(notRaised).toContain('"AlarmName":"tappass-test-alerts-not-raised"');
    expect(notRaised).toContain('"MetricName":"AlertsNotRaised"');
  });

  it('draws every export on the dashboard with outcomes, p50/p99 latency, depth and age', () => {
    // Prepare
    const { template } = synth;

    // Act
    const dashboard = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'))[0];
    const body = flatten(dashboard?.Properties.DashboardBody);

    // Assess
    expect(dashboard?.Properties.DashboardName).toBe('tappass-test');
    for (const exportConfig of config.exports) {
      expect(body).toContain(`${exportConfig.name}: delivered, retried, dead-lettered`);
      expect(body).toContain(`${exportConfig.name}: delivery latency (ms)`);
      expect(body).toContain(`${exportConfig.name}: queue depth`);
      expect(body).toContain(`${exportConfig.name}: oldest message age (seconds)`);
      expect(body).toContain(`"export","${exportConfig.name}"`);
    }
    for (const metric of ['Delivered', 'Retried', 'DeadLettered', 'DeliveryLatency']) {
      expect(body).toContain(`"TapPassWebhooks","${metric}"`);
    }
    expect(body).toContain('"stat":"p50"');
    expect(body).toContain('"stat":"p99"');
    expect(body).toContain('"EventsIngested"');
    expect(body).toContain('"EventsParked"');
    expect(body).toContain('"NumberOfMessagesSent"');
  });
});

describe('Class: TapPassWebhooksStack (functions and outputs)', () => {
  let config: ObservabilityConfig;
  let synth: SynthResult;

  beforeAll(async () => {
    config = await configFromYaml(ONE_EXPORT_YAML);
    synth = synthStack(config, { stage: 'qa' });
  });

  it('runs every function on Node.js 22, arm64, with explicit memory, timeout and log group', () => {
    // Prepare
    const { stack, template } = synth;
    const functions = [
      [stack.ingestFunction, 'tappass-qa-ingest', 256, PLAIN_FUNCTION_TIMEOUT_SECONDS],
      [stack.deliveryFunction, 'tappass-qa-delivery', 512, deliveryFunctionTimeoutSeconds(config)],
      [stack.deadLetterFunction, 'tappass-qa-dlq', 256, PLAIN_FUNCTION_TIMEOUT_SECONDS],
    ] as const;

    for (const [fn, name, memory, timeout] of functions) {
      // Act
      const properties = propertiesOf(
        template,
        'AWS::Lambda::Function',
        logicalId(stack, fn.function),
      );

      // Assess
      expect(properties).toMatchObject({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: memory,
        Timeout: timeout,
        LoggingConfig: { LogGroup: { Ref: logicalId(stack, fn.logGroup) } },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/${name}`,
        RetentionInDays: 30,
      });
    }
    // The delivery timeout covers the 20 s webhook timeout twice over.
    expect(deliveryFunctionTimeoutSeconds(config)).toBe(50);
  });

  it('tells the functions their stage, config file, queue URL base and SSM prefix', () => {
    // Prepare
    const { stack, template } = synth;

    // Act
    const envOf = (fn: typeof stack.ingestFunction) =>
      (
        propertiesOf(template, 'AWS::Lambda::Function', logicalId(stack, fn.function))
          .Environment as { Variables: Record<string, unknown> }
      ).Variables;

    // Assess
    for (const fn of [stack.ingestFunction, stack.deliveryFunction, stack.deadLetterFunction]) {
      const env = envOf(fn);
      expect(env.TAPPASS_STAGE).toBe('qa');
      expect(env.TAPPASS_CONFIG_FILE).toBe('/var/task/observability.json');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(flatten(env.TAPPASS_QUEUE_URL_BASE)).toBe(
        'https://sqs.<AWS::Region>.<AWS::URLSuffix>/<AWS::AccountId>/',
      );
    }
    expect(envOf(stack.deliveryFunction)).toMatchObject({
      TAPPASS_SECRETS: 'ssm',
      TAPPASS_SSM_PREFIX: '/tappass/qa',
    });
    expect(envOf(stack.ingestFunction).TAPPASS_SSM_PREFIX).toBeUndefined();
  });

  it('outputs the ingest queue URL and ARN and a producer policy that may only send to it', () => {
    // Prepare
    const { stack, template } = synth;
    const ingest = logicalId(stack, stack.queues.ingest);

    // Act
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(outputs.IngestQueueUrl?.Value).toEqual({ Ref: ingest });
    expect(outputs.IngestQueueArn?.Value).toEqual({ 'Fn::GetAtt': [ingest, 'Arn'] });
    expect(outputs.ProducerPolicyArn?.Value).toEqual({
      Ref: logicalId(stack, stack.producerPolicy),
    });
    expect(outputs.SsmParameters?.Value).toBe('/tappass/qa/PD_ROUTING_KEY');
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: { 'Fn::Join': ['', ['tappass-qa-', { Ref: 'AWS::Region' }, '-producer']] },
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['sqs:GetQueueUrl', 'sqs:SendMessage'],
            Resource: { 'Fn::GetAtt': [ingest, 'Arn'] },
          },
        ],
      },
    });
  });

  it('declares no parameter but the bootstrap version, so no value can be passed in', () => {
    // Prepare
    const { template } = synth;

    // Act
    const parameters = Object.keys(template.toJSON().Parameters ?? {});

    // Assess
    expect(parameters).toEqual(['BootstrapVersion']);
  });
});

describe('Class: TapPassWebhooksStack (alarm topic)', () => {
  it('notifies an encrypted, TLS-only topic of every alarm when an email is given', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT_YAML);

    // Act
    const { stack, template } = synthStack(config, { alarmEmail: 'oncall@example.com' });

    // Assess
    if (!stack.alarms.topic) throw new Error('no alarm topic');
    const topic = logicalId(stack, stack.alarms.topic);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'tappass-test-alarms',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: topic },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7 + 6);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }]);
    }
  });
});

describe('Class: TapPassWebhooksStack (stages side by side)', () => {
  it('puts the stage in every name, so two stages never collide in one account', async () => {
    // Prepare
    const config = await configFromYaml(ONE_EXPORT_YAML);
    const named: Record<string, string> = {
      'AWS::SQS::Queue': 'QueueName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::CloudWatch::Dashboard': 'DashboardName',
      'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
      'AWS::SNS::Topic': 'TopicName',
    };

    // Act
    const namesOf = (stage: string) => {
      const { stack, template } = synthStack(config, { stage, alarmEmail: 'a@example.com' });
      expect(stack.stackName).toBe(`TapPassWebhooks-${stage}`);
      return Object.entries(named).flatMap(([type, property]) =>
        Object.values(resourcesOfType(template, type)).map((r) => flatten(r.Properties[property])),
      );
    };
    const dev = namesOf('dev');
    const prod = namesOf('prod');

    // Assess
    expect(dev).toHaveLength(prod.length);
    for (const name of dev) expect(name).toMatch(/tappass-dev(-|$)/);
    for (const name of prod) expect(name).toMatch(/tappass-prod(-|$)/);
    expect(dev.filter((name) => prod.includes(name))).toEqual([]);
  });
});

describe('Class: TapPassWebhooksStack (many exports)', () => {
  it('never lets any queue redrive into the archive: byQueue up to ten exports, denyAll above', async () => {
    // Prepare
    const ten = await configFromYaml(manyExportsYaml(10));
    const eleven = await configFromYaml(manyExportsYaml(11));

    // Act
    const atTen = synthStack(ten);
    const atEleven = synthStack(eleven);

    // Assess
    const archiveOf = ({ stack, template }: ReturnType<typeof synthStack>) =>
      propertiesOf(template, 'AWS::SQS::Queue', logicalId(stack, stack.queues.archive));
    expect(archiveOf(atTen).RedriveAllowPolicy).toMatchObject({ redrivePermission: 'byQueue' });
    expect(archiveOf(atEleven).RedriveAllowPolicy).toEqual({ redrivePermission: 'denyAll' });
    for (const queues of atEleven.stack.queues.byExport.values()) {
      const dlq = propertiesOf(
        atEleven.template,
        'AWS::SQS::Queue',
        logicalId(atEleven.stack, queues.deadLetters),
      );
      expect(dlq.RedrivePolicy).toBeUndefined();
    }
    atEleven.template.resourceCountIs('AWS::SQS::Queue', 3 + 22);
  });
});
