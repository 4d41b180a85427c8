/**
 * Dollars per million deliveries at public list prices (see `./prices.ts`): this pipeline's SQS
 * requests and Lambda invocations as measured, next to EventBridge API destinations carrying the
 * same traffic (one event published per audit event, one API destination invocation per
 * delivery).
 */
import { PRICES } from './prices.js';

/** Measured traffic of a run. */
interface MeasuredTraffic {
  readonly deliveries: number;
  readonly events: number;
  /** SQS requests as billed (64 KiB chunks), producer included. */
  readonly sqsBilledRequests: number;
  readonly lambdaInvocations: number;
  /** Sum over invocations of billed duration (whole ms) x memory. */
  readonly lambdaGbSeconds: number;
}

interface PipelineCost {
  readonly sqs: number;
  readonly lambdaRequests: number;
  readonly lambdaCompute: number;
  readonly total: number;
}

/** This pipeline's cost per million deliveries. */
const pipelineCostPerMillion = (traffic: MeasuredTraffic): PipelineCost => {
  const scale = 1e6 / traffic.deliveries;
  const sqs = ((traffic.sqsBilledRequests * scale) / 1e6) * PRICES.sqsPerMillionRequests;
  const lambdaRequests =
    ((traffic.lambdaInvocations * scale) / 1e6) * PRICES.lambdaPerMillionRequests;
  const lambdaCompute = traffic.lambdaGbSeconds * scale * PRICES.lambdaArmPerGbSecond;
  return { sqs, lambdaRequests, lambdaCompute, total: sqs + lambdaRequests + lambdaCompute };
};

/** EventBridge API destinations' cost per million deliveries of the same traffic. */
const eventBridgeCostPerMillion = (traffic: MeasuredTraffic): number =>
  (traffic.events / traffic.deliveries) * PRICES.eventBridgePerMillionEvents +
  PRICES.eventBridgeApiDestinationsPerMillion;

/** GB-seconds of one invocation as Lambda bills it: duration rounded up to the millisecond. */
const gbSeconds = (durationMs: number, memoryMb: number): number =>
  (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);

export type { MeasuredTraffic, PipelineCost };
export { eventBridgeCostPerMillion, gbSeconds, pipelineCostPerMillion };
