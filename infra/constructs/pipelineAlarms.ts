/**
 * The alarms of one stage, and the optional SNS topic they notify. Built on SQS metrics, which
 * CloudWatch keeps per queue (so per stage and per export) whatever the functions emit.
 *
 * Per export:
 * - `dead-letters`: a delivery was dead-lettered (the export's DLQ received or holds messages).
 * - `delivery-stuck`: the oldest message of the delivery queue is older than the export's whole
 *   retry schedule plus 15 minutes.
 * - `paused`: the export's breaker paused it (the functions' `ExportPaused` metric). During a long
 *   pause, held copies are replaced by fresh ones, which resets the oldest-message age, so the
 *   stuck alarm alone could stay quiet.
 * Per stage:
 * - `ingest-parked`: events sit in the ingest DLQ (invalid events, or ingest failures).
 * - `ingest-stuck`: the oldest ingest record is older than 15 minutes.
 * - `dead-letters-expiring`: the archive holds a dead letter older than 10 days (SQS drops it at 14).
 * - `alerts-not-raised`: the dead-letter function gave up raising a dead letter's `webhook.dlq`
 *   (the ingest queue refused it on every receive up to the last); the dead letter is archived
 *   with `alert: not_raised`.
 * Per function (ingest, delivery, dlq), on Lambda's own metrics:
 * - `<role>-errors`: an invocation failed (threw, timed out, ran out of memory); records come
 *   back and, if it lasts, end in a DLQ with reason `redrive`.
 * - `<role>-throttles`: Lambda refused an invocation for lack of concurrency (the account's
 *   concurrency is shared: docs/deploying.md, "Concurrency").
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../shared/observability/observability.js';
import { APP_PREFIX, type FunctionRole, queueNames } from '../../shared/sqs/queueNames.js';
import {
  ARCHIVE_EXPIRY_WARNING_SECONDS,
  exportMetricDimensions,
  INGEST_STUCK_SECONDS,
  ingestMetric,
  MONITORING_PERIOD,
  stuckDeliveryAgeSeconds,
} from '../monitoring.js';
import type { PipelineQueues } from './pipelineQueues.js';

/** Props of {@link PipelineAlarms}. */
interface PipelineAlarmsProps {
  readonly stage: string;
  readonly config: ObservabilityConfig;
  readonly queues: PipelineQueues;
  /**
   * Address subscribed to the alarms (it must confirm the subscription).
   * @default no topic: alarms show in the console and on the dashboard only
   */
  readonly alarmEmail?: string;
  /**
   * The functions whose `Errors` and `Throttles` are watched.
   * @default none
   */
  readonly functions?: Readonly<Partial<Record<FunctionRole, IFunction>>>;
  /**
   * The construct an export's alarms are built under: its group's nested stack when the stage
   * is split (`shared/sqs/stageLayout.ts`).
   * @default this construct
   */
  readonly exportScope?: (exportName: string) => Construct;
}

/** The alarms of one function. */
interface FunctionAlarms {
  readonly errors: Alarm;
  readonly throttles: Alarm;
}

/** The alarms of one export. */
interface ExportAlarms {
  readonly deadLetters: Alarm;
  readonly deliveryStuck: Alarm;
  readonly paused: Alarm;
}

/** Messages a queue received or holds in the period: > 0 means something arrived there. */
const arrivals = (queue: Queue, label: string): MathExpression =>
  new MathExpression({
    expression: 'FILL(received, 0) + FILL(visible, 0)',
    usingMetrics: {
      received: queue.metricNumberOfMessagesReceived({
        statistic: 'Sum',
        period: MONITORING_PERIOD,
      }),
      visible: queue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: MONITORING_PERIOD,
      }),
    },
    period: MONITORING_PERIOD,
    label,
  });

const oldestAge = (queue: Queue) =>
  queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: MONITORING_PERIOD });

/**
 * The alarms of a stage.
 *
 * @example
 * new PipelineAlarms(this, 'Alarms', { stage, config, queues, alarmEmail: 'oncall@example.com' });
 */
