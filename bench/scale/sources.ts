/**
 * The AWS facts the scale model rests on, each with the page it was read from. Prices are in
 * `../prices.ts`; this file holds behaviour and limits. A value marked `confirmed: false` could
 * not be read on the stored AWS page itself (the page renders it with a script, or the excerpt
 * did not show it) and comes from where `note` says: check it before relying on it.
 */

/** One sourced input of the model. */
interface Sourced<T> {
  readonly value: T;
  /** What the value is, in a few words, for the sources table of docs/scale.md. */
  readonly what: string;
  readonly url: string;
  /** False when the stored page did not show the value itself; `note` says where it is from. */
  readonly confirmed: boolean;
  readonly note?: string;
}

const LAMBDA_SQS_SCALING = 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html';
const SQS_MESSAGE_QUOTAS =
  'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html';

const SOURCES = {
  /**
   * "When traffic is low, Lambda scales back the processing to five concurrent batches, and can
   * optimize to as few as 2 concurrent batches ... this optimization is not available when you
   * enable the maximum concurrency setting." Every mapping of a stage sets MaximumConcurrency
   * (delivery: `delivery.max_concurrency`, DLQ: 2) except ingest.
   */
  idlePollersWithMaxConcurrency: {
    value: 5,
    what: 'concurrent batches (pollers) of an idle SQS event source mapping with maximum concurrency set',
    url: LAMBDA_SQS_SCALING,
    confirmed: true,
  },
  idlePollersWithoutMaxConcurrency: {
    value: 2,
    what: 'fewest concurrent batches of an idle mapping without maximum concurrency (the ingest mapping)',
    url: LAMBDA_SQS_SCALING,
    confirmed: true,
  },
  /** "The maximum long polling wait time is 20 seconds." */
  longPollSeconds: {
    value: 20,
    what: 'longest ReceiveMessage wait (long polling)',
    url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/best-practices-setting-up-long-polling.html',
    confirmed: true,
    note: 'Lambda says it "uses long polling" (services-sqs-scaling.html) but not with which wait; the model assumes the 20 s maximum, so an idle poller makes 3 receives a minute. A shorter wait would raise the at-rest figures in proportion.',
  },
  /** "increases the number of processes that are reading batches by up to 300 more instances per minute". */
  pollerRampPerMinute: {
    value: 300,
    what: 'concurrent batches Lambda adds per minute while messages are available',
    url: LAMBDA_SQS_SCALING,
    confirmed: true,
  },
  /** "The maximum number of batches that an event source mapping can process simultaneously is 1,000." */
  mappingMaxBatches: {
    value: 1000,
    what: 'concurrent batches of one event source mapping at most',
    url: LAMBDA_SQS_SCALING,
    confirmed: true,
  },
  /** ScalingConfig.MaximumConcurrency: Minimum 2, Maximum 1000. */
  maximumConcurrencyRange: {
    value: [2, 1000] as const,
    what: "bounds of an event source mapping's MaximumConcurrency",
    url: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-scalingconfig.html',
    confirmed: true,
  },
  /** Concurrent executions: default quota 1,000, can be increased to tens of thousands. */
  accountConcurrency: {
    value: 1000,
    what: 'Lambda concurrent executions per account and Region (default quota)',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    confirmed: true,
    note: 'New accounts start lower ("reduced concurrency ... quotas"); raised on request to tens of thousands.',
  },
  /** "At 1,769 MB, a function has the equivalent of one vCPU". */
  memoryPerVcpuMb: {
    value: 1769,
    what: 'function memory that buys one vCPU (CPU is proportional to memory)',
    url: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html',
    confirmed: true,
  },
  /** "A single message batch request can include a maximum of 10 messages." */
  batchEntries: {
    value: 10,
    what: 'messages per SendMessageBatch / DeleteMessageBatch / ReceiveMessage',
    url: SQS_MESSAGE_QUOTAS,
    confirmed: true,
  },
  /** "The total size of all messages sent in a single SendMessageBatch call cannot exceed 1,048,576 bytes (1 MiB)". */
  batchBytes: {
    value: 1_048_576,
    what: 'bytes per SendMessageBatch call (all entries together); also the largest message since 2025',
    url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-batch-api.html',
    confirmed: true,
    note: 'SQS raised the largest message from 256 KiB to 1 MiB (AWS Compute Blog, "More room to build: serverless services now support payloads up to 1 MB", https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb). The pipeline still caps an event at 200 KiB.',
  },
  /** ChangeMessageVisibility: "The maximum is 12 hours." */
  visibilityMaxSeconds: {
    value: 43_200,
    what: 'longest visibility timeout (ChangeMessageVisibility)',
    url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html',
    confirmed: false,
    note: 'Read in the API description as mirrored by SDK references (fig.io, paws); the stored AWS page itself was not among the results.',
  },
  /** "The maximum is 1,209,600 seconds (14 days)." */
  retentionMaxSeconds: {
    value: 1_209_600,
    what: 'longest message retention',
    url: SQS_MESSAGE_QUOTAS,
    confirmed: true,
  },
  /** "approximately 120,000 inflight messages" per standard queue. */
  inflightPerQueue: {
    value: 120_000,
    what: 'in-flight messages of one standard queue at most (approximately)',
    url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html',
    confirmed: false,
    note: 'Read in the ChangeMessageVisibility description as mirrored by SDK references; the stored AWS page itself was not among the results.',
  },
  /** DashboardBody: "an array of between 0 and 500 widget objects". */
  dashboardWidgets: {
    value: 500,
    what: 'widgets per CloudWatch dashboard at most',
    url: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html',
    confirmed: true,
  },
  /** Resources per CloudFormation stack. */
  stackResources: {
    value: 500,
    what: 'resources per CloudFormation stack',
    url: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html',
    confirmed: false,
    note: 'The stored quota page excerpt did not show the row; aws-cdk-lib enforces the same figure at synth ("Number of resources in stack ... is greater than allowed maximum of 500").',
  },
} as const satisfies Record<string, Sourced<unknown>>;

/** Seconds in the month the model prices (30 days). */
const MONTH_SECONDS = 30 * 86_400;

export type { Sourced };
export { MONTH_SECONDS, SOURCES };
