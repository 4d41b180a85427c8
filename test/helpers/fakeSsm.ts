/**
 * A small SSM Parameter Store on 127.0.0.1: the `GetParameters` action of the AWS JSON 1.1
 * protocol, as the real `@aws-sdk/client-ssm` speaks it (`POST /`, `X-Amz-Target:
 * AmazonSSM.GetParameters`, body `{ Names, WithDecryption }`). A process pointed at it with
 * `AWS_ENDPOINT_URL_SSM` reads its secrets here instead of from AWS. It records every call and
 * can refuse, throttle or hang the next ones, for fault-injection tests.
 *
 * Only `GetParameters` is served (the only action the functions call); any other target gets
 * SSM's answer to an unknown operation.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the fake answers a call instead of serving it. */
const SSM_FAULTS = {
  /** 400 `ThrottlingException`, which the SDK retries with backoff. */
  throttle: 'throttle',
  /** 500 `InternalServerError`, which the SDK retries. */
  internalError: 'internal-error',
  /** 400 `AccessDeniedException` (an IAM policy without the parameter), not retried. */
  accessDenied: 'access-denied',
  /** Reads the request and never answers (until {@link FakeSsm.close}). */
  hang: 'hang',
} as const;
type SsmFault = (typeof SSM_FAULTS)[keyof typeof SSM_FAULTS];

/** One request as the fake saw it. */
interface SsmCall {
  /** The `X-Amz-Target` header, e.g. `AmazonSSM.GetParameters`. */
  readonly target: string;
  /** `Names` of the body: full parameter paths. */
  readonly names: readonly string[];
  readonly withDecryption: boolean;
  /** The access key id of the request's SigV4 `Authorization` header; undefined if unsigned. */
  readonly accessKeyId: string | undefined;
  /** What it was answered: `parameters`, a fault, or `unknown-operation`. */
  readonly answer: 'parameters' | 'unknown-operation' | SsmFault;
}

/** Options of {@link startFakeSsm}. */
interface FakeSsmOptions {
  /** SecureString parameters by full path, e.g. `{ '/tappass/dev/PD_ROUTING_KEY': 'k' }`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** @default 'us-east-1' (in the ARNs it answers) */
  readonly region?: string;
}

/** A running fake. */
interface FakeSsm {
  /** `http://127.0.0.1:<port>`: the value of `AWS_ENDPOINT_URL_SSM`. */
  readonly url: string;
  /** Every call, in order of arrival. */
  readonly calls: readonly SsmCall[];
  /** The stored parameters; a test may add, change or delete one between calls. */
  readonly parameters: Map<string, string>;
  /** Answers the next `times` calls (default 1) with `fault` instead of serving them. */
  failNext(fault: SsmFault, times?: number): void;
  /** Destroys every connection (hanging ones included) and stops listening. */
  close(): Promise<void>;
}

/** What `Value` holds when `WithDecryption` is false: SSM returns the ciphertext then. */
const ENCRYPTED_PLACEHOLDER = 'AQICAHi-encrypted-by-kms';

const ERRORS: Record<Exclude<SsmFault, 'hang'>, { status: number; type: string }> = {
  throttle: { status: 400, type: 'ThrottlingException' },
  'internal-error': { status: 500, type: 'InternalServerError' },
  'access-denied': { status: 400, type: 'AccessDeniedException' },
};

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const answerJson = (response: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
};

/** `Credential=<key id>/<date>/<region>/ssm/aws4_request` of a SigV4 header. */
const accessKeyIdOf = (authorization: string | undefined): string | undefined =>
  authorization?.match(/Credential=([^/,\s]+)\//)?.[1];

/**
 * Starts the fake on an OS-assigned port.
 *
 * @example
 * const ssm = await startFakeSsm({ parameters: { '/tappass/dev/TOKEN': 's3cret' } });
 * // child env: AWS_ENDPOINT_URL_SSM=ssm.url
 * ssm.failNext('throttle', 2);
 * await ssm.close();
 */
const startFakeSsm = async (options: FakeSsmOptions = {}): Promise<FakeSsm> => {
  const region = options.region ?? 'us-east-1';
  const parameters = new Map(Object.entries(options.parameters ?? {}));
  const calls: SsmCall[] = [];
  const faults: SsmFault[] = [];
  const sockets = new Set<Socket>();

  const serveGetParameters = (
    response: ServerResponse,
    names: readonly string[],
    decrypt: boolean,
  ) => {
    const found = names.filter((name) => parameters.has(name));
    answerJson(response, 200, {
      Parameters: found.map((name) => ({
        Name: name,
        Type: 'SecureString',
        Value: decrypt ? parameters.get(name) : ENCRYPTED_PLACEHOLDER,
        Version: 1,
        LastModifiedDate: 1_767_225_600,
        ARN: `arn:aws:ssm:${region}:000000000000:parameter${name}`,
        DataType: 'text',
      })),
      InvalidParameters: names.filter((name) => !parameters.has(name)),
    });
  };

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    let input: { Names?: unknown; WithDecryption?: unknown } = {};
    try {
      input = JSON.parse(body || '{}') as typeof input;
    } catch {
      // A body that is not JSON is recorded with no names and answered like any other call.
    }
    const names = Array.isArray(input.Names) ? input.Names.map(String) : [];
    const withDecryption = input.WithDecryption === true;
    const accessKeyId = accessKeyIdOf(request.headers.authorization);
    const record = (answer: SsmCall['answer']) =>
      calls.push({ target, names, withDecryption, accessKeyId, answer });

    if (target !== 'AmazonSSM.GetParameters') {
      record('unknown-operation');
      answerJson(response, 400, {
        __type: 'UnknownOperationException',
        message: `the fake SSM serves AmazonSSM.GetParameters only, not ${target || 'an empty target'}`,
      });
      return;
    }
    const fault = faults.shift();
    if (fault === undefined) {
      record('parameters');
      serveGetParameters(response, names, withDecryption);
      return;
    }
    record(fault);
    if (fault === 'hang') return;
    const { status, type } = ERRORS[fault];
    answerJson(response, status, { __type: type, message: `fake SSM: ${fault}` });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    parameters,
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      server.close();
      await once(server, 'close');
    },
  };
};

export type { FakeSsm, FakeSsmOptions, SsmCall, SsmFault };
export { SSM_FAULTS, startFakeSsm };
