/**
 * SQS round trips alone: workers that each send a batch of 10, receive it and delete it, in a
 * loop, with no handler in between, through the SDK client the local stack uses. What the
 * pipeline can move through the emulator in one process is at most this. It is the client's
 * ceiling more than the server's: on 2 vCPUs the loop's process uses a whole core (SDK
 * serialisation, signing, HTTP) while the SQS server uses about 40 % of one, and a second run
 * in the same process is 1.5-1.6x faster as the JIT warms up (docs/performance.md, figure 8).
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
  let moved = 0;
  let requests = 0;
  const serverBefore = await server.usage();
  const clientBefore = process.cpuUsage();
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (moved < messages) {
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
