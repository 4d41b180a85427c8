/**
 * A Lambda `Context` for invoking handlers outside AWS: the local stack and the tests.
 * `getRemainingTimeInMillis` counts down from the function timeout like the real one, so the
 * handlers' deadline checks behave as they do on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

interface LambdaContextOptions {
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly memoryMb?: number;
  readonly region?: string;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/**
 * A context whose deadline is `timeoutMs` from now.
 *
 * @example
 * await handler(event, lambdaContext({ functionName: 'delivery', timeoutMs: 30_000 }));
 */
const lambdaContext = (options: LambdaContextOptions): Context => {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const region = options.region ?? 'us-east-1';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 256),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

export type { LambdaContextOptions };
export { lambdaContext };
