/**
 * The event source emulator's batching window (Lambda's `MaximumBatchingWindowInSeconds`):
 * records arriving during the window join the batch, batches can exceed SQS's 10 records per
 * receive, and without a window a batch is what one receive returns. Counts only.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { EventSourceMapping } from '../../local/eventSource.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { sendBodies, waitUntil } from '../helpers/pipeline.js';

let server: EmbeddedSqsServer;
let sqs: SQSClient;
let queueCounter = 0;
const mappings: EventSourceMapping[] = [];

beforeAll(async () => {
  server = await startEmbeddedSqs();
  sqs = localSqsClient(server.endpoint);
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

const createQueue = async (): Promise<string> => {
  queueCounter += 1;
  const created = await sqs.send(new CreateQueueCommand({ QueueName: `window-${queueCounter}` }));
  return created.QueueUrl ?? '';
};

/** Starts a mapping that records the size of every batch it is invoked with. */
const batchSizes = (
  queueUrl: string,
  options: { readonly batchSize: number; readonly maxBatchingWindowMs: number },
): number[] => {
  const sizes: number[] = [];
  const mapping = new EventSourceMapping({
    sqs,
    queueUrl,
    functionName: 'window-test',
    maxConcurrency: 1,
    waitTimeSeconds: 1,
    ...options,
    handler: async (event: SQSEvent) => {
      sizes.push(event.Records.length);
      return { batchItemFailures: [] };
    },
  });
  mappings.push(mapping);
  mapping.start();
  return sizes;
};

const bodies = (count: number, tag: string): string[] =>
  Array.from({ length: count }, (_, index) => `${tag}-${index}`);

describe('Class: EventSourceMapping (batching window)', () => {
  it('gathers records that arrive during the window into one batch', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const sizes = batchSizes(queueUrl, { batchSize: 100, maxBatchingWindowMs: 3_000 });

    // Act: three sends, one after the other, all within the window.
    await sendBodies(sqs, queueUrl, bodies(4, 'a'));
    await sendBodies(sqs, queueUrl, bodies(4, 'b'));
    await sendBodies(sqs, queueUrl, bodies(4, 'c'));
    await waitUntil(() => sizes.reduce((sum, size) => sum + size, 0) >= 12, {
      what: '12 records handled',
    });

    // Assess
    expect(sizes).toEqual([12]);
  });

  it('fills batches beyond 10 records, up to the batch size', async () => {
    // Prepare
    const queueUrl = await createQueue();
    await sendBodies(sqs, queueUrl, bodies(45, 'x'));

    // Act
    const sizes = batchSizes(queueUrl, { batchSize: 20, maxBatchingWindowMs: 2_000 });
    await waitUntil(() => sizes.reduce((sum, size) => sum + size, 0) >= 45, {
      what: '45 records handled',
    });

    // Assess
    expect(sizes).toEqual([20, 20, 5]);
  });

  it('deletes every record of a batch larger than 10 once it succeeded', async () => {
    // Prepare
    const queueUrl = await createQueue();
    await sendBodies(sqs, queueUrl, bodies(25, 'd'));
    const mapping = new EventSourceMapping({
      sqs,
      queueUrl,
      functionName: 'delete-test',
      maxConcurrency: 1,
      waitTimeSeconds: 1,
      batchSize: 25,
      maxBatchingWindowMs: 2_000,
      handler: async () => ({ batchItemFailures: [] }),
    });
    mappings.push(mapping);

    // Act
    mapping.start();
    await waitUntil(() => mapping.stats.records >= 25, { what: '25 records handled' });
    await mapping.stop();

    // Assess: DeleteMessageBatch takes 10 entries at most, so this took 3 calls.
    expect(mapping.stats.deleted).toBe(25);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
  });

  it('without a window, invokes with what one receive returns', async () => {
    // Prepare
    const queueUrl = await createQueue();
    await sendBodies(sqs, queueUrl, bodies(15, 'y'));

    // Act
    const sizes = batchSizes(queueUrl, { batchSize: 10, maxBatchingWindowMs: 0 });
    await waitUntil(() => sizes.reduce((sum, size) => sum + size, 0) >= 15, {
      what: '15 records handled',
    });

    // Assess
    expect(sizes.every((size) => size <= 10)).toBe(true);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
  });
});
