/**
 * SQS helpers shared by the handlers, the local stack and the CLI. Clients are passed in, so the
 * same code runs against AWS, the embedded SQS server and tests.
 */
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS limits that batching must respect. */
const SQS_LIMITS = {
  entriesPerBatch: 10,
  /**
   * Payload of one message and of one batch request. AWS accepts up to 1 MiB since 2025; we
   * keep to the classic 256 KiB that every SQS-compatible server accepts.
   */
  messageBytes: 256 * 1024,
  requestBytes: 256 * 1024,
  /** Longest per-message delay. */
  maxDelaySeconds: 900,
  /** Longest visibility timeout. */
  maxVisibilitySeconds: 43_200,
} as const;

/** Characters SQS refuses in a body or a string attribute (outside its documented ranges). */
const NOT_SQS_TEXT = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Replaces what SQS refuses with U+FFFD. An attribute can quote event text that arrived as JSON
 * escapes (`\u0000`, a lone `\ud800`): raw, it would make SQS refuse the parked message, and
 * the record would fail on every retry.
 */
const sqsText = (text: string): string => text.replace(NOT_SQS_TEXT, '\uFFFD');

/** U+FFFE and U+FFFF: `JSON.stringify` writes them as they are, and SQS refuses them. */
const NONCHARACTER = /[\uFFFE\uFFFF]/;
const NONCHARACTERS = new RegExp(NONCHARACTER.source, 'g');

/**
 * A body as SQS takes it. The bodies we write are JSON, where U+FFFE and U+FFFF can only stand
 * inside strings (an event may hold them, sent as `\uffff` escapes): written back as escapes
 * they are the same JSON, and SQS does not refuse the message, with every event packed in it.
 *
 * @example
 * sqsBody('{"a":"\uffff"}'); // '{"a":"\\uffff"}'
 */
