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
const localSqsClient = (endpoint: string): SQSClient =>
  new SQSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // Every event source holds a socket in a long poll; the SDK's default of 50 would starve
    // the sends and deletes of a local stack with several exports.
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 500 } },
  });

export type { EmbeddedSqsOptions, EmbeddedSqsServer };
export { LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClient, startEmbeddedSqs };
