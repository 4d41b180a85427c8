/**
 * Timeouts and retries of every AWS SDK client the project creates (SQS, SSM, Lambda), in one
 * place. The SDK's defaults have no timeout at all: one hung call (a GetParameters that never
 * answers, a SendMessageBatch on a half-open connection) would wait until Lambda kills the
 * invocation, with nothing deferred and no backoff (issue 16). With these, a hung call fails
 * as a `TimeoutError`, the SDK retries it, and the caller gets an error it already handles.
 *
 * CloudWatch is not a client here: metrics are written as embedded metric format log lines.
 * The local stack's own SQS client (local/sqsServer.ts) is not either: it long-polls 20 s, as
 * Lambda's event source does, and talks to a server in the same machine.
 */

/** The services the project calls. */
type AwsService = 'sqs' | 'ssm' | 'lambda';

/** Limits of one service's calls. */
interface AwsCallLimits {
  /** Longest wait for the TCP + TLS connection. */
  readonly connectionTimeoutMs: number;
  /** Longest wait for one request and its whole response once connected. */
  readonly requestTimeoutMs: number;
  /** Tries of one call, the first included (the SDK's standard retry strategy). */
  readonly maxAttempts: number;
}

/**
 * SQS: a send or delete answers in tens of milliseconds; 3 s covers a slow region, a full
 * 1 MiB batch and the CLI's long polls (at most 1 s, shared/pipeline/deadLetters/archive.ts);
 * three tries bound a call at 14 s, within the 30 s of the shortest function. SSM:
 * GetParameters for 10 names is as fast; two tries, then the delivery is deferred with its own
 * backoff, so a store outage costs seconds per invocation, not the invocation. Lambda: only
 * the CLI's test invocation, which runs the delivery function once and may last as long as
 * its timeout (at most Lambda's 900 s); one try, since a retried invocation sends twice.
 */
const AWS_CALL_LIMITS: Readonly<Record<AwsService, AwsCallLimits>> = {
  sqs: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 3 },
  ssm: { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 2 },
  lambda: { connectionTimeoutMs: 2_000, requestTimeoutMs: 905_000, maxAttempts: 1 },
};

/**
 * The longest one call can take, every try timing out: what an invocation must leave room for.
 * The SDK waits at most a few hundred milliseconds between tries of a timeout (its standard
 * strategy starts at 100 ms and doubles); one second per pause is counted.
 */
const worstCaseCallMs = (limits: AwsCallLimits): number =>
  limits.maxAttempts * (limits.connectionTimeoutMs + limits.requestTimeoutMs) +
  (limits.maxAttempts - 1) * 1_000;

/**
 * Time a function keeps back after its last piece of work for the SQS write that records it:
 * one SQS call's worst case and a second. The delivery engine starts a send, and the ingest a
 * fan-out request, only with this much left, so an invocation is never cut between doing a
 * thing and recording it.
 */
const SQS_WRITE_MARGIN_MS = worstCaseCallMs(AWS_CALL_LIMITS.sqs) + 1_000;

/** What a client constructor takes: the region, retries and the request handler's timeouts. */
interface AwsClientConfig {
  readonly region?: string;
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    /** Without it the SDK only logs a warning when the request timeout passes. */
    readonly throwOnRequestTimeout: true;
    /**
     * The longest silence of the socket, the same as the request timeout: the request timeout
     * stops counting once the response headers arrived, so a body that stalls after them would
     * otherwise hold the call until the SDK's default of 15 minutes.
     */
    readonly socketTimeout: number;
  };
}

/**
 * The configuration of a client of `service`.
 *
 * @example
 * const sqs = new SQSClient(awsClientConfig('sqs'));
 * const lambda = new LambdaClient(awsClientConfig('lambda', { region, requestTimeoutMs: 65_000 }));
 */
const awsClientConfig = (
  service: AwsService,
  options: { readonly region?: string; readonly requestTimeoutMs?: number } = {},
): AwsClientConfig => {
  const limits = AWS_CALL_LIMITS[service];
  const requestTimeout = options.requestTimeoutMs ?? limits.requestTimeoutMs;
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs,
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  };
};

export type { AwsCallLimits, AwsClientConfig, AwsService };
export { AWS_CALL_LIMITS, awsClientConfig, SQS_WRITE_MARGIN_MS, worstCaseCallMs };
