/**
 * Shared factories for the pipeline tests: the embedded SQS server with the real local pipeline
 * on it, audit events, a config from YAML text, a bounded wait, SQS call counting and queue
 * inspection. Everything runs on 127.0.0.1; nothing here sleeps for a fixed time to "let things
 * settle": waits poll a condition with a deadline.
 */
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { stringify } from 'yaml';
import {
  createPipelineQueues,
  LocalPipeline,
  type LocalPipelineOptions,
} from '../../local/pipeline.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { createHttpClient, type HttpClient } from '../../shared/transport/http.js';

/** One SQS API call seen by the client middleware. */
interface SqsCall {
  /** e.g. `SendMessageBatchCommand`. */
  readonly command: string;
  readonly queueUrl?: string;
  /** Entries of a batch command. */
  readonly entries?: number;
  /** `DelaySeconds` of a `SendMessageCommand`. */
  readonly delaySeconds?: number;
  /** `DelaySeconds` of each entry of a `SendMessageBatchCommand`. */
  readonly entryDelays?: readonly (number | undefined)[];
  /** `VisibilityTimeout` of a `ChangeMessageVisibilityCommand`. */
  readonly visibilityTimeout?: number;
  /** Message bodies sent by `SendMessage` / `SendMessageBatch`. */
  readonly bodies?: readonly string[];
}

const sentBodies = (input: Record<string, unknown>): string[] | undefined => {
  if (typeof input.MessageBody === 'string') return [input.MessageBody];
  if (!Array.isArray(input.Entries)) return undefined;
  const bodies = input.Entries.map((entry: { MessageBody?: unknown }) => entry.MessageBody).filter(
    (body): body is string => typeof body === 'string',
  );
  return bodies.length > 0 ? bodies : undefined;
};

/**
 * The delays of the messages a list of calls wrote, one per message, whether sent alone or in
 * a batch.
 */
const sentDelays = (calls: readonly SqsCall[]): (number | undefined)[] =>
  calls.flatMap((call) => call.entryDelays ?? [call.delaySeconds]);

/** Whether a call writes messages (`SendMessage` or `SendMessageBatch`). */
const isSend = (call: SqsCall): boolean =>
  call.command === 'SendMessageCommand' || call.command === 'SendMessageBatchCommand';

/**
 * Records every command sent through `sqs` (name, queue, batch size), in order.
 *
 * @example
 * const calls = recordSqsCalls(sqs);
 * // ...
 * calls.filter((call) => call.command === 'SendMessageCommand');
 */
