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
import { type AuditEvent, EVENTS_PER_PACKED_MESSAGE } from '../shared/events/auditEvent.js';
import { combineSinks, type NoticeSink } from '../shared/observability/notices.js';
import { EnvSecretResolver } from '../shared/secrets/resolvers.js';
import { sendPacked } from '../shared/sqs/queues.js';
import { createHttpClient } from '../shared/transport/http.js';
import { guardedConnector } from '../shared/transport/networkGuard.js';
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
  /**
   * Visibility timeout of every queue instead of 6x the function timeout: how soon a record
   * that was in flight when the stack died is delivered again after a restart.
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Turn the SSRF guard on, as when deployed: exports without `allow_private_network: true`
   * may not reach loopback, private, link-local or metadata addresses. Off by default: the
   * local stack runs on the user's machine, where receivers are often on 127.0.0.1.
   */
  readonly blockPrivateNetwork?: boolean;
  readonly write: (line: string) => void;
  readonly notify?: NoticeSink;
}

/** A running local stack. */
interface LocalStack {
  readonly endpoint: string;
  readonly ingestQueueUrl: string;
  readonly sqs: SQSClient;
  /** Pushes events onto the ingest queue, as a producer should (packed into JSON arrays). */
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
  const guardedHttp = options.blockPrivateNetwork
    ? createHttpClient({ connect: guardedConnector() })
    : undefined;
  const pipeline = await LocalPipeline.start({
    sqs,
    config: options.config,
    stage: LOCAL_STAGE,
    secrets: new EnvSecretResolver(options.env),
    ...(guardedHttp === undefined ? {} : { guardedHttp }),
    notify: options.notify ? combineSinks(printLines, options.notify) : printLines,
    ...(options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
  });
  return {
    endpoint: server.endpoint,
    ingestQueueUrl: pipeline.queues.ingest,
    sqs,
    push: async (events) => {
      const outcome = await sendPacked(
        sqs,
        pipeline.queues.ingest,
        events.map((event) => ({
          name: `audit_id ${event.audit_id}`,
          json: JSON.stringify(event),
        })),
        { maxItems: EVENTS_PER_PACKED_MESSAGE },
      );
      if (!outcome.ok) throw new Error(outcome.message);
      if (outcome.failed.length > 0) {
        throw new Error(`the ingest queue refused ${outcome.failed.length} message(s)`);
      }
    },
    stop: async () => {
      await pipeline.stop();
      await guardedHttp?.close();
      await server.stop();
    },
  };
};

export type { LocalStack, LocalStackOptions };
export { environmentWithDotEnv, missingVariables, startLocalStack };
