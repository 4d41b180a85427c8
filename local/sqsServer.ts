/**
 * The embedded SQS-compatible server (fauxqs) on 127.0.0.1, and an SDK client pointed at it.
 * Used by the local stack, the CLI and the tests, so all of them talk real SQS API calls
 * through the real `@aws-sdk/client-sqs`.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp, startFauxqs } from 'fauxqs';

/** The region the local stack pretends to be in. */
const LOCAL_REGION = 'us-east-1';

/** Dummy credentials: the embedded server does not check them, the SDK insists on some. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

interface EmbeddedSqsServer {
  /** e.g. `http://127.0.0.1:4566` */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

interface EmbeddedSqsOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /**
   * Directory where the server keeps queues and messages in SQLite, so they survive a restart;
   * without it everything is in memory.
   */
  readonly dataDir?: string;
}

/**
 * Starts fauxqs on 127.0.0.1.
 *
 * @example
 * const server = await startEmbeddedSqs({ port: 4566 });
 * const sqs = localSqsClient(server.endpoint);
 */
const startEmbeddedSqs = async (options: EmbeddedSqsOptions = {}): Promise<EmbeddedSqsServer> => {
  const port = options.port ?? 0;
  if (options.dataDir !== undefined) {
    // fauxqs wires its SQLite persistence only in startFauxqs, which listens on every interface.
    const server = await startFauxqs({
      port,
      host: '127.0.0.1',
      logger: false,
      dataDir: options.dataDir,
    });
    return {
      endpoint: `http://127.0.0.1:${server.port}`,
      port: server.port,
      stop: () => server.stop(),
    };
  }
  // In memory: build the app ourselves so that it listens on loopback only.
  const app = buildApp({ host: '127.0.0.1', logger: false });
  const address = await app.listen({ port, host: '127.0.0.1' });
  const actualPort = Number(new URL(address).port);
  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    stop: () => app.close(),
  };
};

/** An SQS client for a local endpoint (the embedded server or any SQS-compatible one). */
const localSqsClient = (endpoint: string): SQSClient => {
  const client = new SQSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // Every idle event source holds a socket in a long poll (one per queue, see
    // local/eventSource.ts): 501 at the 250 exports a stage may have. Sends and deletes queue
    // behind them once the pool is full, so it has room for those and for the pollers that
    // join under load. docs/cli.md (start) has the measurements.
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 1000 } },
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as {
        MessageBody?: string;
        Entries?: { MessageBody?: string }[];
      };
      if (typeof input.MessageBody === 'string') {
        input.MessageBody = escapeAstralInJson(input.MessageBody);
      }
      for (const entry of input.Entries ?? []) {
        if (typeof entry.MessageBody === 'string') {
          entry.MessageBody = escapeAstralInJson(entry.MessageBody);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'escapeAstralInJson' },
  );
  return client;
};

const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;

/**
 * fauxqs 2.4.1 refuses characters outside the Basic Multilingual Plane (emoji), which SQS
 * accepts (fixed upstream, kibertoad/fauxqs#278, not yet released). In a JSON body they can be
 * written as `\uD83D\uDE00` escapes instead, which decode to the same value, so the local
 * stack carries emoji like AWS does. Other bodies are left alone.
 */
const escapeAstralInJson = (body: string): string => {
  ASTRAL.lastIndex = 0;
  if (!ASTRAL.test(body)) return body;
  try {
    JSON.parse(body);
  } catch {
    return body;
  }
  return body.replace(ASTRAL, (char) =>
    [...char]
      .flatMap((c) => {
        const code = c.codePointAt(0) ?? 0;
        const high = Math.floor((code - 0x10000) / 0x400) + 0xd800;
        const low = ((code - 0x10000) % 0x400) + 0xdc00;
        return [high, low];
      })
      .map((unit) => `\\u${unit.toString(16).padStart(4, '0')}`)
      .join(''),
  );
};

export type { EmbeddedSqsOptions, EmbeddedSqsServer };
export { escapeAstralInJson, LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClient, startEmbeddedSqs };
