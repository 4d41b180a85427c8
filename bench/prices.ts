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
} as const;

/** Memory of a function when the CDK stack does not say. */
const DEFAULT_MEMORY_MB = 256;

export { DEFAULT_MEMORY_MB, PRICES };
