/**
 * Every queue of one stage, built from its topology (`shared/sqs/topology.ts`), wired as the
 * pipeline runs (README "Pipeline"):
 *
 * ```
 * ingest ──redrive──▶ ingest DLQ               (invalid events are also parked there)
 * deliver-<export> ──redrive──▶ deliver-<export>-dlq ──redrive──▶ dead-letters (archive)
 * ```
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  QUEUE_ROLES,
  type QueueTopology,
  redriveSourcesOf,
  SQS_QUEUE_DEFAULTS,
  type StageTopology,
} from '../../shared/sqs/topology.js';
import { SecureQueue, type SecureQueueProps } from './secureQueue.js';

/** Props of {@link PipelineQueues}. */
interface PipelineQueuesProps {
  /** The stage's topology (`stageTopology(stage, config)`): every queue is built from it. */
  readonly topology: StageTopology;
  /**
   * `retain` keeps every queue (and its messages) when CloudFormation deletes or replaces it;
   * `destroy` deletes them with the stage (throwaway stages).
   * @default 'retain'
   */
  readonly removal?: 'retain' | 'destroy';
  /**
   * The construct an export's queues are built under (inside an `Export-<name>` scope): a
   * nested stack of the export's group when the stage is split (`shared/sqs/stageLayout.ts`).
   * @default this construct (one template, the logical ids of every stage so far)
   */
  readonly exportScope?: (exportName: string) => Construct;
}

/** The two queues of one export. */
interface ExportQueues {
  /** Consumed by the delivery function. */
  readonly delivery: Queue;
  /** Consumed by the dead-letter function; redrives into the archive. */
  readonly deadLetters: Queue;
}

/** Construct ids of the stage-wide queues (they name the queues' logical ids: keep them). */
const STAGE_QUEUE_IDS = {
  [QUEUE_ROLES.ingest]: 'Ingest',
  [QUEUE_ROLES.ingestDlq]: 'IngestDeadLetters',
  [QUEUE_ROLES.archive]: 'Archive',
} as const;

/** Construct ids of an export's queues, under its `Export-<name>` scope. */
const EXPORT_QUEUE_IDS = {
  [QUEUE_ROLES.delivery]: 'Delivery',
  [QUEUE_ROLES.deliveryDlq]: 'DeadLetters',
} as const;

/**
 * The queue's attributes as SecureQueue props. Attributes left at SQS's defaults stay out of
 * the template, as they always have.
 */
const attributeProps = (
  spec: QueueTopology,
): Pick<SecureQueueProps, 'queueName' | 'retention' | 'visibilityTimeout' | 'deliveryDelay'> => ({
  queueName: spec.name,
  retention: Duration.seconds(spec.retentionSeconds),
  ...(spec.visibilityTimeoutSeconds === SQS_QUEUE_DEFAULTS.visibilityTimeoutSeconds
    ? {}
    : { visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds) }),
  ...(spec.delaySeconds === SQS_QUEUE_DEFAULTS.delaySeconds
    ? {}
    : { deliveryDelay: Duration.seconds(spec.delaySeconds) }),
});

/**
 * The queues of a stage, one per queue of its topology.
 *
 * @example
 * const queues = new PipelineQueues(this, 'Queues', { topology: stageTopology('dev', config) });
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
  /** Every queue by its name, in topology order. */
  readonly byName: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: PipelineQueuesProps) {
    super(scope, id);
    const { topology } = props;
    const byName = new Map<string, Queue>();
    const exportScopes = new Map<string, Construct>();

    for (const spec of topology.queues) {
      const redrive = spec.redrive;
      const deadLetterQueue = redrive ? byName.get(redrive.deadLetterQueue) : undefined;
      if (redrive && !deadLetterQueue) {
        throw new Error(
          `queue ${spec.name} redrives into ${redrive.deadLetterQueue}, which the topology does not list before it`,
        );
      }
      const queueProps: SecureQueueProps = {
        ...attributeProps(spec),
        ...(redrive && deadLetterQueue
          ? {
              deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: redrive.maxReceiveCount },
            }
          : {}),
        redriveSourceNames: redriveSourcesOf(topology, spec.name),
        removalPolicy: props.removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      };
      byName.set(
        spec.name,
        this.buildQueue(spec, queueProps, exportScopes, props.exportScope).queue,
      );
    }

    const named = (role: keyof typeof STAGE_QUEUE_IDS): Queue => {
      const spec = topology.queues.find((queue) => queue.role === role);
      const queue = spec && byName.get(spec.name);
      if (!queue) throw new Error(`the topology of stage ${topology.stage} has no ${role} queue`);
      return queue;
    };
    this.ingest = named(QUEUE_ROLES.ingest);
    this.ingestDeadLetters = named(QUEUE_ROLES.ingestDlq);
    this.archive = named(QUEUE_ROLES.archive);
    const archiveName = topology.queues.find((queue) => queue.role === QUEUE_ROLES.archive)?.name;
    if (archiveName !== undefined && redriveSourcesOf(topology, archiveName).length === 0) {
      // Above MAX_REDRIVE_SOURCES exports the DLQs cannot all be named as redrive sources, so
      // the archive is nobody's DLQ (topology.ts, deadLettersRedriveToArchive).
      Validations.of(this.archive).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'The dead-letter archive is itself the end of the dead-letter path: the dead-letter function writes to it. Above 10 exports no DLQ redrives into it (a redrive allow policy names at most 10 sources), and a queue with no consumer needs no DLQ of its own.',
      });
    }

    const byExport = new Map<string, ExportQueues>();
    for (const spec of topology.queues) {
      if (spec.role !== QUEUE_ROLES.delivery || spec.exportName === undefined) continue;
      const deadLetterName = spec.redrive?.deadLetterQueue;
      const delivery = byName.get(spec.name);
      const deadLetters = deadLetterName === undefined ? undefined : byName.get(deadLetterName);
      if (delivery && deadLetters) byExport.set(spec.exportName, { delivery, deadLetters });
    }
    this.byExport = byExport;
    this.byName = byName;
  }

  /**
   * The queue's construct: stage-wide queues directly under this one, an export's queues under
   * `Export-<name>`, as before the topology, so that logical ids stay the same.
   */
  private buildQueue(
    spec: QueueTopology,
    props: SecureQueueProps,
    exportScopes: Map<string, Construct>,
    exportScope: ((exportName: string) => Construct) | undefined,
  ): SecureQueue {
    if (spec.role === QUEUE_ROLES.delivery || spec.role === QUEUE_ROLES.deliveryDlq) {
      const exportName = spec.exportName ?? spec.name;
      let scopeOfExport = exportScopes.get(exportName);
      if (!scopeOfExport) {
        scopeOfExport = new Construct(exportScope?.(exportName) ?? this, `Export-${exportName}`);
        exportScopes.set(exportName, scopeOfExport);
      }
      return new SecureQueue(scopeOfExport, EXPORT_QUEUE_IDS[spec.role], props);
    }
    return new SecureQueue(this, STAGE_QUEUE_IDS[spec.role], props);
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
