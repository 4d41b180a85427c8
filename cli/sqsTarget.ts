/**
 * Which SQS the `push` and `dlq` commands talk to: the local stack's embedded server by default
 * (`npm start`, http://127.0.0.1:4566), any SQS-compatible endpoint with `--endpoint`, or AWS
 * with the standard credential chain for a deployed `--stage` or a `--queue-url`. Queue URLs
 * are looked up by name (GetQueueUrl), from the same `queueNames` the stack creates them with.
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_PORT, LOCAL_STAGE } from '../local/constants.js';
import { localSqsClient } from '../local/sqsServer.js';

/** Where the commands find queues. */
interface SqsTarget {
  readonly sqs: SQSClient;
  /** `local endpoint http://127.0.0.1:4566` or `AWS (eu-west-1)`, for messages. */
  readonly description: string;
  readonly local: boolean;
  /** The SQS client is the caller's; `close` leaves it alone. */
  close(): void;
}

/** Options naming the target. */
interface SqsTargetOptions {
  /** @default 'local' */
  readonly stage?: string;
  /** An SQS-compatible endpoint; implied (`http://127.0.0.1:4566`) for the local stage. */
  readonly endpoint?: string;
  readonly region?: string;
  /** A queue URL the target will be used with, to take the region from when none is given. */
  readonly queueUrl?: string;
}

/** The local stack's endpoint, as `npm start` prints it. */
const DEFAULT_LOCAL_ENDPOINT = `http://127.0.0.1:${DEFAULT_PORT}`;

/** `eu-west-1` from `https://sqs.eu-west-1.amazonaws.com/123456789012/name`. */
const regionOfQueueUrl = (queueUrl: string | undefined): string | undefined =>
  queueUrl === undefined
    ? undefined
    : /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1];

/**
 * The SQS client for the options: local with `--endpoint` or for the local stage (no
 * `--queue-url`), AWS otherwise. `sqs` replaces the client (tests).
 *
 * @example
 * const target = sqsTarget({ stage: 'prod', region: 'eu-west-1' });
 */
const sqsTarget = (options: SqsTargetOptions, sqs?: SQSClient): SqsTarget => {
  const stage = options.stage ?? LOCAL_STAGE;
  const local =
    options.endpoint !== undefined || (stage === LOCAL_STAGE && options.queueUrl === undefined);
  if (local) {
    const endpoint = options.endpoint ?? DEFAULT_LOCAL_ENDPOINT;
    const client = sqs ?? localSqsClient(endpoint);
    return {
      sqs: client,
      description: `local endpoint ${endpoint}`,
      local: true,
      close: () => {
        if (!sqs) client.destroy();
      },
    };
  }
  const region = options.region ?? regionOfQueueUrl(options.queueUrl);
  const client = sqs ?? new SQSClient(region === undefined ? {} : { region });
  return {
    sqs: client,
    description: `AWS${region === undefined ? '' : ` (${region})`}`,
    local: false,
    close: () => {
      if (!sqs) client.destroy();
    },
  };
};

/** A queue could not be found or reached; the message says what to do. */
class QueueLookupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueLookupError';
  }
}

const errorCodes = (error: unknown): string[] => {
  const codes: string[] = [];
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') codes.push(name);
    for (const member of (current as { errors?: unknown[] }).errors ?? []) {
      const memberCode = (member as { code?: unknown }).code;
      if (typeof memberCode === 'string') codes.push(memberCode);
    }
    current = cause;
  }
  return codes;
};

/**
 * A sentence for an SQS call that failed on a target: nothing listening locally, no
 * credentials, or the SDK's own message.
 */
const describeSqsError = (error: unknown, target: SqsTarget): string => {
  const codes = errorCodes(error);
  const message = error instanceof Error ? error.message : String(error);
  // The SDK wraps a non-Error cause ("AWS SDK error wrapper for Error: connect ECONNREFUSED").
  if (target.local && (codes.includes('ECONNREFUSED') || /\bECONNREFUSED\b/.test(message))) {
    return `no SQS server answers at ${target.description.replace('local endpoint ', '')}: start the local stack with \`npm start\`, or pass --endpoint <url>`;
  }
  if (codes.includes('CredentialsProviderError')) {
    return 'no AWS credentials: configure a profile or environment credentials (the standard credential chain)';
  }
  if (/region is missing/i.test(message)) return 'no AWS region: pass --region or set AWS_REGION';
  return `${error instanceof Error ? error.name : 'Error'}: ${message}`;
};

/**
 * The URL of a queue by name.
 *
 * @throws QueueLookupError saying whether the queue is missing or the server unreachable.
 * @example
 * const url = await queueUrlByName(target, queueNames('local').ingest);
 */
const queueUrlByName = async (target: SqsTarget, name: string): Promise<string> => {
  let url: string | undefined;
  try {
    url = (await target.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    const codes = errorCodes(error);
    if (codes.some((code) => /QueueDoesNotExist|NonExistentQueue/.test(code))) {
      const hint = target.local
        ? 'is `npm start` (with a config that has this queue) running there?'
        : 'is the stage deployed in this region?';
      throw new QueueLookupError(`queue ${name} does not exist on ${target.description}: ${hint}`, {
        cause: error,
      });
    }
    throw new QueueLookupError(describeSqsError(error, target), { cause: error });
  }
  if (!url) throw new QueueLookupError(`${target.description} returned no URL for queue ${name}`);
  return url;
};

export type { SqsTarget, SqsTargetOptions };
export {
  DEFAULT_LOCAL_ENDPOINT,
  describeSqsError,
  QueueLookupError,
  queueUrlByName,
  regionOfQueueUrl,
  sqsTarget,
};
