/**
 * An SQS event source mapping with Lambda's semantics, for running the real handlers against an
 * SQS-compatible server: the local stack (`npm start`) and the integration tests use it.
 *
 * What it reproduces of Lambda's SQS poller:
 * - batches of up to `batchSize` records in Lambda's record format, at most `maxConcurrency`
 *   invocations at once;
 * - a batching window (`maxBatchingWindowMs`): once a first record is received, it keeps
 *   receiving until the batch is full or the window has passed (batches beyond SQS's 10 records
 *   per receive need one);
 * - the handler's partial batch response (`ReportBatchItemFailures`): listed records stay on the
 *   queue and come back after their visibility timeout, the others are deleted;
 * - a handler that throws, times out or returns an unusable response fails the whole batch;
 * - receive counts and redrive to a dead-letter queue are the server's own (queue attributes).
 * - recursive loop detection (`local/lineage.ts`): a record whose chain has invoked a function
 *   set to `Terminate` 16 times is moved to the queue's dead-letter queue, not handed to it.
 *
 * Batch size, batching window, concurrency and function timeout come from the stage topology
 * (`shared/sqs/topology.ts`, through {@link EventSourceMapping.fromTopology}), the same
 * description the CDK stack deploys.
 *
 * Polling is Lambda's: long polls of {@link LAMBDA_POLL_WAIT_SECONDS} (SQS's longest wait) for
 * up to 10 records, so an idle queue costs 3 receives a minute. Pollers scale with the backlog:
 * one while the queue is idle, one more per receive that finds records, up to the concurrency.
 * They invoke side by side but take turns to receive: one receive of a mapping waits on the
 * server at a time. The embedded server answers every waiting receive of a queue when a message
 * arrives, and those that lose the race come back empty; SQS keeps a waiting receive open until
 * a message is there for it. Taking turns keeps the emulator's empty receives to what SQS would
 * answer. Stopping ({@link EventSourceMapping.stopAll}) aborts the receives that wait, once no
 * invocation can send them a record, rather than waiting out their long polls.
 *
 * What it does not reproduce: Lambda scaling a mapping without `MaximumConcurrency` beyond
 * {@link UNLIMITED_POLLERS}, the function's memory (the handler runs in this process), and
 * throttles.
 */
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SQS_LIMITS } from '../shared/sqs/queues.js';
import {
  type EventSourceTopology,
  type FunctionTopology,
  LAMBDA_RECURSION_LIMIT,
  RECURSIVE_LOOP,
  type RecursiveLoopSetting,
} from '../shared/sqs/topology.js';
import { lambdaContext } from './lambdaContext.js';
import { lineageOf, mergeLineages, propagateLineage, runWithLineage } from './lineage.js';

/**
 * Pollers of a mapping without a concurrency limit. Lambda scales such a mapping with the
 * backlog; the emulator cannot, and runs this many.
 */
const UNLIMITED_POLLERS = 2;

/**
 * Long-poll wait of Lambda's SQS pollers: Lambda says it "uses long polling" without the wait;
 * this is the longest SQS allows, which makes an idle queue cheapest.
 */
const LAMBDA_POLL_WAIT_SECONDS = 20;

/** SQS's longest `WaitTimeSeconds`. */
const MAX_WAIT_SECONDS = 20;

/**
 * Longest wait of a receive that gathers records for a batching window. Such a receive is not
 * aborted when stopping (its batch is then invoked, and may send), so it ends on its own soon.
 */
const GATHER_WAIT_SECONDS = 1;

/** How often stopping looks whether the mappings are done. */
const STOP_CHECK_MS = 10;

/** A Lambda handler for SQS events with partial batch responses. */
type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly handler: SqsBatchHandler;
  readonly functionName: string;
  /** Records per invocation: 1-10, or up to 10,000 with a batching window. @default 10 */
  readonly batchSize?: number;
  /**
   * How long to keep gathering records for a batch that is not full yet (Lambda's
   * `MaximumBatchingWindowInSeconds`). @default 0
   */
  readonly maxBatchingWindowMs?: number;
  /**
   * Invocations at once (Lambda's `MaximumConcurrency`).
   * @default no limit, run as {@link UNLIMITED_POLLERS} pollers
   */
  readonly maxConcurrency?: number;
  /** The function timeout; an invocation past it counts as failed. @default 30000 */
  readonly functionTimeoutMs?: number;
  /** Long-poll wait per receive, 0-20. @default {@link LAMBDA_POLL_WAIT_SECONDS} */
  readonly waitTimeSeconds?: number;
  readonly region?: string;
  /** Called after each invocation, for logs and counters. */
  readonly onInvocation?: (outcome: InvocationOutcome) => void;
  /**
   * Lambda's recursive loop detection (`local/lineage.ts`): under `Terminate`, a record whose
   * chain has already invoked this function {@link LAMBDA_RECURSION_LIMIT} times is not
   * handed to it but moved to the queue's dead-letter queue (dropped without one).
   * @default 'Terminate', Lambda's default
   */
  readonly recursiveLoop?: RecursiveLoopSetting;
}