const recordSqsCalls = (sqs: SQSClient): SqsCall[] => {
  const calls: SqsCall[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const bodies = sentBodies(input);
      calls.push({
        command: context.commandName ?? 'unknown',
        ...(typeof input.QueueUrl === 'string' ? { queueUrl: input.QueueUrl } : {}),
        ...(Array.isArray(input.Entries)
          ? {
              entries: input.Entries.length,
              entryDelays: input.Entries.map(
                (entry: { DelaySeconds?: number }) => entry.DelaySeconds,
              ),
            }
          : {}),
        ...(typeof input.DelaySeconds === 'number' ? { delaySeconds: input.DelaySeconds } : {}),
        ...(typeof input.VisibilityTimeout === 'number'
          ? { visibilityTimeout: input.VisibilityTimeout }
          : {}),
        ...(bodies === undefined ? {} : { bodies }),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordSqsCalls' },
  );
  return calls;
};

let eventCounter = 0;

/**
 * A valid audit event with a unique audit_id; `overrides` replace or add fields.
 *
 * @example
 * auditEvent({ event_kind: 'auth_fail', severity: 'warn' });
 */
const auditEvent = (overrides: Record<string, unknown> = {}): AuditEvent => {
  eventCounter += 1;
  return {
    audit_id: `ae_test_${process.pid}_${eventCounter}`,
    timestamp: '2026-04-17T10:15:03Z',
    event_kind: 'policy_block',
    severity: 'error',
    agent_id: 'support-bot',
    policy_result: { verdict: 'block', rule: 'no-pii' },
    ...overrides,
  };
};

/** `count` events from {@link auditEvent}; `overrides` may depend on the index. */
const auditEvents = (
  count: number,
  overrides: (index: number) => Record<string, unknown> = () => ({}),
): AuditEvent[] => Array.from({ length: count }, (_, index) => auditEvent(overrides(index)));

/** One export of a test config; unset fields keep the config defaults. */
interface ExportSpec {
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutSeconds?: number;
  readonly maxAttempts?: number;
  readonly backoffSeconds?: readonly number[];
  readonly eventKinds?: readonly string[];
  readonly batchSize?: number;
  readonly maxConcurrency?: number;
  /**
   * The export's failure-rate breaker. Tests that inject high failure rates to exercise
   * retries (chaos, kills) set `false`, as a breaker would rightly pause such a receiver.
   */
  readonly breaker?: false | Readonly<Record<string, number>>;
}

/**
 * The YAML text of a config with these exports, written like a user would.
 *
 * @example
 * exportsYaml([{ name: 'alerts', url: receiver.url, maxAttempts: 3, backoffSeconds: [0] }]);
 */
const exportsYaml = (exports: readonly ExportSpec[]): string =>
  stringify({
    exports: exports.map((spec) => ({
      name: spec.name,
      destination: 'webhook',
      webhook: {
        url: spec.url,
        ...(spec.headers ? { headers: { ...spec.headers } } : {}),
        ...(spec.timeoutSeconds === undefined ? {} : { timeout_seconds: spec.timeoutSeconds }),
      },
      ...(spec.eventKinds ? { filters: { event_kinds: [...spec.eventKinds] } } : {}),
      ...(spec.maxAttempts === undefined && spec.backoffSeconds === undefined
        ? {}
        : {
            retry: {
              ...(spec.maxAttempts === undefined ? {} : { max_attempts: spec.maxAttempts }),
              ...(spec.backoffSeconds ? { backoff_seconds: [...spec.backoffSeconds] } : {}),
            },
          }),
      ...(spec.batchSize === undefined && spec.maxConcurrency === undefined
        ? {}
        : {
            delivery: {
              ...(spec.batchSize === undefined ? {} : { batch_size: spec.batchSize }),
              ...(spec.maxConcurrency === undefined
                ? {}
                : { max_concurrency: spec.maxConcurrency }),
            },
          }),
      ...(spec.breaker === undefined ? {} : { breaker: spec.breaker }),
    })),
  });

/**
 * The config of a YAML text, with every default applied; throws with the issues when the text
 * is not a valid config (a test's own YAML is wrong).
 */
const configFromYaml = async (yaml: string): Promise<ObservabilityConfig> => {
  const parsed = await parseConfig(yaml, 'test.yaml');
  if (parsed.config === undefined || parsed.issues.length > 0) {
    throw new Error(`invalid test config:\n${parsed.issues.map(formatIssue).join('\n')}`);
  }
  return parsed.config;
};

interface WaitOptions {
  /** @default 20000 */
  readonly timeoutMs?: number;
  /** @default 50 */
  readonly intervalMs?: number;
  /** Says what was awaited when the deadline passes. */
  readonly what?: string;
}

/**
 * Polls `condition` until it holds (resolves with its truthy value) or the deadline passes
 * (rejects, naming what was awaited).
 *
 * @example
 * await waitUntil(() => receiver.requests.length >= 3, { what: '3 requests' });
 */
const waitUntil = async <T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<NonNullable<T>> => {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

/** Visible, in-flight and delayed messages of a queue, summed. */
const queueDepth = async (sqs: SQSClient, queueUrl: string): Promise<number> => {
  const response = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const attributes = response.Attributes ?? {};
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
};

/** A received message with its body parsed (when JSON) and its string attributes flattened. */
interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly json: unknown;
  readonly attributes: Readonly<Record<string, string>>;
}

const toQueuedMessage = (message: Message): QueuedMessage => {
  const body = message.Body ?? '';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return { messageId: message.MessageId ?? '', body, json, attributes };
};

/**
 * Receives every message currently visible on a queue that nothing consumes (the dead-letter
 * archive, the ingest DLQ), hiding each for a minute so that each is read once.
 */
const drainQueue = async (sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> => {
  const messages: QueuedMessage[] = [];
  for (;;) {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const batch = response.Messages ?? [];
    if (batch.length === 0) return messages;
    messages.push(...batch.map(toQueuedMessage));
  }
};

/**
 * Sends message bodies to a queue with `SendMessageBatch`, 10 at a time; throws if SQS
 * refuses any.
 */
const sendBodies = async (
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<string[]> => {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const chunk = bodies.slice(start, start + 10);
    const response = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((body, index) => ({ Id: `b${index}`, MessageBody: body })),
      }),
    );
    if ((response.Failed ?? []).length > 0) {
      throw new Error(`SQS refused test messages: ${JSON.stringify(response.Failed)}`);
    }
    const byId = new Map((response.Successful ?? []).map((entry) => [entry.Id, entry.MessageId]));
    for (let index = 0; index < chunk.length; index++) ids.push(byId.get(`b${index}`) ?? '');
  }
  return ids;
};

