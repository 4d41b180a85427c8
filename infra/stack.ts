/**
 * The stack of one stage, generated from `observability.yaml`: the queues of the pipeline, the
 * three functions and what each may do, the alarms, the dashboard and the producer's policy.
 * Environment-agnostic (account and region come from the deploy), and it reads no environment
 * or context: everything arrives through its props.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ArnFormat,
  CfnOutput,
  Duration,
  NestedStack,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { APP_PREFIX, type FunctionRole, queueNamePatterns } from '../shared/sqs/queueNames.js';
// Re-exported below for bench/figures/sqsRequests.ts, which reads the memory from the stack.
import { FUNCTION_MEMORY_MB } from '../shared/sqs/queueSettings.js';
import { exportGroupOf, type StageLayout, stageLayout } from '../shared/sqs/stageLayout.js';
import {
  type EventSourceTopology,
  type StageTopology,
  stageTopology,
} from '../shared/sqs/topology.js';
import { PipelineAlarms } from './constructs/pipelineAlarms.js';
import {
  dashboardUrl,
  groupDashboardName,
  PipelineDashboard,
} from './constructs/pipelineDashboard.js';
import { PipelineFunction } from './constructs/pipelineFunction.js';
import { PipelineQueues } from './constructs/pipelineQueues.js';
import { producerStatements } from './producers.js';
import { RUNTIME_CONFIG_PATH, writeRuntimeConfigFile } from './runtimeConfigFile.js';
import { ssmParameterArns, ssmParameterNames, ssmParameterPrefix } from './secretParameters.js';
import { type TapPassWebhooksStackProps, validateStackProps } from './stackProps.js';

/** The repository root: the directory above this file's. */
const DEFAULT_PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The plain `StackProps` part of the props, with a description of the stage. */
const baseStackProps = (props: TapPassWebhooksStackProps): StackProps => {
  const { stage, config, alarmEmail, logRetention, projectRoot, removal, tracing, ...stackProps } =
    props;
  return {
    description: `TapPass webhooks, stage ${stage}: ships audit events to ${config.exports.length} webhook export(s)`,
    ...stackProps,
  };
};

/** What a function does with an SQS queue it consumes (`Queue.grantConsumeMessages`). */
const CONSUME_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];

/** An event source of the topology as CDK props. */
const eventSourceProps = (source: EventSourceTopology): SqsEventSourceProps => ({
  batchSize: source.batchSize,
  ...(source.maxBatchingWindowSeconds > 0
    ? { maxBatchingWindow: Duration.seconds(source.maxBatchingWindowSeconds) }
    : {}),
  ...(source.maxConcurrency === undefined ? {} : { maxConcurrency: source.maxConcurrency }),
  reportBatchItemFailures: source.reportBatchItemFailures,
});

/**
 * The stack name of a stage.
 *
 * @example
 * stackNameFor('prod'); // 'TapPassWebhooks-prod'
 */
const stackNameFor = (stage: string): string => `TapPassWebhooks-${stage}`;

/**
 * One stage of the pipeline.
 *
 * @example
 * const config = await loadConfigFile('config/observability.yaml');
 * new TapPassWebhooksStack(app, stackNameFor('dev'), { stage: 'dev', config });
 */
class TapPassWebhooksStack extends Stack {
  /** What the stack is built from: queues, event sources and functions of the stage. */
  readonly topology: StageTopology;
  readonly queues: PipelineQueues;
  readonly ingestFunction: PipelineFunction;
  readonly deliveryFunction: PipelineFunction;
  readonly deadLetterFunction: PipelineFunction;
  readonly alarms: PipelineAlarms;
  readonly dashboard: PipelineDashboard;
  readonly producerPolicy: ManagedPolicy;
  /** One template, or export groups in nested stacks (`shared/sqs/stageLayout.ts`). */
  readonly layout: StageLayout;
  /** The nested stack of each export group that has exports (empty in the single layout). */
  readonly exportGroups: ReadonlyMap<number, NestedStack>;

