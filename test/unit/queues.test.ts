/**
 * SQS helpers, the pure part: message sizes, batch chunking by count and size, and packing items
 * into JSON-array messages. The sends against the embedded SQS server are in
 * test/integration/queues.test.ts.
 */
import fc from 'fast-check';
import {
  chunkForBatches,
  messageBytes,
  type OutgoingMessage,
  type PackItem,
  packJsonArrays,
  SQS_LIMITS,
  sqsBody,
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
describe('Function: sqsBody()', () => {
  /** What SQS takes in a body (its documented character ranges). */
  const SQS_TEXT = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

  it('writes U+FFFE and U+FFFF of any JSON as escapes: the same JSON, text SQS takes', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(fc.constantFrom('\uFFFE', '\uFFFF', 'a', '\u00e9'), { maxLength: 6 }),
        (value, extra) => {
          const json = JSON.stringify({ value, text: extra.join('') });
          const body = sqsBody(json);
          expect(JSON.parse(body)).toEqual(JSON.parse(json));
          expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
        },
      ),
      { numRuns: 500 },
    );
    expect(sqsBody('{"a":"\uFFFF"}')).toMatch(SQS_TEXT);
  });

  it('leaves a body without them as it is', () => {
    const body = '{"audit_id":"ae_1","note":"caf\u00e9"}';

    expect(sqsBody(body)).toBe(body);
  });
});

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

/** An item whose JSON text is `bytes` long: a string of `x`, quoted. */
const packItem = (name: string, bytes = 100): PackItem => ({
  name,
  json: JSON.stringify('x'.repeat(bytes - 2)),
});

const itemsOf = (result: ReturnType<typeof packJsonArrays>): number[][] =>
  result.ok ? result.messages.map((packed) => [...packed.items]) : [];

describe('Function: packJsonArrays()', () => {
  it('packs small items into one JSON array, in order', () => {
    // Prepare
    const items = Array.from({ length: 25 }, (_, index) => packItem(`i${index}`));

    // Act
    const result = packJsonArrays(items);

    // Assess
    expect(itemsOf(result)).toEqual([items.map((_, index) => index)]);
    const body = result.ok ? result.messages[0]?.body : undefined;
    expect(JSON.parse(body ?? 'null')).toEqual(items.map((item) => JSON.parse(item.json)));
  });

  it('starts a new message before the body would pass the size limit, array punctuation counted', () => {
    // Prepare: 3 items of 100 bytes make an array of 304 bytes (brackets and two commas).
    const items = Array.from({ length: 7 }, (_, index) => packItem(`i${index}`));

    // Act
    const exact = packJsonArrays(items, { maxBytes: 3 * 100 + 4 });
    const oneShort = packJsonArrays(items, { maxBytes: 3 * 100 + 3 });

    // Assess
    expect(itemsOf(exact)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(itemsOf(oneShort)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    const bodies = exact.ok ? exact.messages.map((packed) => packed.body) : [];
    expect(bodies.map((body) => Buffer.byteLength(body))).toEqual([304, 304, 100]);
  });

  it('sends an item alone as itself, not as an array of one', () => {
    // Act
    const result = packJsonArrays([packItem('only')]);

    // Assess
    expect(result).toEqual({ ok: true, messages: [{ body: packItem('only').json, items: [0] }] });
  });

  it('holds at most maxItems items per message', () => {
    // Prepare
    const items = Array.from({ length: 2_500 }, (_, index) => packItem(`i${index}`, 10));

    // Act
    const result = packJsonArrays(items, { maxItems: 1_000 });

    // Assess
    expect(itemsOf(result).map((message) => message.length)).toEqual([1_000, 1_000, 500]);
    expect(itemsOf(result).flat()).toEqual(items.map((_, index) => index));
  });

  it('packs 256 KiB messages by default: 3,000 events of 600 bytes in 7 messages', () => {
    // Prepare
    const items = Array.from({ length: 3_000 }, (_, index) => packItem(`i${index}`, 600));

    // Act
    const result = packJsonArrays(items);

    // Assess: 436 items of 600 bytes, their commas and brackets fit in 262,144 bytes; 437 do not.
    const counts = itemsOf(result).map((message) => message.length);
    expect(counts).toEqual([436, 436, 436, 436, 436, 436, 384]);
    const sizes = result.ok ? result.messages.map((packed) => Buffer.byteLength(packed.body)) : [];
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SQS_LIMITS.messageBytes);
    // A batch request holds 256 KiB too, so each full message goes in a request of its own.
    const outgoing = result.ok
      ? result.messages.map((packed, index) => ({ id: String(index), body: packed.body }))
      : [];
    expect(chunkForBatches(outgoing).map((chunk) => chunk.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('puts 10 small messages in one SendMessageBatch', () => {
    // Prepare
    const items = Array.from({ length: 120 }, (_, index) => packItem(`i${index}`));

    // Act
    const result = packJsonArrays(items, { maxItems: 10 });
    const outgoing = result.ok
      ? result.messages.map((packed, index) => ({ id: String(index), body: packed.body }))
      : [];

    // Assess
    expect(outgoing).toHaveLength(12);
    expect(chunkForBatches(outgoing).map((chunk) => chunk.length)).toEqual([10, 2]);
  });

  it('refuses an item larger than a message, naming it and what to do', () => {
    // Prepare
    const items = [
      packItem('audit_id ae_small'),
      packItem('audit_id ae_huge', 300 * KIB),
      packItem('audit_id ae_after'),
    ];

    // Act
    const result = packJsonArrays(items);

    // Assess
    expect(result).toEqual({
      ok: false,
      item: 1,
      message: `audit_id ae_huge is ${300 * KIB} bytes as JSON, more than the ${SQS_LIMITS.messageBytes} one message holds: it cannot be sent; make it smaller or leave it out`,
    });
  });

  it('packs no item into no message', () => {
    // Act
    const result = packJsonArrays([]);

    // Assess
    expect(result).toEqual({ ok: true, messages: [] });
  });
});