type NoticeOf<K extends PipelineNotice['type']> = Extract<PipelineNotice, { type: K }>;

/** Options of {@link startPipeline}: the config as YAML, plus LocalPipeline's knobs. */
interface PipelineHarnessOptions
  extends Partial<Omit<LocalPipelineOptions, 'sqs' | 'config' | 'notify' | 'http'>> {
  readonly yaml: string;
  /**
   * Called after the queues exist and before any event source polls, e.g. to enqueue events
   * that the first receive should see all at once.
   */
  readonly beforeStart?: (sqs: SQSClient, queues: QueueDirectory) => Promise<void>;
}

/** The running pipeline of one test, with what it observed. */
interface PipelineHarness {
  readonly server: EmbeddedSqsServer;
  readonly sqs: SQSClient;
  readonly config: ObservabilityConfig;
  readonly pipeline: LocalPipeline;
  readonly queues: QueueDirectory;
  /** Every notice, in order. */
  readonly notices: PipelineNotice[];
  /** Every SQS call of the pipeline and of the test (same client), in order. */
  readonly calls: SqsCall[];
  /** The notices of one type. */
  noticesOf<K extends PipelineNotice['type']>(type: K): NoticeOf<K>[];
  /** Sends events as one message each, or as JSON array bodies of `perMessage` events. */
  pushEvents(
    events: readonly unknown[],
    options?: { readonly perMessage?: number },
  ): Promise<string[]>;
  /** Sends raw message bodies to the ingest queue; returns their SQS message ids. */
  pushBodies(bodies: readonly string[]): Promise<string[]>;
  /**
   * Resolves once the ingest queue, every delivery queue and every delivery DLQ are empty
   * (nothing visible, in flight or delayed): every message has been handled to its end.
   */
  waitForIdle(options?: WaitOptions): Promise<void>;
  /** Reads (and hides) everything in the dead-letter archive. */
  drainArchive(): Promise<QueuedMessage[]>;
  /** Reads (and hides) everything in the ingest dead-letter queue. */
  drainIngestDlq(): Promise<QueuedMessage[]>;
  /** Stops the pipeline, closes its HTTP client and the SQS server; restores process.env. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded SQS server and the real local pipeline (three handlers, event source
 * emulator) for a YAML config. Polls every second by default; secrets come from an empty
 * environment unless given.
 *
 * @example
 * const harness = await startPipeline({ yaml, deliveryConcurrency: 2 });
 * await harness.pushEvents([auditEvent()]);
 * await harness.waitForIdle();
 * await harness.stop();
 */
const startPipeline = async (options: PipelineHarnessOptions): Promise<PipelineHarness> => {
  const savedEnv = { ...process.env };
  const { yaml, beforeStart, ...pipelineOptions } = options;
  const config = await configFromYaml(yaml);
  const server = await startEmbeddedSqs();
  const sqs = localSqsClient(server.endpoint);
  const calls = recordSqsCalls(sqs);
  const http: HttpClient = createHttpClient();
  const notices: PipelineNotice[] = [];
  let pipeline: LocalPipeline;
  try {
    if (beforeStart) {
      const queues = await createPipelineQueues(
        sqs,
        config,
        options.stage ?? 'local',
        options.visibilityTimeoutSeconds,
      );
      await beforeStart(sqs, queues);
    }
    pipeline = await LocalPipeline.start({
      pollWaitSeconds: 1,
      secrets: new EnvSecretResolver({}),
      ...pipelineOptions,
      sqs,
      config,
      http,
      notify: (notice) => notices.push(notice),
    });
  } catch (error) {
    await http.close();
    await server.stop();
    throw error;
  }
  const { queues } = pipeline;
  const watched = [
    queues.ingest,
    ...config.exports.flatMap(({ name }) => [queues.delivery(name), queues.deliveryDlq(name)]),
  ];
  let stopped = false;

  const pushBodies = (bodies: readonly string[]) => sendBodies(sqs, queues.ingest, bodies);

  return {
    server,
    sqs,
    config,
    pipeline,
    queues,
    notices,
    calls,
    noticesOf: <K extends PipelineNotice['type']>(type: K) =>
      notices.filter((notice): notice is NoticeOf<K> => notice.type === type),
    pushEvents: (events, pushOptions = {}) => {
      const perMessage = pushOptions.perMessage;
      if (perMessage === undefined) {
        return pushBodies(events.map((event) => JSON.stringify(event)));
      }
      const bodies: string[] = [];
      for (let start = 0; start < events.length; start += perMessage) {
        bodies.push(JSON.stringify(events.slice(start, start + perMessage)));
      }
      return pushBodies(bodies);
    },
    pushBodies,
    waitForIdle: async (waitOptions = {}) => {
      await waitUntil(
        async () => {
          const depths = await Promise.all(watched.map((url) => queueDepth(sqs, url)));
          return depths.every((depth) => depth === 0);
        },
        { intervalMs: 200, what: 'the pipeline queues to drain', ...waitOptions },
      );
    },
    drainArchive: () => drainQueue(sqs, queues.deadLetters),
    drainIngestDlq: () => drainQueue(sqs, queues.ingestDlq),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await pipeline.stop();
        await http.close();
        await server.stop();
        sqs.destroy();
      } finally {
        for (const name of Object.keys(process.env)) {
          if (!(name in savedEnv)) delete process.env[name];
        }
        Object.assign(process.env, savedEnv);
      }
    },
  };
};