class PipelineAlarms extends Construct {
  readonly byExport: ReadonlyMap<string, ExportAlarms>;
  readonly ingestParked: Alarm;
  readonly ingestStuck: Alarm;
  readonly deadLettersExpiring: Alarm;
  readonly alertsNotRaised: Alarm;
  readonly byFunction: ReadonlyMap<FunctionRole, FunctionAlarms>;
  /** Present when an alarm email was given. */
  readonly topic?: Topic;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const prefix = `${APP_PREFIX}-${props.stage}`;
    const names = queueNames(props.stage);
    const { queues } = props;

    const byExport = new Map<string, ExportAlarms>();
    for (const exportConfig of props.config.exports) {
      const exportQueues = queues.byExport.get(exportConfig.name);
      if (!exportQueues) continue;
      const name = exportConfig.name;
      const stuckSeconds = stuckDeliveryAgeSeconds(exportConfig);
      const scopeOfExport = props.exportScope?.(name) ?? this;
      byExport.set(name, {
        deadLetters: new Alarm(scopeOfExport, `DeadLetters-${name}`, {
          alarmName: `${prefix}-${name}-dead-letters`,
          alarmDescription: `Export "${name}" (stage ${props.stage}) dead-lettered at least one delivery: its retries ran out, the receiver refused it permanently, or the delivery function kept failing. A webhook.dlq event was raised for each; the dead letters are in the ${names.deadLetters} queue. List them with the CLI (dlq list), fix the cause, then redrive.`,
          metric: arrivals(exportQueues.deadLetters, `${name} dead letters`),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        deliveryStuck: new Alarm(scopeOfExport, `DeliveryStuck-${name}`, {
          alarmName: `${prefix}-${name}-delivery-stuck`,
          alarmDescription: `The oldest event waiting for export "${name}" (stage ${props.stage}) is older than its whole retry schedule plus 15 minutes (${stuckSeconds} s): the receiver is slow or asks for long Retry-After delays, the export's max_concurrency is too low for its traffic, or the delivery function is failing. Check the dashboard and the function's logs.`,
          metric: oldestAge(exportQueues.delivery),
          threshold: stuckSeconds,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        paused: new Alarm(scopeOfExport, `Paused-${name}`, {
          alarmName: `${prefix}-${name}-paused`,
          alarmDescription: `Export "${name}" (stage ${props.stage}) was paused by its failure-rate breaker (most recent attempts failed, or the receiver answered 410 Gone). Deliveries wait on the queue without spending attempts and resume by themselves when a probe succeeds. A webhook.export_paused event was raised. Check the receiver.`,
          metric: new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC_NAMES.exportsPaused,
            dimensionsMap: exportMetricDimensions(props.stage, name),
            statistic: 'Sum',
            period: MONITORING_PERIOD,
          }),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      });
    }
    this.byExport = byExport;

    this.ingestParked = new Alarm(this, 'IngestParked', {
      alarmName: `${prefix}-ingest-parked`,
      alarmDescription: `Events of stage ${props.stage} sit in the ingest dead-letter queue: producers sent invalid events (each message says why in its "reason" attribute), or ingest records failed repeatedly. Inspect them, fix the producer, then purge or redrive the queue; the alarm clears when it is empty.`,
      metric: queues.ingestDeadLetters.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: MONITORING_PERIOD,
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.ingestStuck = new Alarm(this, 'IngestStuck', {
      alarmName: `${prefix}-ingest-stuck`,
      alarmDescription: `The oldest record of stage ${props.stage}'s ingest queue is older than ${INGEST_STUCK_SECONDS / 60} minutes: the ingest function is failing or throttled. Check its logs and errors.`,
      metric: oldestAge(queues.ingest),
      threshold: INGEST_STUCK_SECONDS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.deadLettersExpiring = new Alarm(this, 'DeadLettersExpiring', {
      alarmName: `${prefix}-dead-letters-expiring`,
      alarmDescription: `The dead-letter archive of stage ${props.stage} holds a dead letter older than ${ARCHIVE_EXPIRY_WARNING_SECONDS / 86_400} days; SQS deletes it at 14. Redrive or export the dead letters (CLI: dlq list / dlq redrive) before they are lost.`,
      metric: oldestAge(queues.archive),
      threshold: ARCHIVE_EXPIRY_WARNING_SECONDS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.alertsNotRaised = new Alarm(this, 'AlertsNotRaised', {
      alarmName: `${prefix}-alerts-not-raised`,
      alarmDescription: `The dead-letter function of stage ${props.stage} gave up raising the webhook.dlq event of at least one dead letter: the ingest queue refused it on every receive for about a day. No export was alerted for it. The dead letters are in the ${names.deadLetters} queue with the attribute alert=not_raised (CLI: dlq list); the function's logs name each delivery_id. Fix the ingest queue, then act on each: dlq show gives its event and failure (dlq redrive replays the delivery, and a replay that dies again raises its own alert).`,
      metric: ingestMetric(
        props.stage,
        METRIC_NAMES.alertsNotRaised,
        'webhook.dlq alerts not raised',
      ),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const byFunction = new Map<FunctionRole, FunctionAlarms>();
    for (const [role, fn] of Object.entries(props.functions ?? {}) as [FunctionRole, IFunction][]) {
      const alarmOn = (kind: 'Errors' | 'Throttles', metric: Metric, description: string) =>
        new Alarm(this, `${kind}-${role}`, {
          alarmName: `${prefix}-${role}-${kind.toLowerCase()}`,
          alarmDescription: description,
          metric,
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        });
      byFunction.set(role, {
        errors: alarmOn(
          'Errors',
          fn.metricErrors({ statistic: 'Sum', period: MONITORING_PERIOD }),
          `The ${role} function of stage ${props.stage} failed at least one invocation (an uncaught error, a timeout or out of memory): its whole batch returns to the queue and, if it keeps failing, SQS moves the records to a dead-letter queue with reason redrive. Check the function's logs.`,
        ),
        throttles: alarmOn(
          'Throttles',
          fn.metricThrottles({ statistic: 'Sum', period: MONITORING_PERIOD }),
          `Lambda throttled the ${role} function of stage ${props.stage}: the account's concurrency (shared by every function of the region) ran out. Records wait on their queue and spend receives; lower the exports' max_concurrency or raise the account quota (docs/deploying.md, "Concurrency").`,
        ),
      });
    }
    this.byFunction = byFunction;

    if (props.alarmEmail !== undefined) {
      this.topic = this.createTopic(prefix, props.alarmEmail);
      const action = new SnsAction(this.topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }

  /** Every alarm of the stage: per export first, then the stage's own. */
  get alarms(): Alarm[] {
    return [...this.exportAlarms([...this.byExport.keys()]), ...this.stageAlarms];
  }

  /** The alarms of these exports, in the order given. */
  exportAlarms(exportNames: readonly string[]): Alarm[] {
    return exportNames.flatMap((name) => {
      const alarms = this.byExport.get(name);
      return alarms ? [alarms.deadLetters, alarms.deliveryStuck, alarms.paused] : [];
    });
  }

  /** The alarms of the stage itself and of its functions. */
  get stageAlarms(): Alarm[] {
    return [
      this.ingestParked,
      this.ingestStuck,
      this.deadLettersExpiring,
      this.alertsNotRaised,
      ...[...this.byFunction.values()].flatMap((alarms) => [alarms.errors, alarms.throttles]),
    ];
  }

  /**
   * An encrypted, TLS-only topic. Its key is a customer managed key because CloudWatch cannot
   * publish to a topic encrypted with the AWS managed `aws/sns` key (its policy cannot be edited).
   */
  private createTopic(prefix: string, email: string): Topic {
    const key = new Key(this, 'TopicKey', {
      description: `Encrypts the ${prefix}-alarms topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const topic = new Topic(this, 'Topic', {
      topicName: `${prefix}-alarms`,
      displayName: `TapPass webhooks ${prefix} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    topic.addSubscription(new EmailSubscription(email));
    return topic;
  }
}

export type { ExportAlarms, FunctionAlarms, PipelineAlarmsProps };
export { PipelineAlarms };
