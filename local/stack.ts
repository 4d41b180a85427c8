/**
 * `npm start`: the whole pipeline on one machine. Starts the embedded SQS server, creates the
 * stage's queues, runs the real handlers, prints one line per delivery attempt, retry and dead
 * letter, and (with the demo config) pushes sample events through it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { configVariableNames } from '../shared/config/index.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import type { AuditEvent } from '../shared/events.js';
import { combineSinks, type NoticeSink } from '../shared/pipeline/notices.js';
import { sendMessages } from '../shared/queues.js';
import { EnvSecretResolver } from '../shared/secrets.js';
import { consoleSink } from './consoleSink.js';
import { LOCAL_STAGE } from './constants.js';
import { LocalPipeline } from './pipeline.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from './sqsServer.js';

/** Variables from a `.env` file (if present) under the process environment, which wins. */
const environmentWithDotEnv = (
  env: NodeJS.ProcessEnv,
  dotEnvPath: string,
): Record<string, string | undefined> => {
  if (!existsSync(dotEnvPath)) return { ...env };
  return { ...parseEnv(readFileSync(dotEnvPath, 'utf8')), ...env };
};

/** `${VAR}` names the config needs that have no value, per export. */
const missingVariables = (
  config: ObservabilityConfig,
  env: Readonly<Record<string, string | undefined>>,
): { exportName: string; variables: string[] }[] =>
  [...configVariableNames(config)]
    .map(([exportName, names]) => ({
      exportName,
      variables: names.filter((name) => !env[name]),
    }))
    .filter((entry) => entry.variables.length > 0);

interface LocalStackOptions {
  readonly config: ObservabilityConfig;
  /** Variable values (environment, .env, demo). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Keep queues and messages in SQLite under this directory across restarts. */
  readonly dataDir?: string;
  readonly write: (line: string) => void;
  readonly notify?: NoticeSink;
}

/** A running local stack. */
interface LocalStack {
  readonly endpoint: string;
  readonly ingestQueueUrl: string;
  readonly sqs: SQSClient;
  /** Pushes events onto the ingest queue, as a producer would (arrays of up to 50). */
  push(events: readonly AuditEvent[]): Promise<void>;
  /** Stops polling (in-flight deliveries finish), then the server. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded server and the pipeline.
 *
 * @example
 * const stack = await startLocalStack({ config, env: process.env, write: console.log });
 */
const startLocalStack = async (options: LocalStackOptions): Promise<LocalStack> => {
  let server: EmbeddedSqsServer;
  const port = options.port ?? 0;
  try {
    server = await startEmbeddedSqs({
      port,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${port} is in use: stop what runs there or pass --port <n>`, {
        cause: error,
      });
    }
    throw error;
  }
  const sqs = localSqsClient(server.endpoint);
  const printLines = consoleSink(options.write);
  const pipeline = await LocalPipeline.start({
    sqs,
    config: options.config,
    stage: LOCAL_STAGE,
    secrets: new EnvSecretResolver(options.env),
    notify: options.notify ? combineSinks(printLines, options.notify) : printLines,
  });
  return {
    endpoint: server.endpoint,
    ingestQueueUrl: pipeline.queues.ingest,
    sqs,
    push: async (events) => {
      const bodies: string[] = [];
      for (let i = 0; i < events.length; i += 50) {
        bodies.push(JSON.stringify(events.slice(i, i + 50)));
      }
      const outcome = await sendMessages(
        sqs,
        pipeline.queues.ingest,
        bodies.map((body, index) => ({ id: String(index), body })),
      );
      if (outcome.failed.length > 0) {
        throw new Error(`the ingest queue refused ${outcome.failed.length} message(s)`);
      }
    },
    stop: async () => {
      await pipeline.stop();
      await server.stop();
    },
  };
};

export type { LocalStack, LocalStackOptions };
export { environmentWithDotEnv, missingVariables, startLocalStack };
