/**
 * Which SQS the `push` and `dlq` commands talk to: the local stack's embedded server by default
 * (`npm start`, http://127.0.0.1:4566), any SQS-compatible endpoint with `--endpoint`, or AWS
 * with the standard credential chain for a deployed `--stage` or a `--queue-url`. Queue URLs
 * are looked up by name (GetQueueUrl), from the same `queueNames` the stack creates them with.
 */
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_PORT, LOCAL_STAGE } from '../local/constants.js';
import { localSqsClient } from '../local/sqsServer.js';
import { awsClientConfig } from '../shared/awsClientSettings.js';

/** Where the commands find queues. */
interface SqsTarget {
  readonly sqs: SQSClient;
  /** `local endpoint http://127.0.0.1:4566` or `AWS (eu-west-1)`, for messages. */
  readonly description: string;
  readonly local: boolean;
  /** The `--endpoint` (or the local stack's) when local. */
  readonly endpoint?: string;
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

/** Whether `text` is an absolute http(s) URL, the only kind an SQS client can talk to. */
const isHttpUrl = (text: string): boolean => {
  if (!URL.canParse(text)) return false;
  const { protocol, hostname } = new URL(text);
  return (protocol === 'http:' || protocol === 'https:') && hostname !== '';
};

/** `http(s)://host[:port]/path`: the shape of every SQS queue URL. */
const QUEUE_URL = /^https?:\/\/[^/\s?#]+\/[^\s]+$/;

/** Why the options cannot name an SQS target, checked before any client is built. */
const targetProblem = (options: SqsTargetOptions): string | undefined => {
  if (options.endpoint !== undefined && !isHttpUrl(options.endpoint)) {
    return `--endpoint ${JSON.stringify(options.endpoint)} is not an http(s) URL; for example --endpoint ${DEFAULT_LOCAL_ENDPOINT}`;
  }
  if (options.queueUrl !== undefined) {
    // A pattern, not URL parsing: local servers hand out URLs such as
    // http://sqs.us-east-1.127.0.0.1:4566/000000000000/name, which WHATWG URL parsing refuses
    // (a host ending in a number must be an IPv4 address) and the SDK takes.
    if (!QUEUE_URL.test(options.queueUrl)) {
      return `--queue-url ${JSON.stringify(options.queueUrl)} is not a queue URL; for example https://sqs.eu-west-1.amazonaws.com/123456789012/tappass-prod-ingest`;
    }
  }
  if (options.region !== undefined && !/^[a-z]{2}(-[a-z0-9]+){2,}$/.test(options.region)) {
    return `--region ${JSON.stringify(options.region)} is not an AWS region; for example --region eu-west-1`;
  }
  return undefined;
};

/** The target, or why the options cannot name one (one line, for stderr and exit code 2). */
type SqsTargetResult = { ok: true; target: SqsTarget } | { ok: false; message: string };

/**
 * The SQS client for the options: local with `--endpoint` or for the local stage (no
 * `--queue-url`), AWS otherwise. `sqs` replaces the client (tests). An endpoint or queue URL
 * that is not an http(s) URL is refused here, before the SDK turns it into `Invalid URL` or
 * `Region is missing`.
 *
 * @example
 * const resolved = sqsTarget({ stage: 'prod', region: 'eu-west-1' });
 * if (!resolved.ok) output.err(resolved.message);
 */
const sqsTarget = (options: SqsTargetOptions, sqs?: SQSClient): SqsTargetResult => {
  const problem = targetProblem(options);
  if (problem !== undefined) return { ok: false, message: problem };
  const stage = options.stage ?? LOCAL_STAGE;
  const local =
    options.endpoint !== undefined || (stage === LOCAL_STAGE && options.queueUrl === undefined);
  if (local) {
    const endpoint = options.endpoint ?? DEFAULT_LOCAL_ENDPOINT;
    const client = sqs ?? localSqsClient(endpoint);
    return {
      ok: true,
      target: {
        sqs: client,
        description: `local endpoint ${endpoint}`,
        endpoint,
        local: true,
        close: () => {
          if (!sqs) client.destroy();
        },
      },
    };
  }
  const region = options.region ?? regionOfQueueUrl(options.queueUrl);
  const client =
    sqs ?? new SQSClient(awsClientConfig('sqs', region === undefined ? {} : { region }));
  return {
    ok: true,
    target: {
      sqs: client,
      description: `AWS${region === undefined ? '' : ` (${region})`}`,
      local: false,
      close: () => {
        if (!sqs) client.destroy();
      },
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

/** The first line of an error message: SDK messages append hints on further lines. */
const firstLine = (text: string): string => text.split('\n', 1)[0]?.trim() ?? '';

/** The HTTP status an SDK error carries, from the parsed response or the raw one. */
const httpStatusOf = (error: unknown): number | undefined => {
  const { $metadata, $response } = error as {
    $metadata?: { httpStatusCode?: unknown };
    $response?: { statusCode?: unknown };
  };
  const status = $metadata?.httpStatusCode ?? $response?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

/**
 * A sentence for an SQS call that failed on a target, one line without SDK internals: nothing
 * listening, a server that is not SQS, no credentials, no region, or what SQS answered.
 */
const describeSqsError = (error: unknown, target: SqsTarget): string => {
  const codes = errorCodes(error);
  const message = error instanceof Error ? error.message : String(error);
  const where = target.endpoint ?? target.description;
  // The SDK wraps a non-Error cause ("AWS SDK error wrapper for Error: connect ECONNREFUSED").
  if (codes.includes('ECONNREFUSED') || /\bECONNREFUSED\b/.test(message)) {
    return target.local
      ? `no SQS server answers at ${where}: start the local stack with \`npm start\`, or pass --endpoint <url>`
      : `no SQS server answers on ${where}: check the network and the queue URL`;
  }
  if (codes.some((code) => code === 'ENOTFOUND' || code === 'EAI_AGAIN')) {
    return `the host of ${where} cannot be resolved: check --endpoint or --queue-url`;
  }
  if (codes.includes('CredentialsProviderError')) {
    return 'no AWS credentials: configure a profile or environment credentials (the standard credential chain)';
  }
  if (/region is missing/i.test(message)) return 'no AWS region: pass --region or set AWS_REGION';
  // A reply the SDK could not read as SQS: an HTML page, another service, a proxy.
  const status = httpStatusOf(error);
  const serviceError = typeof (error as { $fault?: unknown }).$fault === 'string';
  if (/\$response|Deserialization/.test(message) || (!serviceError && status !== undefined)) {
    const answered = status === undefined ? 'an answer' : `HTTP ${status}`;
    return `${where} is not an SQS endpoint: it sent ${answered} that is not an SQS response; check --endpoint`;
  }
  const code = codes.find((candidate) => candidate !== 'Error') ?? 'error';
  if (!serviceError) return `cannot reach SQS at ${where} (${code}): ${firstLine(message)}`;
  return `SQS on ${where} refused the request (${code.replace(/^AWS\.SimpleQueueService\./, '')}${status === undefined ? '' : `, HTTP ${status}`}): ${firstLine(message)}`;
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

export type { SqsTarget, SqsTargetOptions, SqsTargetResult };
export {
  DEFAULT_LOCAL_ENDPOINT,
  describeSqsError,
  QueueLookupError,
  queueUrlByName,
  regionOfQueueUrl,
  sqsTarget,
};
