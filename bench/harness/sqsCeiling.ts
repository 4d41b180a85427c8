/**
 * SQS round trips alone: workers that each send a batch of 10, receive it and delete it, in a
 * loop, with no handler in between, through the SDK client the local stack uses. What the
 * pipeline can move through the emulator in one process is at most this. It is the client's
 * ceiling more than the server's: on 2 vCPUs the loop's process uses a whole core (SDK
 * serialisation, signing, HTTP) while the SQS server uses about 40 % of one. The loop is warmed
 * up first (5,000 messages, not counted): cold, it measured 1.5-1.6x slower than run again.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../local/sqsServer.js';
import { newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import { benchEvent } from './fixtures.js';
import type { SqsServerProcess } from './processes.js';

interface SqsCeiling {
  readonly messages: number;
  readonly requests: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly requestsPerSecond: number;
  /** CPU the server process spent, per second of the run (1 = one core busy). */
  readonly serverCpuShare: number;
  /** CPU the client process (SDK: serialization, signing, HTTP) spent, per second of the run. */
  readonly clientCpuShare: number;
  readonly workers: number;
}

/**
 * Moves `messages` messages (delivery-message sized) through a fresh queue on `server`.
 *
 * @example
 * const ceiling = await measureSqsCeiling(server, 15_000);
 */
/** Messages moved before the measured run, so that the JIT has settled. */
const WARM_UP_MESSAGES = 5_000;

const measureSqsCeiling = async (
  server: SqsServerProcess,
  messages: number,
  workers = 16,
): Promise<SqsCeiling> => {
  const sqs = localSqsClient(server.endpoint);
  const created = await sqs.send(new CreateQueueCommand({ QueueName: 'tappass-bench-ceiling' }));
  const QueueUrl = created.QueueUrl ?? '';
  const body = JSON.stringify(newDeliveryMessage(benchEvent(0, Date.now()), 'pagerduty-alerts'));
  const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body }));
  /** Moves `count` messages with `workers` loops; returns the requests it took. */
  const move = async (count: number): Promise<{ moved: number; requests: number }> => {
    let moved = 0;
    let requests = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (moved < count) {
          await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
          const received = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          );
          requests += 2;
          const batch = received.Messages ?? [];
          if (batch.length === 0) continue;
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: batch.map((message, i) => ({
                Id: `d${i}`,
                ReceiptHandle: message.ReceiptHandle ?? '',
              })),
            }),
          );
          requests += 1;
          moved += batch.length;
        }
      }),
    );
    return { moved, requests };
  };
  // Warm-up, not counted: the pipeline's burst comes after a warm-up of its own, and a cold
  // loop measured 1.5-1.6x slower than the same loop run again.
  await move(Math.min(messages, WARM_UP_MESSAGES));
  const serverBefore = await server.usage();
  const clientBefore = process.cpuUsage();
  const startedAt = performance.now();
  const { moved, requests } = await move(messages);
  const seconds = (performance.now() - startedAt) / 1000;
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await server.usage();
  sqs.destroy();
  return {
    messages: moved,
    requests,
    seconds,
    messagesPerSecond: moved / seconds,
    requestsPerSecond: requests / seconds,
    serverCpuShare: (serverAfter.cpuSeconds - serverBefore.cpuSeconds) / seconds,
    clientCpuShare: (client.user + client.system) / 1e6 / seconds,
    workers,
  };
};

export type { SqsCeiling };
export { measureSqsCeiling };
