/**
 * SQS helpers, the pure part: message sizes and batch chunking by count and size. The sends
 * against the embedded SQS server are in test/integration/queues.test.ts.
 */
import {
  chunkForBatches,
  messageBytes,
  type OutgoingMessage,
  SQS_LIMITS,
} from '../../shared/sqs/queues.js';

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

const ids = (chunks: readonly (readonly OutgoingMessage[])[]): string[][] =>
  chunks.map((chunk) => chunk.map((entry) => entry.id));
describe('Function: messageBytes()', () => {
  it('counts the UTF-8 body and every attribute name, type and value', () => {
    // Prepare
    const withAttributes = message('a', 0, { body: 'héllo', attributes: { reason: 'not_json' } });

    // Act
    const bytes = messageBytes(withAttributes);

    // Assess
    expect(bytes).toBe(6 + 'reason'.length + 'String'.length + 'not_json'.length);
  });
});

describe('Function: chunkForBatches()', () => {
  it('groups small messages 10 to a batch', () => {
    // Prepare
    const messages = Array.from({ length: 25 }, (_, index) => message(`m${index}`));

    // Act
    const chunks = chunkForBatches(messages);

    // Assess
    expect(chunks.map((chunk) => chunk.length)).toEqual([10, 10, 5]);
    expect(chunks.flat().map((entry) => entry.id)).toEqual(messages.map((entry) => entry.id));
  });

  it('starts a new batch before the request would pass 256 KiB', () => {
    // Prepare
    const messages = [message('a', 100 * KIB), message('b', 100 * KIB), message('c', 100 * KIB)];

    // Act
    const chunks = chunkForBatches(messages);

    // Assess
    expect(ids(chunks)).toEqual([['a', 'b'], ['c']]);
  });

  it('fills a batch up to exactly 256 KiB', () => {
    // Prepare
    const half = SQS_LIMITS.requestBytes / 2;

    // Act
    const chunks = chunkForBatches([message('a', half), message('b', half), message('c', 1)]);

    // Assess
    expect(ids(chunks)).toEqual([['a', 'b'], ['c']]);
  });

  it('gives a message over the per-message limit a batch of its own', () => {
    // Prepare
    const messages = [message('small-1'), message('huge', 300 * KIB), message('small-2')];

    // Act
    const chunks = chunkForBatches(messages);

    // Assess
    expect(ids(chunks)).toEqual([['small-1'], ['huge'], ['small-2']]);
  });

  it('returns no batch for no message', () => {
    // Act
    const chunks = chunkForBatches([]);

    // Assess
    expect(chunks).toEqual([]);
  });
});