/**
 * Cleanup actions registered as resources are created, run in reverse order by `run()`
 * (in `afterEach`/`afterAll`), so a failing test still closes its servers.
 */
const cleanupStack = () => {
  const actions: (() => Promise<void> | void)[] = [];
  return {
    /** Registers `action` and returns `resource` for chaining. */
    add<T>(resource: T, action: (resource: T) => Promise<void> | void): T {
      actions.push(() => action(resource));
      return resource;
    },
    async run(): Promise<void> {
      const errors: unknown[] = [];
      for (const action of actions.splice(0).reverse()) {
        try {
          await action();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
};

let recordCounter = 0;

/**
 * An SQS record in Lambda's format, for calling a pipeline step directly. Without a receipt
 * handle from a real receive, only steps that do not change its visibility can use it.
 *
 * @example
 * sqsRecord(JSON.stringify(event), { queueArn: 'arn:aws:sqs:us-east-1:000000000000:q' });
 */
const sqsRecord = (
  body: string,
  options: {
    readonly messageId?: string;
    readonly receiptHandle?: string;
    readonly queueArn?: string;
    readonly receiveCount?: number;
    /** String message attributes, as a Lambda event carries them. */
    readonly attributes?: Readonly<Record<string, string>>;
  } = {},
): SQSRecord => {
  recordCounter += 1;
  const now = String(Date.now());
  return {
    messageId: options.messageId ?? `record-${recordCounter}`,
    receiptHandle: options.receiptHandle ?? `receipt-${recordCounter}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: Object.fromEntries(
      Object.entries(options.attributes ?? {}).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:test-queue',
    awsRegion: 'us-east-1',
  };
};

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same sequence, so a
 * chaos run is reproducible.
 */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

export type {
  ExportSpec,
  PipelineHarness,
  PipelineHarnessOptions,
  QueuedMessage,
  SqsCall,
  WaitOptions,
};
export {
  auditEvent,
  auditEvents,
  cleanupStack,
  configFromYaml,
  drainQueue,
  exportsYaml,
  isSend,
  queueDepth,
  recordSqsCalls,
  seededRandom,
  sendBodies,
  sentDelays,
  sqsRecord,
  startPipeline,
  waitUntil,
};
