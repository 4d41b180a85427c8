/**
 * Public list prices (US East, N. Virginia) used to turn request counts into dollars. They are
 * the AWS list prices as of 2026, without free tier; check the pricing pages before relying on
 * them: https://aws.amazon.com/sqs/pricing/, https://aws.amazon.com/lambda/pricing/,
 * https://aws.amazon.com/eventbridge/pricing/.
 */
const PRICES = {
  asOf: '2026 (public list prices, us-east-1, no free tier)',
  /** SQS standard queue, per million requests; each 64 KiB chunk of a payload is one request. */
  sqsPerMillionRequests: 0.4,
  sqsBillingChunkBytes: 64 * 1024,
  /** Lambda arm64 compute, per GB-second (first pricing tier). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** Lambda requests, per million invocations. */
  lambdaPerMillionRequests: 0.2,
  /** EventBridge custom events published (PutEvents), per million (64 KiB chunks). */
  eventBridgePerMillionEvents: 1.0,
  /** EventBridge API destinations, per million invocations. */
  eventBridgeApiDestinationsPerMillion: 0.2,
  /** CloudWatch standard-resolution alarm, per alarm metric per month (a math alarm pays per metric). */
  cloudWatchAlarmMetricPerMonth: 0.1,
  /** CloudWatch custom dashboard, per month (3 per account are free). */
  cloudWatchDashboardPerMonth: 3.0,
  /** CloudWatch Logs ingestion (standard class), per GB. */
  cloudWatchLogsIngestionPerGb: 0.5,
} as const;

/**
 * Where each price was read, and whether the stored AWS page showed the figure itself. The AWS
 * pricing pages render their tables with a script, so the stored copies show the structure
 * (what is billed, the free tier) but not every dollar figure; those are marked and come from
 * the third-party pages named.
 */
const PRICE_SOURCES = {
  sqsPerMillionRequests: {
    url: 'https://aws.amazon.com/sqs/pricing/',
    confirmed: false,
    note: '$0.40 per million standard requests, 64 KiB chunks, empty receives billed: read on https://aws.amazon.com/premiumsupport/knowledge-center/sqs-high-charges/ (empty receives billed) and third-party summaries (cloudburn.io, unanswered.io); the stored AWS pricing page did not show the figure.',
  },
  lambdaArmPerGbSecond: {
    url: 'https://aws.amazon.com/lambda/pricing/',
    confirmed: false,
    note: 'Arm $0.0000133334 per GB-s (first tier) and $0.20 per million requests: the stored AWS page shows the tiers but not the figures; figures from third-party summaries (cloudchipr.com).',
  },
  cloudWatchAlarmMetricPerMonth: {
    url: 'https://aws.amazon.com/cloudwatch/pricing/',
    confirmed: false,
    note: 'The stored AWS page confirms the unit ("10 Alarm metrics" free); $0.10 per standard alarm metric from third-party summaries (c3x.dev, cloudcostkit.com).',
  },
  cloudWatchDashboardPerMonth: {
    url: 'https://aws.amazon.com/cloudwatch/pricing/',
    confirmed: false,
    note: 'The stored AWS page confirms "3 Dashboards for up to 50 metrics per month" free; $3 per dashboard from third-party summaries (factualminds.com).',
  },
  cloudWatchLogsIngestionPerGb: {
    url: 'https://aws.amazon.com/cloudwatch/pricing/',
    confirmed: false,
    note: 'The stored AWS page confirms 5 GB free; $0.50 per GB ingested from third-party summaries (factualminds.com).',
  },
} as const;

/** Memory of a function when the CDK stack does not say. */
const DEFAULT_MEMORY_MB = 256;

export { DEFAULT_MEMORY_MB, PRICE_SOURCES, PRICES };
