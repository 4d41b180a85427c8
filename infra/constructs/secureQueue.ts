/**
 * An SQS queue with the pipeline's defaults: encrypted, TLS-only, a redrive allow policy that
 * names exactly the queues allowed to dead-letter into it, and an explicit retention.
 */
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  type IQueue,
  Queue,
  QueueEncryption,
  type QueueProps,
  type RedriveAllowPolicy,
  RedrivePermission,
} from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_REDRIVE_SOURCES } from '../../shared/sqs/topology.js';

/**
 * Defaults of every queue, kept apart from the builder so they read as one list:
 * SSE-SQS (no key to manage, no KMS calls to pay for or throttle), a deny-unless-TLS policy,
 * and the queue (with its messages) kept when CloudFormation deletes or replaces it: every
 * queue of the pipeline can hold events, pending retries or dead letters.
 */
const QUEUE_DEFAULTS = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies Partial<QueueProps>;

/** Props of {@link SecureQueue}. */
interface SecureQueueProps {
  /** Full queue name, from `queueNames(stage)`. */
  readonly queueName: string;
  /** How long SQS keeps a message. */
  readonly retention: Duration;
  /**
   * Visibility timeout; for a queue consumed by a function, 6 × its timeout.
   * @default 30 seconds (SQS's default)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Delay of every message sent to the queue.
   * @default none (SQS's default of 0)
   */
  readonly deliveryDelay?: Duration;
  /**
   * Where SQS moves a message received `maxReceiveCount` times without being deleted.
   * @default no dead-letter queue (the queue is itself a dead-letter queue)
   */
  readonly deadLetterQueue?: { readonly queue: IQueue; readonly maxReceiveCount: number };
  /**
   * Names of the queues that may use this one as their dead-letter queue. Names rather than
   * queue objects: referencing the sources would make each DLQ and its source depend on each
   * other in CloudFormation.
   * @default none: no queue may dead-letter into this one
   */
  readonly redriveSourceNames?: readonly string[];
  /**
   * `DeletionPolicy` and `UpdateReplacePolicy` of the queue. `RETAIN` keeps it, with its
   * messages, when a deploy removes it (an export removed or renamed) or the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** ARN of a queue of this stack's account and region, from its name (no resource reference). */
const queueArnFromName = (scope: Construct, queueName: string): string =>
  Stack.of(scope).formatArn({
    service: 'sqs',
    resource: queueName,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });

const redriveAllowPolicy = (
  scope: Construct,
  sourceNames: readonly string[],
): RedriveAllowPolicy => {
  if (sourceNames.length === 0) return { redrivePermission: RedrivePermission.DENY_ALL };
  // The topology gives no queue more sources than SQS can list (above that the DLQs do not
  // redrive into the archive); never fall back to allowAll.
  if (sourceNames.length > MAX_REDRIVE_SOURCES) {
    throw new Error(
      `${sourceNames.length} queues redrive into one queue; a redrive allow policy names at most ${MAX_REDRIVE_SOURCES}`,
    );
  }
  return {
    redrivePermission: RedrivePermission.BY_QUEUE,
    sourceQueues: sourceNames.map((name, index) =>
      Queue.fromQueueArn(scope, `RedriveSource${index}`, queueArnFromName(scope, name)),
    ),
  };
};

/**
 * A queue of the pipeline.
 *
 * @example
 * const dlq = new SecureQueue(this, 'IngestDlq', {
 *   queueName: names.ingestDlq,
 *   retention: Duration.seconds(DEAD_LETTER_RETENTION_SECONDS),
 *   redriveSourceNames: [names.ingest],
 * });
 */
class SecureQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      ...QUEUE_DEFAULTS,
      queueName: props.queueName,
      retentionPeriod: props.retention,
      ...(props.visibilityTimeout ? { visibilityTimeout: props.visibilityTimeout } : {}),
      ...(props.deliveryDelay ? { deliveryDelay: props.deliveryDelay } : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      redriveAllowPolicy: redriveAllowPolicy(this, props.redriveSourceNames ?? []),
      ...(props.removalPolicy === undefined ? {} : { removalPolicy: props.removalPolicy }),
    });
  }
}

export type { SecureQueueProps };
export { MAX_REDRIVE_SOURCES, QUEUE_DEFAULTS, SecureQueue };
