/**
 * Every queue of one stage, wired as the pipeline runs (README "Pipeline"):
 *
 * ```
 * ingest ──redrive──▶ ingest DLQ               (invalid events are also parked there)
 * deliver-<export> ──redrive──▶ deliver-<export>-dlq ──redrive──▶ dead-letters (archive)
 * ```
 */
import { Duration } from 'aws-cdk-lib';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import { queueNames } from '../../shared/queueNames.js';
import {
  DEAD_LETTER_RETENTION_SECONDS,
  DLQ_MAX_RECEIVE_COUNT,
  deliveryVisibilityTimeoutFor,
  INGEST_MAX_RECEIVE_COUNT,
  maxReceiveCountFor,
  PLAIN_FUNCTION_TIMEOUT_SECONDS,
  SOURCE_RETENTION_SECONDS,
  visibilityTimeoutFor,
} from '../../shared/queueSettings.js';
import { SecureQueue } from './secureQueue.js';

/** Props of {@link PipelineQueues}. */
interface PipelineQueuesProps {
  readonly stage: string;
  readonly config: ObservabilityConfig;
}

/** The two queues of one export. */
interface ExportQueues {
  /** Consumed by the delivery function. */
  readonly delivery: Queue;
  /** Consumed by the dead-letter function; redrives into the archive. */
  readonly deadLetters: Queue;
}

const sourceRetention = Duration.seconds(SOURCE_RETENTION_SECONDS);
const deadLetterRetention = Duration.seconds(DEAD_LETTER_RETENTION_SECONDS);
const plainVisibility = Duration.seconds(visibilityTimeoutFor(PLAIN_FUNCTION_TIMEOUT_SECONDS));

/**
 * The queues of a stage.
 *
 * @example
 * const queues = new PipelineQueues(this, 'Queues', { stage: 'dev', config });
 * queues.byExport.get('pagerduty-alerts')?.delivery;
 */
class PipelineQueues extends Construct {
  readonly ingest: Queue;
  /** Ingest records that failed too often, and events the ingest function parked as invalid. */
  readonly ingestDeadLetters: Queue;
  /** The dead-letter archive: no consumer; the CLI lists, shows and redrives it. */
  readonly archive: Queue;
  /** Per export, in config order. */
  readonly byExport: ReadonlyMap<string, ExportQueues>;

  constructor(scope: Construct, id: string, props: PipelineQueuesProps) {
    super(scope, id);
    const names = queueNames(props.stage);
    const exportNames = props.config.exports.map((exportConfig) => exportConfig.name);

    this.ingestDeadLetters = new SecureQueue(this, 'IngestDeadLetters', {
      queueName: names.ingestDlq,
      retention: deadLetterRetention,
      redriveSourceNames: [names.ingest],
    }).queue;
    this.ingest = new SecureQueue(this, 'Ingest', {
      queueName: names.ingest,
      retention: sourceRetention,
      visibilityTimeout: plainVisibility,
      deadLetterQueue: { queue: this.ingestDeadLetters, maxReceiveCount: INGEST_MAX_RECEIVE_COUNT },
    }).queue;
    this.archive = new SecureQueue(this, 'Archive', {
      queueName: names.deadLetters,
      retention: deadLetterRetention,
      redriveSourceNames: exportNames.map((name) => names.deliveryDlq(name)),
    }).queue;

    const byExport = new Map<string, ExportQueues>();
    for (const exportConfig of props.config.exports) {
      const scopeOfExport = new Construct(this, `Export-${exportConfig.name}`);
      const deadLetters = new SecureQueue(scopeOfExport, 'DeadLetters', {
        queueName: names.deliveryDlq(exportConfig.name),
        retention: deadLetterRetention,
        visibilityTimeout: plainVisibility,
        deadLetterQueue: { queue: this.archive, maxReceiveCount: DLQ_MAX_RECEIVE_COUNT },
        redriveSourceNames: [names.delivery(exportConfig.name)],
      }).queue;
      const delivery = new SecureQueue(scopeOfExport, 'Delivery', {
        queueName: names.delivery(exportConfig.name),
        retention: sourceRetention,
        visibilityTimeout: Duration.seconds(
          deliveryVisibilityTimeoutFor(props.config, exportConfig),
        ),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: maxReceiveCountFor(exportConfig) },
      }).queue;
      byExport.set(exportConfig.name, { delivery, deadLetters });
    }
    this.byExport = byExport;
  }

  /** Every delivery queue, in config order. */
  get deliveryQueues(): Queue[] {
    return [...this.byExport.values()].map((queues) => queues.delivery);
  }

  /** Every delivery dead-letter queue, in config order. */
  get deliveryDeadLetterQueues(): Queue[] {
    return [...this.byExport.values()].map((queues) => queues.deadLetters);
  }

  /** Every queue of the stage. */
  get all(): Queue[] {
    return [
      this.ingest,
      this.ingestDeadLetters,
      this.archive,
      ...this.deliveryQueues,
      ...this.deliveryDeadLetterQueues,
    ];
  }
}

export type { ExportQueues, PipelineQueuesProps };
export { PipelineQueues };