const sqsBody = (body: string): string =>
  NONCHARACTER.test(body)
    ? body.replace(NONCHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16)}`)
    : body;

/** A message to send; `id` is the caller's handle for it, unique within one call. */
interface OutgoingMessage {
  readonly id: string;
  readonly body: string;
  readonly delaySeconds?: number;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** An entry SQS did not take, or that could not be sent at all. */
interface FailedSend {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  /**
   * The error when the whole request failed (unreachable, not SQS, no credentials) rather than
   * SQS refusing this entry; callers that print it describe it without SDK internals.
   */
  readonly requestError?: unknown;
}

interface SendOutcome {
  readonly sent: readonly string[];
  readonly failed: readonly FailedSend[];
}

const toAttributes = (
  attributes: Readonly<Record<string, string>> | undefined,
): Record<string, MessageAttributeValue> | undefined => {
  if (!attributes) return undefined;
  const entries = Object.entries(attributes).filter(([, value]) => value !== '');
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
};

/** Bytes SQS counts for a message: body plus attribute names, types and values. */
const messageBytes = (message: OutgoingMessage): number => {
  let bytes = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name, 'utf8') + 'String'.length + Buffer.byteLength(value, 'utf8');
  }
  return bytes;
};

/**
 * Groups messages into batch requests of at most 10 entries and 256 KiB. A message over the
 * per-message limit gets a chunk of its own, and SQS reports it as failed.
 */
const chunkForBatches = (messages: readonly OutgoingMessage[]): OutgoingMessage[][] => {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let currentBytes = 0;
  for (const message of messages) {
    const bytes = messageBytes(message);
    const full =
      current.length === SQS_LIMITS.entriesPerBatch ||
      currentBytes + bytes > SQS_LIMITS.requestBytes;
    if (current.length > 0 && full) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(message);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

const errorCode = (error: unknown): string =>
  error instanceof Error ? (error.name ?? 'Error') : 'Error';

/** One `SendMessageBatch` request: a queue and the messages of one chunk. */
interface Batch {
  readonly queueUrl: string;
  readonly chunk: readonly OutgoingMessage[];
}

/** Sends one batch; a request that fails as a whole marks each of its entries failed. */
const sendBatch = async (
  sqs: SQSClient,
  { queueUrl, chunk }: Batch,
  sent: string[],
  failed: FailedSend[],
): Promise<void> => {
  // Batch entry ids must be unique and plain; the caller's ids may be neither.
  const entries: SendMessageBatchRequestEntry[] = chunk.map((message, index) => ({
    Id: `m${index}`,
    MessageBody: sqsBody(message.body),
    DelaySeconds: message.delaySeconds,
    MessageAttributes: toAttributes(message.attributes),
  }));
  try {
    const response = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    const failedIndexes = new Set<number>();
    for (const failure of response.Failed ?? []) {
      const index = Number(failure.Id?.slice(1));
      const message = chunk[index];
      if (!message) continue;
      failedIndexes.add(index);
      failed.push({
        id: message.id,
        code: failure.Code ?? 'Unknown',
        message: failure.Message ?? 'SQS did not accept the message',
      });
    }
    // Sent is what SQS says it took: an entry it names in neither list is not assumed sent.
    const succeeded = new Set(
      (response.Successful ?? []).map((success) => Number(success.Id?.slice(1))),
    );
    chunk.forEach((message, index) => {
      if (failedIndexes.has(index)) return;
      if (succeeded.has(index)) {
        sent.push(message.id);
        return;
      }
      failed.push({
        id: message.id,
        code: 'NotReported',
        message: 'SQS reported neither success nor failure for the message',
      });
    });
  } catch (error) {
    for (const message of chunk) {
      failed.push({
        id: message.id,
        code: errorCode(error),
        message: error instanceof Error ? error.message : String(error),
        requestError: error,
      });
    }
  }
};

/** Messages for one queue, as {@link sendToQueues} takes them. */
interface QueueMessages {
  readonly queueUrl: string;
  readonly messages: readonly OutgoingMessage[];
}

/**
 * Sends messages to one or more queues with `SendMessageBatch` (never one `SendMessage` per
 * message), split by count and size ({@link chunkForBatches}), with up to `requestsInFlight`
 * requests at once; it reports per entry what SQS did not take. The queues take turns, batch by
 * batch, so that each gets its first messages early. Never throws: a request that fails as a
 * whole marks each of its entries failed, so the caller decides what to retry. Message ids must
 * be unique within one call, across queues.
 *
 * @example
 * const { failed } = await sendToQueues(sqs, [{ queueUrl, messages }, { queueUrl: other, messages: more }], 10);
 */
const sendToQueues = async (
  sqs: SQSClient,
  sends: readonly QueueMessages[],
  requestsInFlight: number,
  options: {
    /**
     * Asked before each request: true stops the sending (the invocation is running out of
     * time), and the messages not sent are reported failed with the code `OutOfTime`.
     */
    readonly shouldStop?: () => boolean;
  } = {},
): Promise<SendOutcome> => {
  const chunked = sends.map(({ queueUrl, messages }) =>
    chunkForBatches(messages).map((chunk): Batch => ({ queueUrl, chunk })),
  );
  const turns = Math.max(0, ...chunked.map((batches) => batches.length));
  const batches = Array.from({ length: turns }, (_, turn) =>
    chunked.flatMap((queue) => queue[turn] ?? []),
  ).flat();
  const sent: string[] = [];
  const failed: FailedSend[] = [];
  let next = 0;
  const sendInTurn = async (): Promise<void> => {
    for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
      if (options.shouldStop?.()) {
        for (const message of batch.chunk) {
          failed.push({
            id: message.id,
            code: 'OutOfTime',
            message: 'not sent: the invocation was running out of time',
          });
        }
        continue;
      }
      await sendBatch(sqs, batch, sent, failed);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, requestsInFlight) }, sendInTurn));
  return { sent, failed };
};

/**
 * Sends messages to one queue, one `SendMessageBatch` after the other ({@link sendToQueues}).
 *
 * @example
 * const { failed } = await sendMessages(sqs, queueUrl, [{ id: 'a', body: '{}' }]);
 */
const sendMessages = (
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<SendOutcome> => sendToQueues(sqs, [{ queueUrl, messages }], 1);

/** An item to pack into a JSON-array message (an audit event, for producers). */
interface PackItem {
  /** Names the item in an error, e.g. `audit_id ae_01JC3Z…`. */
  readonly name: string;
  /** The item as JSON text. */
  readonly json: string;
}

/** How full a packed message may get. */
interface PackLimits {
  /** Body bytes of one message. @default SQS_LIMITS.messageBytes */
  readonly maxBytes?: number;
  /** Items of one message (the ingest takes arrays of up to 1,000 events). @default no limit */
  readonly maxItems?: number;
}

/** One packed message: its body, and the indexes of its items in the input, in order. */
interface PackedMessage {
  readonly body: string;
  readonly items: readonly number[];
}

/** The messages that hold every item, or the first item no message can hold. */
type PackResult =
  | { readonly ok: true; readonly messages: readonly PackedMessage[] }
  | {
      readonly ok: false;
      /** Index of the item in the input. */
      readonly item: number;
      /** What is wrong and what to do, naming the item. */
      readonly message: string;
    };

/** Body bytes of `count` items of `itemBytes` bytes in all: one alone, or a JSON array. */
const packedBytes = (count: number, itemBytes: number): number =>
  count === 1 ? itemBytes : itemBytes + count + 1; // `[`, `]` and a comma between items

const packedBody = (texts: readonly string[]): string =>
  texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(',')}]`;

