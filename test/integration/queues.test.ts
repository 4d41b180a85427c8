/**
 * SQS helpers against the embedded SQS server, with the requests counted on the client: batch
 * sends split by count and size, to several queues with a bound on requests in flight,
 * per-entry failures, attributes, delays and visibility. The pure chunking is in
 * test/unit/queues.test.ts.
 */
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../local/sqsServer.js';
import {
  changeVisibility,
  type OutgoingMessage,
  SQS_LIMITS,
  sendMessage,
  sendMessages,
  sendToQueues,
} from '../../shared/sqs/queues.js';
import { drainQueue, queueDepth } from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const KIB = 1024;

const message = (
  id: string,
  bytes = 10,
  extra: Partial<OutgoingMessage> = {},
): OutgoingMessage => ({
  id,
  body: 'x'.repeat(bytes),
  ...extra,
});

describe('Function: sendMessages() and friends against the embedded SQS server', () => {
  const stack = useTestStack({ sqs: true });
  let queueCounter = 0;

  /** A fresh queue with SQS's classic 256 KiB message limit. */
  const createQueue = async (): Promise<string> => {
    queueCounter += 1;
    const response = await stack.sqs.send(
      new CreateQueueCommand({
        QueueName: `queues-${queueCounter}`,
        Attributes: { MaximumMessageSize: String(SQS_LIMITS.messageBytes) },
      }),
    );
    stack.calls.length = 0;
    return response.QueueUrl ?? '';
  };

  const batchCalls = () => stack.calls.filter((call) => call.command === 'SendMessageBatchCommand');

  it('sends 25 messages in 3 SendMessageBatch requests and no SendMessage', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const messages = Array.from({ length: 25 }, (_, index) => message(`m${index}`, 20));

    // Act
    const outcome = await sendMessages(stack.sqs, queueUrl, messages);

    // Assess
    expect(outcome.failed).toEqual([]);
    expect(outcome.sent).toEqual(messages.map((entry) => entry.id));
    expect(batchCalls().map((call) => call.entries)).toEqual([10, 10, 5]);
    expect(stack.calls.filter((call) => call.command === 'SendMessageCommand')).toHaveLength(0);
    expect(await drainQueue(stack.sqs, queueUrl)).toHaveLength(25);
  });

  it('splits a request by size: 3 x 100 KiB go in 2 requests', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const messages = ['a', 'b', 'c'].map((id) => message(id, 100 * KIB));

    // Act
    const outcome = await sendMessages(stack.sqs, queueUrl, messages);

    // Assess
    expect(outcome.failed).toEqual([]);
    expect(batchCalls().map((call) => call.entries)).toEqual([2, 1]);
    expect(await queueDepth(stack.sqs, queueUrl)).toBe(3);
  });

  it('reports an oversize message as failed by id and still sends the others', async () => {
    // Prepare
    const queueUrl = await createQueue();
    const messages = [message('small-1'), message('huge', 300 * KIB), message('small-2')];

    // Act
    const outcome = await sendMessages(stack.sqs, queueUrl, messages);

    // Assess
    expect(outcome.sent).toEqual(['small-1', 'small-2']);
    expect(outcome.failed).toEqual([
      expect.objectContaining({ id: 'huge', code: 'InvalidParameterValue' }),
    ]);
    expect(batchCalls().map((call) => call.entries)).toEqual([1, 1, 1]);
    expect(await queueDepth(stack.sqs, queueUrl)).toBe(2);
  });

  it('marks every entry failed when a request fails as a whole, without throwing', async () => {
    // Prepare
    const queueUrl = `${stack.server.endpoint}/000000000000/no-such-queue`;
    const messages = Array.from({ length: 12 }, (_, index) => message(`m${index}`));

    // Act
    const outcome = await sendMessages(stack.sqs, queueUrl, messages);

    // Assess
    expect(outcome.sent).toEqual([]);
    expect(outcome.failed.map((failure) => failure.id)).toEqual(messages.map((entry) => entry.id));
    expect(outcome.failed[0]?.code).not.toBe('');
  });

  it('sendToQueues() stops when asked, reporting what it did not send as OutOfTime', async () => {
    // Prepare: 30 messages, 3 requests; time runs out after the first request.
    const queueUrl = await createQueue();
    const messages = Array.from({ length: 30 }, (_, index) => message(`m-${index}`));
    let asked = 0;

    // Act
    const outcome = await sendToQueues(stack.sqs, [{ queueUrl, messages }], 1, {
      shouldStop: () => {
        asked += 1;
        return asked > 1;
      },
    });

    // Assess: the first ten went, in order; the other twenty are reported, none lost silently.
    expect(outcome.sent).toEqual(messages.slice(0, 10).map((entry) => entry.id));
    expect(outcome.failed.map((failure) => [failure.id, failure.code])).toEqual(
      messages.slice(10).map((entry) => [entry.id, 'OutOfTime']),
    );
    expect(await queueDepth(stack.sqs, queueUrl)).toBe(10);
  });

  it('sendToQueues() keeps at most N requests in flight, the queues taking turns batch by batch', async () => {
    // Prepare: a client of its own, whose middleware sees each request leave and come back.
    const sqs = localSqsClient(stack.server.endpoint);
    const [first, second] = [await createQueue(), await createQueue()];
    const started: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    sqs.middlewareStack.add(
      (next) => async (args) => {
        started.push((args.input as { QueueUrl: string }).QueueUrl === first ? 'first' : 'second');
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          return await next(args);
        } finally {
          inFlight -= 1;
        }
      },
      { step: 'initialize', name: 'countInFlight' },
    );
    const toFirst = Array.from({ length: 25 }, (_, index) => message(`first-${index}`));
    const toSecond = Array.from({ length: 12 }, (_, index) => message(`second-${index}`));

    // Act
    const outcome = await sendToQueues(
      sqs,
      [
        { queueUrl: first, messages: toFirst },
        { queueUrl: second, messages: toSecond },
      ],
      2,
    );
    sqs.destroy();

    // Assess
    expect(outcome.failed).toEqual([]);
    expect([...outcome.sent].sort()).toEqual(
      [...toFirst, ...toSecond].map((entry) => entry.id).sort(),
    );
    expect(started).toEqual(['first', 'second', 'first', 'second', 'first']);
    expect(mostInFlight).toBe(2);
    expect(await queueDepth(stack.sqs, first)).toBe(25);
    expect(await queueDepth(stack.sqs, second)).toBe(12);
  });

  it('sends attributes as String message attributes and drops empty ones', async () => {
    // Prepare
    const queueUrl = await createQueue();

    // Act
    await sendMessages(stack.sqs, queueUrl, [
      message('a', 5, { attributes: { reason: 'not_json', empty: '' } }),
    ]);
    const [received] = await drainQueue(stack.sqs, queueUrl);

    // Assess
    expect(received?.attributes).toEqual({ reason: 'not_json' });
  });

  it('delays an entry by its delaySeconds', async () => {
    // Prepare
    const queueUrl = await createQueue();

    // Act
    await sendMessages(stack.sqs, queueUrl, [message('later', 5, { delaySeconds: 600 })]);

    // Assess
    expect(await drainQueue(stack.sqs, queueUrl)).toHaveLength(0);
    expect(await queueDepth(stack.sqs, queueUrl)).toBe(1);
  });

  it('sendMessage() sends one message with SendMessage and throws when SQS refuses it', async () => {
    // Prepare
    const queueUrl = await createQueue();

    // Act
    await sendMessage(stack.sqs, queueUrl, { body: 'one', attributes: { reason: 'exhausted' } });
    const refused = sendMessage(stack.sqs, queueUrl, { body: 'x'.repeat(300 * KIB) });

    // Assess
    await expect(refused).rejects.toThrow();
    const received = await drainQueue(stack.sqs, queueUrl);
    expect(received.map((entry) => [entry.body, entry.attributes.reason])).toEqual([
      ['one', 'exhausted'],
    ]);
    expect(stack.calls.filter((call) => call.command === 'SendMessageCommand')).toHaveLength(2);
  });

  it('changeVisibility() rounds up, and clamps to the 12 h maximum and to 0', async () => {
    // Prepare
    const queueUrl = await createQueue();
    await sendMessage(stack.sqs, queueUrl, { body: 'hidden' });
    const response = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1 }),
    );
    const receiptHandle = response.Messages?.[0]?.ReceiptHandle ?? '';

    // Act
    for (const seconds of [1.2, 50_000, -5]) {
      await changeVisibility(stack.sqs, queueUrl, receiptHandle, seconds);
    }

    // Assess
    const visibilities = stack.calls
      .filter((call) => call.command === 'ChangeMessageVisibilityCommand')
      .map((call) => call.visibilityTimeout);
    expect(visibilities).toEqual([2, SQS_LIMITS.maxVisibilitySeconds, 0]);
  });
});
