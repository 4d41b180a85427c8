/**
 * The event source emulator against the embedded SQS server: Lambda's semantics for batches,
 * partial batch responses, failed invocations and native redrive. Counts records and receives;
 * never asserts durations.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EventSourceMapping, type SqsBatchHandler } from '../../local/eventSource.js';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import { drainQueue, queueDepth, sendBodies, waitUntil } from '../helpers/pipeline.js';

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

interface TestQueues {
  readonly url: string;
  readonly dlqUrl: string;
}

/** A fresh queue (1 s visibility, so failed records come back quickly) with a DLQ. */
const createQueues = async (maxReceiveCount = 5): Promise<TestQueues> => {
  queueCounter += 1;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `es-${queueCounter}-dlq` }));
  const dlqUrl = dlq.QueueUrl ?? '';
  const dlqArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const source = await sqs.send(
    new CreateQueueCommand({
      QueueName: `es-${queueCounter}`,
      Attributes: {
        VisibilityTimeout: '1',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
          maxReceiveCount,
        }),
      },
    }),
  );
  return { url: source.QueueUrl ?? '', dlqUrl };
};

/** Starts a mapping on `queueUrl`; it is stopped after the test. */
const startMapping = (
  queueUrl: string,
  handler: SqsBatchHandler,
  overrides: Partial<ConstructorParameters<typeof EventSourceMapping>[0]> = {},
): EventSourceMapping => {
  const mapping = new EventSourceMapping({
    sqs,
    queueUrl,
    handler,
    functionName: 'test',
    maxConcurrency: 1,
    ...overrides,
  });
  mappings.push(mapping);
  mapping.start();
  return mapping;
};

/** A handler that records every record it sees, and answers with `respond`. */
const recordingHandler = (
  respond: (event: SQSEvent, invocation: number) => Promise<SQSBatchResponse | undefined>,
) => {
  const seen: SQSRecord[] = [];
  const batches: number[] = [];
  const handler: SqsBatchHandler = async (event) => {
    seen.push(...event.Records);
    batches.push(event.Records.length);
    return respond(event, batches.length);
  };
  const timesSeen = (body: string) => seen.filter((record) => record.body === body).length;
  return { handler, seen, batches, timesSeen };
};

const idOf = (event: SQSEvent, body: string): string =>
  event.Records.find((record) => record.body === body)?.messageId ?? '';

/** Counts the receives of `client` that completed, and those that came back empty. */
const countReceives = (client: SQSClient) => {
  const receives = { completed: 0, empty: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'ReceiveMessageCommand') {
        receives.completed += 1;
        const output = result.output as { Messages?: unknown[] };
        if ((output.Messages ?? []).length === 0) receives.empty += 1;
      }
      return result;
    },
    { step: 'initialize', name: 'countReceives' },
  );
  return receives;
};