/** The options of a mapping that the topology sets: all but the queue, handler and polling. */
type TopologyKeys =
  | 'functionName'
  | 'batchSize'
  | 'maxBatchingWindowMs'
  | 'maxConcurrency'
  | 'functionTimeoutMs'
  | 'recursiveLoop';

/** Options of {@link EventSourceMapping.fromTopology}. */
interface TopologyMappingOptions extends Omit<EventSourceOptions, TopologyKeys> {
  /** The mapping as the topology describes it. */
  readonly source: EventSourceTopology;
  /** The function it invokes (its timeout). */
  readonly function: FunctionTopology;
}

/** What a running mapping does, for reports and the parity test. */
interface EventSourceSettings {
  readonly queueUrl: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly maxBatchingWindowMs: number;
  /** Absent: no limit, as on Lambda. */
  readonly maxConcurrency?: number;
  /** Pollers it runs: `maxConcurrency`, or {@link UNLIMITED_POLLERS} without one. */
  readonly pollers: number;
  readonly functionTimeoutMs: number;
}

/**
 * The mapping options a topology event source sets. The function is named by its role
 * (`ingest`, `delivery`, `dlq`), as local notices and logs show it.
 */
const topologyOptions = (
  source: EventSourceTopology,
  fn: FunctionTopology,
): Pick<EventSourceOptions, TopologyKeys> => ({
  functionName: fn.role,
  batchSize: source.batchSize,
  maxBatchingWindowMs: source.maxBatchingWindowSeconds * 1000,
  ...(source.maxConcurrency === undefined ? {} : { maxConcurrency: source.maxConcurrency }),
  functionTimeoutMs: fn.timeoutSeconds * 1000,
  recursiveLoop: fn.recursiveLoop,
});

interface InvocationOutcome {
  readonly functionName: string;
  readonly records: number;
  readonly failed: number;
  /** Set when the whole batch failed: the handler threw, timed out or answered badly. */
  readonly error?: string;
}

interface EventSourceStats {
  invocations: number;
  records: number;
  deleted: number;
  failedRecords: number;
  failedInvocations: number;
  /** Records recursive loop detection kept from the function (moved to the DLQ or dropped). */
  recursionStopped: number;
}

const toLambdaAttributes = (message: Message): SQSRecord['attributes'] => {
  const attributes = message.Attributes ?? {};
  return {
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
    SenderId: attributes.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp:
      attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
};

const toLambdaMessageAttributes = (message: Message): SQSRecord['messageAttributes'] =>
  Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? 'String',
        stringValue: value.StringValue,
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  );

/** Converts received messages into the record format Lambda hands to a function. */
const toSqsEvent = (messages: readonly Message[], queueArn: string, region: string): SQSEvent => ({
  Records: messages.map((message) => ({
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: toLambdaAttributes(message),
    messageAttributes: toLambdaMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  })),
});

class InvocationTimeoutError extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`${functionName} ran past its ${timeoutMs} ms timeout`);
    this.name = 'InvocationTimeoutError';
  }
}

/**
 * Polls one queue and invokes one handler, like a Lambda event source mapping.
 *
 * @example
 * const mapping = new EventSourceMapping({ sqs, queueUrl, handler, functionName: 'ingest' });
 * mapping.start();
 * // ...
 * await mapping.stop(); // in-flight invocations finish first
 */
class EventSourceMapping {
  readonly stats: EventSourceStats = {
    invocations: 0,
    records: 0,
    deleted: 0,
    failedRecords: 0,
    failedInvocations: 0,
    recursionStopped: 0,
  };
  readonly #options: Required<Omit<EventSourceOptions, 'onInvocation' | 'maxConcurrency'>> &
    Pick<EventSourceOptions, 'onInvocation' | 'maxConcurrency'>;
  /** Aborts the receive that waits for a first record; see {@link EventSourceMapping.stopAll}. */
  readonly #abortWaiting = new AbortController();
  /** Set by {@link EventSourceMapping.stopAll}: no poller takes a new turn to receive. */
  #stopping = false;
  /** Running pollers; each removes itself when it ends. */
  readonly #pollers = new Set<Promise<void>>();
  /** A poller holds the turn to receive: it is waiting on the server or gathering a batch. */
  #receiving = false;
  /** The poller holding the turn waits for a first record and holds none. */
  #waiting = false;
  #queueArn: string | undefined;