  /** @throws StackPropsError listing every problem of the props, before anything is built. */
  constructor(scope: Construct, id: string, props: TapPassWebhooksStackProps) {
    super(scope, id, baseStackProps(validateStackProps(props)));
    const { stage, config } = props;
    const prefix = `${APP_PREFIX}-${stage}`;
    const projectRoot = props.projectRoot ?? DEFAULT_PROJECT_ROOT;
    Tags.of(this).add('app', 'tappass-webhooks');
    Tags.of(this).add('stage', stage);

    this.topology = stageTopology(stage, config);
    const { functions } = this.topology;
    this.layout = stageLayout(config.exports.map((exportConfig) => exportConfig.name));
    const exportGroups = new Map<number, NestedStack>();
    this.exportGroups = exportGroups;
    // Split stages only: each export's resources in its group's nested stack, created on use.
    const exportScope =
      this.layout.kind === 'nested'
        ? (exportName: string): Construct => {
            const group = exportGroupOf(exportName);
            let nested = exportGroups.get(group);
            if (!nested) {
              nested = new NestedStack(this, `ExportGroup${group}`, {
                description: `TapPass webhooks, stage ${stage}: queues, event sources and alarms of export group ${group}`,
              });
              exportGroups.set(group, nested);
            }
            return nested;
          }
        : undefined;
    this.queues = new PipelineQueues(this, 'Queues', {
      topology: this.topology,
      removal: props.removal ?? 'retain',
      ...(exportScope ? { exportScope } : {}),
    });
    const queues = this.queues;
    for (const statement of producerStatements(config.producers ?? [], queues.ingest.queueArn)) {
      queues.ingest.addToResourcePolicy(statement);
    }

    const runtimeConfigFile = writeRuntimeConfigFile(config);
    const environment = {
      TAPPASS_STAGE: stage,
      TAPPASS_CONFIG_FILE: RUNTIME_CONFIG_PATH,
      TAPPASS_QUEUE_URL_BASE: `https://sqs.${this.region}.${this.urlSuffix}/${this.account}/`,
    };
    const common = {
      projectRoot,
      runtimeConfigFile,
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      tracing: props.tracing ?? false,
    };

    this.ingestFunction = new PipelineFunction(this, 'Ingest', {
      ...common,
      functionName: functions.ingest.name,
      description: `Validates audit events and fans them out to the export queues (stage ${stage})`,
      entry: join(projectRoot, 'lambdas', 'ingest.ts'),
      memorySize: functions.ingest.memoryMb,
      timeout: Duration.seconds(functions.ingest.timeoutSeconds),
      recursiveLoop: functions.ingest.recursiveLoop,
      environment,
    });
    this.deliveryFunction = new PipelineFunction(this, 'Delivery', {
      ...common,
      functionName: functions.delivery.name,
      description: `Renders and sends webhooks, retries and dead-letters (stage ${stage})`,
      entry: join(projectRoot, 'lambdas', 'delivery.ts'),
      memorySize: functions.delivery.memoryMb,
      timeout: Duration.seconds(functions.delivery.timeoutSeconds),
      recursiveLoop: functions.delivery.recursiveLoop,
      environment: {
        ...environment,
        TAPPASS_SECRETS: 'ssm',
        TAPPASS_SSM_PREFIX: ssmParameterPrefix(stage),
      },
    });
    this.deadLetterFunction = new PipelineFunction(this, 'DeadLetters', {
      ...common,
      functionName: functions.dlq.name,
      description: `Raises webhook.dlq events and archives dead letters (stage ${stage})`,
      entry: join(projectRoot, 'lambdas', 'dlq.ts'),
      memorySize: functions.dlq.memoryMb,
      timeout: Duration.seconds(functions.dlq.timeoutSeconds),
      recursiveLoop: functions.dlq.recursiveLoop,
      environment,
    });

    this.addEventSources();
    this.wireIngest();
    this.wireDelivery(props);
    this.wireDeadLetters();

    this.alarms = new PipelineAlarms(this, 'Alarms', {
      stage,
      config,
      queues,
      functions: {
        ingest: this.ingestFunction.function,
        delivery: this.deliveryFunction.function,
        dlq: this.deadLetterFunction.function,
      },
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
      ...(exportScope ? { exportScope } : {}),
    });
    const groups = this.layout.kind === 'nested' ? this.layout.groups : [];
    const groupsInUse = [...groups.entries()].filter(([, names]) => names.length > 0);
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      stage,
      config,
      queues,
      alarms: this.alarms,
      ...(this.layout.kind === 'nested'
        ? {
            part: {
              kind: 'stage' as const,
              groupDashboards: groupsInUse.map(([group]) => groupDashboardName(stage, group)),
            },
          }
        : {}),
    });
    for (const [group, exportNames] of groupsInUse) {
      const nested = exportGroups.get(group);
      if (!nested) continue;
      new PipelineDashboard(nested, 'Dashboard', {
        stage,
        config,
        queues,
        alarms: this.alarms,
        part: { kind: 'group', group, exportNames },
      });
    }

    this.producerPolicy = new ManagedPolicy(this, 'ProducerPolicy', {
      // IAM names are global to the account: the region keeps a stage deployable in two regions.
      managedPolicyName: `${prefix}-${this.region}-producer`,
      description: `Lets a producer push TapPass audit events onto the ${stage} ingest queue`,
      statements: [
        new PolicyStatement({
          sid: 'SendAuditEvents',
          actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
          resources: [queues.ingest.queueArn],
        }),
      ],
    });

    this.addOutputs(props);
  }

  /**
   * Every event source of the topology, on its function (which may then consume its queue):
   * ingest, one per export's delivery queue (its batch size, window and concurrency), one per
   * export's DLQ.
   */
  private addEventSources(): void {
    const functions: Record<FunctionRole, PipelineFunction> = {
      ingest: this.ingestFunction,
      delivery: this.deliveryFunction,
      dlq: this.deadLetterFunction,
    };
    for (const source of this.topology.eventSources) {
      const queue = this.queues.byName.get(source.queueName);
      if (!queue) {
        throw new Error(`event source of ${source.functionRole}: no queue ${source.queueName}`);
      }
      const target = functions[source.functionRole].function;
      if (this.layout.kind === 'single' || source.exportName === undefined) {
        target.addEventSource(new SqsEventSource(queue, eventSourceProps(source)));
        continue;
      }
      // Split stage: the mapping lives next to its queue, in the export group's nested stack,
      // and refers to the function (one parameter per function and group); the permission to
      // consume is granted by name pattern (consumeByPattern), not per queue across templates.
      const settings = eventSourceProps(source);
      new EventSourceMapping(
        Stack.of(queue),
        `${source.functionRole === 'delivery' ? 'Delivery' : 'DeadLetters'}Source-${source.exportName}`,
        {
          target,
          eventSourceArn: queue.queueArn,
          ...(settings.batchSize === undefined ? {} : { batchSize: settings.batchSize }),
          ...(settings.maxBatchingWindow ? { maxBatchingWindow: settings.maxBatchingWindow } : {}),
          ...(settings.maxConcurrency === undefined
            ? {}
            : { maxConcurrency: settings.maxConcurrency }),
          reportBatchItemFailures: settings.reportBatchItemFailures ?? false,
        },
      );
    }
    if (this.layout.kind === 'nested') this.consumeByPattern();
  }

  /** ARN of a stage queue (or name pattern) in this stack's account and region. */
  private queueArn(name: string): string {
    return this.formatArn({
      service: 'sqs',
      resource: name,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
  }

  /**
   * Split stages: the delivery function consumes every delivery queue of the stage, the
   * dead-letter function every delivery DLQ, named by pattern (`queueNamePatterns`).
   */
  private consumeByPattern(): void {
    const patterns = queueNamePatterns(this.topology.stage);
    const grant = (target: PipelineFunction, sid: string, pattern: string) => {
      target.role.addToPrincipalPolicy(
        new PolicyStatement({ sid, actions: CONSUME_ACTIONS, resources: [this.queueArn(pattern)] }),
      );
      this.acknowledgePattern(target, pattern);
    };
    grant(this.deliveryFunction, 'ConsumeDeliveryQueues', patterns.delivery);
    grant(this.deadLetterFunction, 'ConsumeDeliveryDeadLetters', patterns.deliveryDlq);
  }

  /** The cdk-nag acknowledgement of a queue name pattern on a function's role. */
  private acknowledgePattern(target: PipelineFunction, pattern: string): void {
    Validations.of(target.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${pattern}]`,
      reason:
        "Split stage (more exports than one template holds): the exports' queues live in nested stacks, so the functions' policies name them by the stage's queue name pattern instead of listing hundreds of ARNs across templates; the pattern matches only this stage's delivery queues or delivery DLQs (shared/sqs/queueNames.ts).",
    });
  }

  /** The ARNs of the delivery queues and of their DLQs, or their patterns in a split stage. */
  private exportQueueArns(): { delivery: string[]; deliveryDlq: string[] } {
    if (this.layout.kind === 'single') {
      return {
        delivery: this.queues.deliveryQueues.map((queue) => queue.queueArn),
        deliveryDlq: this.queues.deliveryDeadLetterQueues.map((queue) => queue.queueArn),
      };
    }
    const patterns = queueNamePatterns(this.topology.stage);
    return {
      delivery: [this.queueArn(patterns.delivery)],
      deliveryDlq: [this.queueArn(patterns.deliveryDlq)],
    };
  }

  /** Ingest: sends to every delivery queue and parks in its DLQ. */
  private wireIngest(): void {
    const { queues } = this;
    this.allowSend(this.ingestFunction, 'FanOutAndPark', [
      ...this.exportQueueArns().delivery,
      queues.ingestDeadLetters.queueArn,
    ]);
    if (this.layout.kind === 'nested') {
      this.acknowledgePattern(this.ingestFunction, queueNamePatterns(this.topology.stage).delivery);
    }
  }

  /**
   * Delivery: sends to its own queues (retries) and DLQs (dead letters), reads only the
   * parameters the exports reference.
   */
  private wireDelivery(props: TapPassWebhooksStackProps): void {
    const { queues } = this;
    // The ingest queue too: a paused export raises its webhook.export_paused event there.
    const exportQueues = this.exportQueueArns();
    this.allowSend(this.deliveryFunction, 'RetryAndDeadLetter', [
      ...exportQueues.delivery,
      ...exportQueues.deliveryDlq,
      queues.ingest.queueArn,
    ]);
    if (this.layout.kind === 'nested') {
      this.acknowledgePattern(
        this.deliveryFunction,
        queueNamePatterns(this.topology.stage).deliveryDlq,
      );
    }

    const parameterArns = ssmParameterArns(this, props.stage, props.config);
    if (parameterArns.length === 0) return;
    const role = this.deliveryFunction.role;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadWebhookSecrets',
        actions: ['ssm:GetParameters'],
        resources: parameterArns,
      }),
    );
    // SecureString values are decrypted by KMS on SSM's behalf. The key is the account's
    // aws/ssm key or one the operator chose, unknown at synth without a lookup; the conditions
    // confine the grant to decrypting these parameters, through SSM.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptWebhookSecretsViaSsm',
        actions: ['kms:Decrypt'],
        resources: [this.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
        conditions: {
          StringEquals: {
            'kms:ViaService': `ssm.${this.region}.${this.urlSuffix}`,
            'kms:EncryptionContext:PARAMETER_ARN': parameterArns,
          },
        },
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      reason:
        'kms:Decrypt for SecureString parameters: the key (aws/ssm or an operator-chosen key) is not known at synth without a lookup, and the grant is confined by kms:ViaService (SSM only) and kms:EncryptionContext:PARAMETER_ARN (only the parameters the exports reference).',
    });
  }

  /** Dead letters: raises events into ingest, archives. */
  private wireDeadLetters(): void {
    const { queues } = this;
    this.allowSend(this.deadLetterFunction, 'RaiseAndArchive', [
      queues.ingest.queueArn,
      queues.archive.queueArn,
    ]);
  }

  /** `sqs:SendMessage` (which also authorizes SendMessageBatch) on exactly these queues. */
  private allowSend(target: PipelineFunction, sid: string, queueArns: readonly string[]): void {
    target.role.addToPrincipalPolicy(
      new PolicyStatement({ sid, actions: ['sqs:SendMessage'], resources: [...queueArns] }),
    );
  }

  private addOutputs(props: TapPassWebhooksStackProps): void {
    const { queues } = this;
    new CfnOutput(this, 'IngestQueueUrl', {
      description: 'Producers send audit events (JSON, one or an array per message) here',
      value: queues.ingest.queueUrl,
    });
    new CfnOutput(this, 'IngestQueueArn', {
      description: 'ARN of the ingest queue, for producer IAM policies',
      value: queues.ingest.queueArn,
    });
    new CfnOutput(this, 'ProducerPolicyArn', {
      description: "Attach to a producer's role or user to let it send to the ingest queue",
      value: this.producerPolicy.managedPolicyArn,
    });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', {
      description: 'Invalid events parked by the ingest function, with the reason',
      value: queues.ingestDeadLetters.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterArchiveUrl', {
      description: 'Dead-lettered deliveries, kept 14 days (CLI: dlq list / show / redrive)',
      value: queues.archive.queueUrl,
    });
    const parameters = ssmParameterNames(props.stage, props.config);
    new CfnOutput(this, 'SsmParameters', {
      description: 'SecureString parameters to create before events flow (names only)',
      value: parameters.length > 0 ? parameters.join(', ') : 'none',
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'CloudWatch dashboard of this stage',
      value: dashboardUrl(this, this.dashboard.dashboard.dashboardName),
    });
    if (this.alarms.topic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'SNS topic every alarm of this stage notifies',
        value: this.alarms.topic.topicArn,
      });
    }
  }
}

export { FUNCTION_MEMORY_MB, stackNameFor, TapPassWebhooksStack };