describe('Class: EventSourceMapping', () => {
  it('hands a batch over in Lambda record format and deletes it on success', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['a', 'b', 'c']);
    const { handler, seen, batches } = recordingHandler(async () => ({ batchItemFailures: [] }));

    // Act
    const mapping = startMapping(url, handler);
    await waitUntil(() => mapping.stats.deleted >= 3, { what: '3 deleted records' });

    // Assess
    expect(batches).toEqual([3]);
    expect(seen.map((record) => record.body).sort()).toEqual(['a', 'b', 'c']);
    expect(seen[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: expect.stringMatching(/^arn:aws:sqs:.*:es-\d+$/),
      attributes: expect.objectContaining({ ApproximateReceiveCount: '1' }),
    });
    expect(await queueDepth(sqs, url)).toBe(0);
    expect(mapping.stats).toMatchObject({ invocations: 1, records: 3, deleted: 3 });
  });

  it('leaves only the records listed in batchItemFailures on the queue', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['a', 'b', 'c']);
    const { handler, seen, timesSeen } = recordingHandler(async (event, invocation) => ({
      batchItemFailures: invocation === 1 ? [{ itemIdentifier: idOf(event, 'b') }] : [],
    }));

    // Act
    const mapping = startMapping(url, handler);
    await waitUntil(() => mapping.stats.deleted >= 3, { what: '3 deleted records' });

    // Assess
    expect([timesSeen('a'), timesSeen('b'), timesSeen('c')]).toEqual([1, 2, 1]);
    expect(seen.at(-1)?.attributes.ApproximateReceiveCount).toBe('2');
    expect(mapping.stats).toMatchObject({ records: 4, deleted: 3, failedRecords: 1 });
    expect(await queueDepth(sqs, url)).toBe(0);
    expect(mapping.stats.failedInvocations).toBe(0);
  });

  it('leaves every record of the batch when the handler throws', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['a', 'b', 'c']);
    const { handler, timesSeen } = recordingHandler(async (_event, invocation) => {
      if (invocation === 1) throw new Error('handler crashed');
      return { batchItemFailures: [] };
    });

    // Act
    const mapping = startMapping(url, handler);
    await waitUntil(() => mapping.stats.deleted >= 3, { what: '3 deleted records' });

    // Assess
    expect([timesSeen('a'), timesSeen('b'), timesSeen('c')]).toEqual([2, 2, 2]);
    expect(mapping.stats).toMatchObject({ failedInvocations: 1, failedRecords: 3 });
  });

  it.each([
    ['an unknown itemIdentifier', 'not-a-message-id'],
    ['an empty itemIdentifier', ''],
  ])('fails the whole batch on %s', async (_label, itemIdentifier) => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['a', 'b']);
    const { handler, timesSeen } = recordingHandler(async (_event, invocation) => ({
      batchItemFailures: invocation === 1 ? [{ itemIdentifier }] : [],
    }));

    // Act
    const mapping = startMapping(url, handler);
    await waitUntil(() => mapping.stats.deleted >= 2, { what: '2 deleted records' });

    // Assess
    expect([timesSeen('a'), timesSeen('b')]).toEqual([2, 2]);
    expect(mapping.stats.failedRecords).toBe(2);
  });

  it('fails the whole batch when the handler runs past the function timeout', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['a', 'b']);
    const outcomes: (string | undefined)[] = [];
    const { handler, timesSeen } = recordingHandler(async (_event, invocation) => {
      if (invocation === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      return { batchItemFailures: [] };
    });

    // Act
    const mapping = startMapping(url, handler, {
      functionTimeoutMs: 100,
      onInvocation: (outcome) => outcomes.push(outcome.error),
    });
    await waitUntil(() => mapping.stats.deleted >= 2, { what: '2 deleted records' });

    // Assess
    expect([timesSeen('a'), timesSeen('b')]).toEqual([2, 2]);
    expect(outcomes[0]).toContain('timeout');
    expect(outcomes[1]).toBeUndefined();
  });

  it('lets the server redrive a record to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const { url, dlqUrl } = await createQueues(2);
    await sendBodies(sqs, url, ['poison', 'fine']);
    const { handler, timesSeen } = recordingHandler(async (event) => ({
      batchItemFailures: event.Records.filter((record) => record.body === 'poison').map(
        (record) => ({ itemIdentifier: record.messageId }),
      ),
    }));

    // Act
    startMapping(url, handler);
    await waitUntil(async () => (await queueDepth(sqs, dlqUrl)) === 1, {
      what: 'the poison record in the DLQ',
    });
    await waitUntil(async () => (await queueDepth(sqs, url)) === 0, { what: 'an empty queue' });

    // Assess
    expect(timesSeen('poison')).toBe(2);
    expect(timesSeen('fine')).toBe(1);
    const redriven = await drainQueue(sqs, dlqUrl);
    expect(redriven.map((message) => message.body)).toEqual(['poison']);
  });

  it('runs at most maxConcurrency invocations at once, with at most batchSize records each', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(
      sqs,
      url,
      Array.from({ length: 30 }, (_, index) => `m${index}`),
    );
    let running = 0;
    let mostRunning = 0;
    const { handler, batches } = recordingHandler(async () => {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
      return { batchItemFailures: [] };
    });

    // Act
    const mapping = startMapping(url, handler, { maxConcurrency: 2, batchSize: 5 });
    await waitUntil(() => mapping.stats.deleted >= 30, { what: '30 deleted records' });

    // Assess
    expect(mostRunning).toBeLessThanOrEqual(2);
    expect(Math.max(...batches)).toBeLessThanOrEqual(5);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(30);
  });

  it('long-polls with pollers taking turns to receive: no empty receive while records flow', async () => {
    // Prepare: a client of its own, to count only the mapping's receives.
    const client = localSqsClient(server.endpoint);
    const receives = countReceives(client);
    const { url } = await createQueues();
    const { handler } = recordingHandler(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { batchItemFailures: [] };
    });
    const mapping = startMapping(url, handler, { sqs: client, maxConcurrency: 5 });

    // Act: records arrive in three sends while the mapping waits in a long poll.
    for (const tag of ['a', 'b', 'c']) {
      await sendBodies(
        sqs,
        url,
        Array.from({ length: 10 }, (_, index) => `${tag}${index}`),
      );
    }
    await waitUntil(() => mapping.stats.deleted >= 30, { what: '30 deleted records' });
    await mapping.stop();
    client.destroy();

    // Assess: the server wakes every waiting receive when a message arrives; one waits at a time.
    expect(mapping.settings.pollers).toBe(5);
    expect(receives.empty).toBe(0);
    expect(receives.completed).toBeGreaterThanOrEqual(3);
    expect(mapping.activePollers).toBe(0);
  });

  it('stops without waiting out its 20 s long poll', async () => {
    // Prepare
    const { url } = await createQueues();
    const { handler } = recordingHandler(async () => ({ batchItemFailures: [] }));
    const mapping = startMapping(url, handler);
    await new Promise((resolve) => setTimeout(resolve, 100));
    let timer: NodeJS.Timeout | undefined;
    const longPollOver = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('waited out the long poll'), 15_000);
    });

    // Act
    const first = await Promise.race([mapping.stop().then(() => 'stopped'), longPollOver]);
    clearTimeout(timer);

    // Assess
    expect(first).toBe('stopped');
    expect(mapping.activePollers).toBe(0);
  });

  it('stops mappings together: a record one sends to the other while stopping is handled', async () => {
    // Prepare: the first mapping's function forwards its record to the second mapping's queue.
    const source = await createQueues();
    const target = await createQueues();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const forwarder = recordingHandler(async (event) => {
      await gate;
      await sendBodies(
        sqs,
        target.url,
        event.Records.map((record) => record.body),
      );
      return { batchItemFailures: [] };
    });
    const receiver = recordingHandler(async () => ({ batchItemFailures: [] }));
    const first = startMapping(source.url, forwarder.handler);
    const second = startMapping(target.url, receiver.handler);
    await sendBodies(sqs, source.url, ['forwarded']);
    await waitUntil(() => forwarder.seen.length === 1, { what: 'the first invocation to start' });

    // Act: stop while the first function is still to send.
    const stopping = EventSourceMapping.stopAll([first, second]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await stopping;

    // Assess: the second mapping's waiting receive was not abandoned before the send.
    expect(receiver.timesSeen('forwarded')).toBe(1);
    expect(await queueDepth(sqs, target.url)).toBe(0);
    expect([first.activePollers, second.activePollers]).toEqual([0, 0]);
  });

  it('lets an in-flight invocation finish before stop() resolves', async () => {
    // Prepare
    const { url } = await createQueues();
    await sendBodies(sqs, url, ['slow']);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { handler, seen } = recordingHandler(async () => {
      await gate;
      return { batchItemFailures: [] };
    });
    const mapping = startMapping(url, handler);
    await waitUntil(() => seen.length === 1, { what: 'the invocation to start' });

    // Act
    let stopped = false;
    const stopping = mapping.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const stoppedBeforeRelease = stopped;
    release();
    await stopping;

    // Assess
    expect(stoppedBeforeRelease).toBe(false);
    expect(mapping.stats.deleted).toBe(1);
    expect(await queueDepth(sqs, url)).toBe(0);
  });
});
