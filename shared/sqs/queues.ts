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

/**
 * Sends messages with `SendMessageBatch` (never one `SendMessage` per message), split by count
 * and size, and reports per entry what SQS did not take. Never throws: a request that fails as
 * a whole marks each of its entries failed, so the caller decides what to retry.
 *
 * @example
 * const { failed } = await sendMessages(sqs, queueUrl, [{ id: 'a', body: '{}' }]);
 */
const sendMessages = async (
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<SendOutcome> => {
  const sent: string[] = [];
  const failed: FailedSend[] = [];
  for (const chunk of chunkForBatches(messages)) {
    // Batch entry ids must be unique and plain; the caller's ids may be neither.
    const entries: SendMessageBatchRequestEntry[] = chunk.map((message, index) => ({
      Id: `m${index}`,
      MessageBody: message.body,
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
      chunk.forEach((message, index) => {
        if (!failedIndexes.has(index)) sent.push(message.id);
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
  }
  return { sent, failed };
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
      MessageBody: message.body,
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

export type { FailedSend, OutgoingMessage, SendOutcome };
export {
  changeVisibility,
  chunkForBatches,
  messageBytes,
  SQS_LIMITS,
  sendMessage,
  sendMessages,
  sqsText,
};