/**
 * Packs items, in order, into as few message bodies as the limits allow: each a JSON array of
 * items, or the item itself when a message holds only one (the ingest reads both). Fewer,
 * fuller messages are what makes a producer cheap: the ingest queue's receive and delete are
 * shared by every event of a message.
 *
 * @example
 * packJsonArrays(events.map((event) => ({ name: event.audit_id, json: JSON.stringify(event) })));
 * // { ok: true, messages: [{ body: '[{…},{…}]', items: [0, 1] }] }
 */
const packJsonArrays = (items: readonly PackItem[], limits: PackLimits = {}): PackResult => {
  const maxBytes = limits.maxBytes ?? SQS_LIMITS.messageBytes;
  const maxItems = limits.maxItems ?? Number.POSITIVE_INFINITY;
  const messages: PackedMessage[] = [];
  let texts: string[] = [];
  let indexes: number[] = [];
  let itemBytes = 0;
  const close = () => {
    if (indexes.length === 0) return;
    messages.push({ body: packedBody(texts), items: indexes });
    texts = [];
    indexes = [];
    itemBytes = 0;
  };
  for (const [index, item] of items.entries()) {
    // Measured as it will be sent (sendBatch writes the same escapes).
    const json = sqsBody(item.json);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > maxBytes) {
      return {
        ok: false,
        item: index,
        message: `${item.name} is ${bytes} bytes as JSON, more than the ${maxBytes} one message holds: it cannot be sent; make it smaller or leave it out`,
      };
    }
    const full =
      indexes.length >= maxItems || packedBytes(indexes.length + 1, itemBytes + bytes) > maxBytes;
    if (full) close();
    texts.push(json);
    indexes.push(index);
    itemBytes += bytes;
  }
  close();
  return { ok: true, messages };
};

/** A packed message SQS did not take: the indexes of its items, and why. */
interface FailedPackedSend extends Omit<FailedSend, 'id'> {
  readonly items: readonly number[];
}

/** Items sent packed, by index into the input, or why nothing was sent. */
type PackedSendOutcome =
  | {
      readonly ok: true;
      readonly sent: readonly number[];
      readonly failed: readonly FailedPackedSend[];
      /** Messages the items were packed into. */
      readonly messages: number;
    }
  | Extract<PackResult, { ok: false }>;

/**
 * Packs items into JSON-array messages ({@link packJsonArrays}) and sends them with
 * {@link sendMessages}: up to 10 messages per `SendMessageBatch` within its payload limit.
 * Sends nothing when an item is too large for any message. What SQS refuses is reported per
 * message, with the items it held.
 *
 * @example
 * const outcome = await sendPacked(sqs, ingestUrl, items, { maxItems: MAX_EVENTS_PER_MESSAGE });
 * if (!outcome.ok) console.error(outcome.message);
 */
const sendPacked = async (
  sqs: SQSClient,
  queueUrl: string,
  items: readonly PackItem[],
  limits: PackLimits = {},
): Promise<PackedSendOutcome> => {
  const packed = packJsonArrays(items, limits);
  if (!packed.ok) return packed;
  const itemsOf = (id: string): readonly number[] => packed.messages[Number(id)]?.items ?? [];
  const outcome = await sendMessages(
    sqs,
    queueUrl,
    packed.messages.map((message, index) => ({ id: String(index), body: message.body })),
  );
  return {
    ok: true,
    sent: outcome.sent.flatMap(itemsOf),
    failed: outcome.failed.map(({ id, ...failure }) => ({ ...failure, items: itemsOf(id) })),
    messages: packed.messages.length,
  };
};

/** Sends one message; for the rare single sends (a dead letter, a re-enqueue). Throws on failure. */
const sendMessage = async (
  sqs: SQSClient,
  queueUrl: string,
  message: Omit<OutgoingMessage, 'id'>,
): Promise<void> => {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: sqsBody(message.body),
      DelaySeconds: message.delaySeconds,
      MessageAttributes: toAttributes(message.attributes),
    }),
  );
};

/** Hides a received message for `seconds` (capped at SQS's 12 h); 0 makes it visible now. */
const changeVisibility = async (
  sqs: SQSClient,
  queueUrl: string,
  receiptHandle: string,
  seconds: number,
): Promise<void> => {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.max(0, Math.min(Math.ceil(seconds), SQS_LIMITS.maxVisibilitySeconds)),
    }),
  );
};

export type {
  FailedPackedSend,
  FailedSend,
  OutgoingMessage,
  PackedMessage,
  PackedSendOutcome,
  PackItem,
  PackLimits,
  PackResult,
  QueueMessages,
  SendOutcome,
};
export {
  changeVisibility,
  chunkForBatches,
  messageBytes,
  packJsonArrays,
  SQS_LIMITS,
  sendMessage,
  sendMessages,
  sendPacked,
  sendToQueues,
  sqsBody,
  sqsText,
};
