/**
 * Records the SQS traffic of one client on the SDK (middleware): every completed call with its
 * command, queue, entries, whether a receive came back empty, and the 64 KiB chunks it is
 * billed as; and, by pairing each `DeleteMessageBatch` with the receive that handed out its
 * receipt handles, how long each invocation of the event source emulator took.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { PRICES } from '../prices.js';

interface SqsCall {
  readonly command: string;
  readonly queueUrl: string;
  /** `performance.now()` when the response arrived. */
  readonly completedAt: number;
  /** Entries of a batch request. */
  readonly entries: number;
  /** A receive that returned no message. */
  readonly empty: boolean;
  /** Requests AWS bills for it: one per started 64 KiB of payload. */
  readonly billedRequests: number;
}

/** One invocation: from the receive's response to the delete of its records. */
interface Invocation {
  readonly queueUrl: string;
  readonly completedAt: number;
  readonly durationMs: number;
  readonly records: number;
}

interface SqsTraffic {
  readonly calls: readonly SqsCall[];
  readonly invocations: readonly Invocation[];
}

const bytes = (text: unknown): number =>
  typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0;

const billed = (payloadBytes: number): number =>
  Math.max(1, Math.ceil(payloadBytes / PRICES.sqsBillingChunkBytes));

interface Entry {
  readonly MessageBody?: unknown;
  readonly ReceiptHandle?: unknown;
}

/**
 * Starts recording the traffic of `sqs`.
 *
 * @example
 * const traffic = recordSqsTraffic(sqs);
 * // ...
 * traffic.calls.filter((call) => call.command === 'SendMessageCommand').length;
 */
const recordSqsTraffic = (sqs: SQSClient): SqsTraffic => {
  const calls: SqsCall[] = [];
  const invocations: Invocation[] = [];
  const receivedAt = new Map<string, { at: number; records: number }>();
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const input = args.input as { QueueUrl?: string; MessageBody?: unknown; Entries?: Entry[] };
      const queueUrl = input.QueueUrl ?? '';
      const entries = input.Entries ?? [];
      if (command === 'DeleteMessageBatchCommand') {
        const handle = entries[0]?.ReceiptHandle;
        const received = typeof handle === 'string' ? receivedAt.get(handle) : undefined;
        if (received) {
          invocations.push({
            queueUrl,
            completedAt: performance.now(),
            durationMs: performance.now() - received.at,
            records: received.records,
          });
        }
        for (const entry of entries) {
          if (typeof entry.ReceiptHandle === 'string') receivedAt.delete(entry.ReceiptHandle);
        }
      }
      const result = await next(args);
      const output = result.output as { Messages?: { Body?: string; ReceiptHandle?: string }[] };
      let payload =
        bytes(input.MessageBody) + entries.reduce((n, e) => n + bytes(e.MessageBody), 0);
      let empty = false;
      if (command === 'ReceiveMessageCommand') {
        const messages = output.Messages ?? [];
        empty = messages.length === 0;
        payload = messages.reduce((n, message) => n + bytes(message.Body), 0);
        const at = performance.now();
        for (const message of messages) {
          if (message.ReceiptHandle) {
            receivedAt.set(message.ReceiptHandle, { at, records: messages.length });
          }
        }
      }
      calls.push({
        command,
        queueUrl,
        completedAt: performance.now(),
        entries: entries.length,
        empty,
        billedRequests: billed(payload),
      });
      return result;
    },
    { step: 'initialize', name: 'benchRecordTraffic' },
  );
  return { calls, invocations };
};

/** The calls and invocations that completed within [from, to] (`performance.now()` times). */
const within = (traffic: SqsTraffic, from: number, to: number): SqsTraffic => ({
  calls: traffic.calls.filter((call) => call.completedAt >= from && call.completedAt <= to),
  invocations: traffic.invocations.filter((i) => i.completedAt >= from && i.completedAt <= to),
});

export type { Invocation, SqsCall, SqsTraffic };
export { recordSqsTraffic, within };