  constructor(options: EventSourceOptions) {
    this.#options = {
      batchSize: 10,
      maxBatchingWindowMs: 0,
      functionTimeoutMs: 30_000,
      waitTimeSeconds: LAMBDA_POLL_WAIT_SECONDS,
      region: 'us-east-1',
      recursiveLoop: RECURSIVE_LOOP.terminate,
      ...options,
    };
    propagateLineage(options.sqs, options.queueUrl);
  }

  /**
   * A mapping as the stage topology describes it: its batch size, batching window,
   * concurrency and function timeout.
   *
   * @example
   * const topology = stageTopology('local', config);
   * const [ingest] = topology.eventSources;
   * const mapping = EventSourceMapping.fromTopology({
   *   sqs, queueUrl, handler, source: ingest, function: topology.functions.ingest,
   * });
   */
  static fromTopology(options: TopologyMappingOptions): EventSourceMapping {
    const { source, function: fn, ...rest } = options;
    return new EventSourceMapping({ ...rest, ...topologyOptions(source, fn) });
  }

  /** What this mapping runs with. */
  get settings(): EventSourceSettings {
    const { queueUrl, functionName, batchSize, maxBatchingWindowMs, maxConcurrency } =
      this.#options;
    return {
      queueUrl,
      functionName,
      batchSize,
      maxBatchingWindowMs,
      ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
      pollers: maxConcurrency ?? UNLIMITED_POLLERS,
      functionTimeoutMs: this.#options.functionTimeoutMs,
    };
  }

  /**
   * Starts polling with one poller; more join while records are waiting, up to one per
   * concurrent invocation (see {@link EventSourceSettings.pollers}), and leave when they are
   * done invoking and another poller holds the turn to receive. An idle mapping so holds one
   * long poll, not `maxConcurrency` of them: with hundreds of exports, thousands of idle long
   * polls starved the sends (socket pool at capacity) and delayed a first delivery by seconds.
   */
  start(): void {
    if (this.#pollers.size > 0) return;
    this.#addPoller();
  }

  /** Stops polling, as {@link EventSourceMapping.stopAll} does for one mapping. */
  async stop(): Promise<void> {
    await EventSourceMapping.stopAll([this]);
  }

  /**
   * Stops mappings; resolves when every in-flight invocation (and received batch) is done.
   * First no mapping takes a new turn to receive, and invocations finish: a receive already
   * waiting stays open, since one function's invocation may send records to another's queue
   * (fan-out, retries, dead letters), and those are still handled. Once no mapping has been
   * busy for two checks in a row, the receives still waiting are aborted rather than waited out
   * (up to 20 s). The server may still hand such an abandoned receive a record that becomes
   * visible before its wait ends; that record comes back after its visibility timeout, as on
   * SQS when a client gives up on a long poll. Everywhere here, the server stops next.
   *
   * @example
   * await EventSourceMapping.stopAll(pipeline.mappings);
   */
  static async stopAll(mappings: readonly EventSourceMapping[]): Promise<void> {
    for (const mapping of mappings) mapping.#stopping = true;
    // A receive's answer may be on its way when the last invocation ends: look twice.
    for (let quietChecks = 0; quietChecks < 2; ) {
      await new Promise((resolve) => setTimeout(resolve, STOP_CHECK_MS));
      quietChecks = mappings.some((mapping) => mapping.#busy) ? 0 : quietChecks + 1;
    }
    for (const mapping of mappings) mapping.#abortWaiting.abort();
    for (const mapping of mappings) {
      while (mapping.#pollers.size > 0) await Promise.all([...mapping.#pollers]);
    }
  }

  /** An invocation runs, or a batch is being gathered: records may still come or go. */
  get #busy(): boolean {
    return this.#pollers.size > (this.#waiting ? 1 : 0);
  }

  /** Pollers running now, for tests and reports: 1 when idle, up to `settings.pollers`. */
  get activePollers(): number {
    return this.#pollers.size;
  }

  #addPoller(): void {
    const poller: Promise<void> = this.#poll().finally(() => this.#pollers.delete(poller));
    this.#pollers.add(poller);
  }

  async #arn(): Promise<string> {
    if (this.#queueArn === undefined) {
      const response = await this.#options.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#options.queueUrl,
          AttributeNames: ['QueueArn'],
        }),
      );
      this.#queueArn = response.Attributes?.QueueArn ?? this.#options.queueUrl;
    }
    return this.#queueArn;
  }

  /**
   * Receives while no other poller does, and invokes with what it got; leaves when it finds
   * another poller receiving. A poller with a batch hands the turn on, to a poller that joins
   * (up to the mapping's concurrency) or to the first that finishes invoking.
   */
  async #poll(): Promise<void> {
    while (!this.#stopping && !this.#receiving) {
      const batch = await this.#nextBatch();
      if (batch.length === 0) continue;
      // Records are waiting: another poller joins to receive, up to the mapping's concurrency.
      if (this.#pollers.size < this.settings.pollers && !this.#stopping) this.#addPoller();
      // Received is in flight: a batch that arrives while stopping is still handled, so that
      // stopping leaves nothing invisible behind.
      await this.#invoke(batch);
    }
  }

  /**
   * Holds the turn to receive for one batch: a long poll, then the batching window. Empty
   * when the poll found nothing or failed.
   */
  async #nextBatch(): Promise<Message[]> {
    this.#receiving = true;
    this.#waiting = true;
    try {
      const first = await this.#receive(
        this.#options.batchSize,
        this.#options.waitTimeSeconds,
        this.#abortWaiting.signal,
      );
      this.#waiting = false;
      return first.length === 0 ? first : await this.#fill(first);
    } catch {
      this.#waiting = false;
      // Stopped (the receive was aborted), or the server is briefly unreachable: back off a
      // little instead of spinning.
      if (!this.#stopping) await new Promise((resolve) => setTimeout(resolve, 200));
      return [];
    } finally {
      this.#receiving = false;
    }
  }

  /** One receive of up to `wanted` records (SQS hands out at most 10 at a time). */
  async #receive(
    wanted: number,
    waitTimeSeconds: number,
    abortSignal?: AbortSignal,
  ): Promise<Message[]> {
    const response = await this.#options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#options.queueUrl,
        MaxNumberOfMessages: Math.min(wanted, SQS_LIMITS.entriesPerBatch),
        WaitTimeSeconds: Math.min(waitTimeSeconds, MAX_WAIT_SECONDS),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      abortSignal ? { abortSignal } : {},
    );
    return response.Messages ?? [];
  }

  /**
   * The batching window: gathers more records until the batch is full or the window ends. It
   * long-polls in whole seconds (at most {@link GATHER_WAIT_SECONDS} each) while a whole second
   * of the window is left; the rest of a second it sleeps through, then takes what arrived with
   * one short poll. The window so lasts its length, with at most one empty receive at its end.
   * Stopping ends the gathering.
   */
  async #fill(first: Message[]): Promise<Message[]> {
    const { batchSize, maxBatchingWindowMs } = this.#options;
    const messages = [...first];
    const deadline = Date.now() + maxBatchingWindowMs;
    while (messages.length < batchSize && !this.#stopping) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      const lastPart = remainingMs < 1000;
      if (lastPart) await new Promise((resolve) => setTimeout(resolve, remainingMs));
      const waitSeconds = lastPart
        ? 0
        : Math.min(Math.floor(remainingMs / 1000), GATHER_WAIT_SECONDS);
      try {
        messages.push(...(await this.#receive(batchSize - messages.length, waitSeconds)));
      } catch {
        // The server failed: invoke with what was gathered.
        break;
      }
      if (lastPart) break;
    }
    return messages;
  }

  async #invoke(received: readonly Message[]): Promise<void> {
    const { functionName, functionTimeoutMs, handler, region } = this.#options;
    let queueArn: string;
    try {
      queueArn = await this.#arn();
    } catch {
      // No ARN, no invocation: the batch comes back after its visibility timeout.
      return;
    }
    const messages = await this.#withoutRecursion(received);
    if (messages.length === 0) return;
    const lineage = mergeLineages(messages.map((message) => lineageOf(message.MessageAttributes)));
    const event = toSqsEvent(messages, queueArn, region);
    const context = lambdaContext({ functionName, timeoutMs: functionTimeoutMs, region });
    this.stats.invocations++;
    this.stats.records += messages.length;
    let failedIds: Set<string>;
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new InvocationTimeoutError(functionName, functionTimeoutMs)),
          functionTimeoutMs,
        );
      });
      const response = await Promise.race([
        runWithLineage(lineage, functionName, () => handler(event, context)),
        timeout,
      ]);
      failedIds = this.#failedIds(event, response);
    } catch (caught) {
      // Lambda's rule: a failed invocation leaves every record of the batch on the queue.
      error = caught instanceof Error ? caught.message : String(caught);
      failedIds = new Set(event.Records.map((record) => record.messageId));
      this.stats.failedInvocations++;
    } finally {
      clearTimeout(timer);
    }
    this.stats.failedRecords += failedIds.size;
    await this.#deleteSucceeded(messages, failedIds);
    this.#options.onInvocation?.({
      functionName,
      records: messages.length,
      failed: failedIds.size,
      ...(error === undefined ? {} : { error }),
    });
  }

  /**
   * Lambda's recursive loop detection: under `Terminate`, records whose chain has invoked this
   * function {@link LAMBDA_RECURSION_LIMIT} times already are not handed to it; each goes to
   * the queue's dead-letter queue (or is dropped without one). Returns the others.
   */
  async #withoutRecursion(messages: readonly Message[]): Promise<Message[]> {
    const { functionName, recursiveLoop } = this.#options;
    if (recursiveLoop === RECURSIVE_LOOP.allow) return [...messages];
    const kept: Message[] = [];
    for (const message of messages) {
      const invocations = lineageOf(message.MessageAttributes).get(functionName) ?? 0;
      if (invocations < LAMBDA_RECURSION_LIMIT) {
        kept.push(message);
        continue;
      }
      try {
        await this.#stopRecursion(message);
        this.stats.recursionStopped++;
      } catch {
        // Not moved: it comes back after its visibility timeout and is stopped again.
      }
    }
    return kept;
  }

  /** Moves a stopped record to the queue's redrive target, or drops it without one. */
  async #stopRecursion(message: Message): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    const deadLetterUrl = await this.#deadLetterUrl();
    if (deadLetterUrl !== undefined) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deadLetterUrl,
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
        }),
      );
    }
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }

  /** URL of the queue's redrive target, from its `RedrivePolicy`; undefined without one. */
  async #deadLetterUrl(): Promise<string | undefined> {
    const { sqs, queueUrl } = this.#options;
    const response = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const policy = response.Attributes?.RedrivePolicy;
    if (!policy) return undefined;
    const arn = String(
      (JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn,
    );
    const name = arn.slice(arn.lastIndexOf(':') + 1);
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  }

  /** The failed record ids of a partial batch response; an unusable response fails them all. */
  #failedIds(event: SQSEvent, response: SQSBatchResponse | undefined): Set<string> {
    const all = new Set(event.Records.map((record) => record.messageId));
    const failures = response?.batchItemFailures ?? [];
    const failed = new Set<string>();
    for (const failure of failures) {
      // Lambda treats an empty or unknown identifier as a failure of the whole batch.
      if (!failure.itemIdentifier || !all.has(failure.itemIdentifier)) return all;
      failed.add(failure.itemIdentifier);
    }
    return failed;
  }

  async #deleteSucceeded(messages: readonly Message[], failedIds: ReadonlySet<string>) {
    const entries = messages
      .filter((message) => !failedIds.has(message.MessageId ?? ''))
      .map((message, index) => ({ Id: `d${index}`, ReceiptHandle: message.ReceiptHandle ?? '' }));
    // DeleteMessageBatch takes 10 entries; batches with a batching window hold up to 10,000.
    for (let start = 0; start < entries.length; start += SQS_LIMITS.entriesPerBatch) {
      const chunk = entries.slice(start, start + SQS_LIMITS.entriesPerBatch);
      try {
        const response = await this.#options.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries: chunk }),
        );
        this.stats.deleted += chunk.length - (response.Failed?.length ?? 0);
      } catch {
        // Not deleted means delivered again after the visibility timeout: at-least-once, as on
        // AWS.
      }
    }
  }
}

export type {
  EventSourceOptions,
  EventSourceSettings,
  EventSourceStats,
  InvocationOutcome,
  SqsBatchHandler,
  TopologyMappingOptions,
};
export {
  EventSourceMapping,
  LAMBDA_POLL_WAIT_SECONDS,
  topologyOptions,
  toSqsEvent,
  UNLIMITED_POLLERS,
};
