/**
 * The body of a batched request, as pure functions: how one event's rendered body becomes an
 * element (a JSON array element or an NDJSON line), how elements are split into requests by
 * `max_events` and `max_bytes`, and the batch's idempotency id.
 */
import { createHash } from 'node:crypto';
import type { BatchEncoding, ExportConfig } from '../../config/types.js';

/** Content types of the encodings, unless the export sets its own `Content-Type`. */
const BATCH_CONTENT_TYPES: Readonly<Record<BatchEncoding, string>> = {
  json_array: 'application/json',
  ndjson: 'application/x-ndjson',
};

/** An element that cannot be part of the batch body; the event is dead-lettered (render). */
class BatchElementError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchElementError';
  }
}

/**
 * The encoding of an export's batches: the configured one, else per `format` (a JSON array
 * for json, NDJSON for text).
 */
const batchEncodingOf = (exportConfig: ExportConfig): BatchEncoding =>
  exportConfig.batch?.encoding ?? (exportConfig.format === 'text' ? 'ndjson' : 'json_array');

const LINE_BREAK = /[\r\n]/;

/**
 * One event's part of the batch body: with format json the rendered body re-serialized on one
 * line (an array element or an NDJSON line); with format text, a JSON string in an array, or
 * the text itself as an NDJSON line (which must then be a single line).
 *
 * @throws BatchElementError when the body cannot be encoded.
 */
const batchElement = (exportConfig: ExportConfig, body: string): string => {
  const encoding = batchEncodingOf(exportConfig);
  if (exportConfig.format === 'json') {
    try {
      return JSON.stringify(JSON.parse(body));
    } catch (error) {
      throw new BatchElementError('the rendered body is not JSON, so it cannot join a batch', {
        cause: error,
      });
    }
  }
  if (encoding === 'json_array') return JSON.stringify(body);
  if (LINE_BREAK.test(body)) {
    throw new BatchElementError(
      'the rendered text body contains a line break, which would split its NDJSON line; render it on one line or use batch.encoding json_array',
    );
  }
  return body;
};

/** Joins elements into the body of one request. */
const joinBatch = (encoding: BatchEncoding, elements: readonly string[]): string =>
  encoding === 'json_array' ? `[${elements.join(',')}]` : `${elements.join('\n')}\n`;

/** Bytes an element adds to a body: itself plus its separator (`,` or the newline). */
const elementBytes = (element: string): number => Buffer.byteLength(element, 'utf8') + 1;

/** Bytes of a body beyond its elements and separators: the array's brackets. */
const FRAME_BYTES = { json_array: 1, ndjson: 0 } as const;

/**
 * Splits elements into requests of at most `maxEvents` elements and `maxBytes` body bytes,
 * keeping their order. An element larger than `maxBytes` on its own goes alone.
 *
 * @example
 * splitBatch(['{"a":1}', '{"b":2}'], { maxEvents: 1, maxBytes: 1024, encoding: 'ndjson' });
 * // → [[0], [1]]
 */
const splitBatch = (
  elements: readonly string[],
  limits: {
    readonly maxEvents: number;
    readonly maxBytes: number;
    readonly encoding: BatchEncoding;
  },
): number[][] => {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = FRAME_BYTES[limits.encoding];
  elements.forEach((element, index) => {
    const size = elementBytes(element);
    const full = current.length >= limits.maxEvents || bytes + size > limits.maxBytes;
    if (current.length > 0 && full) {
      groups.push(current);
      current = [];
      bytes = FRAME_BYTES[limits.encoding];
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) groups.push(current);
  return groups;
};

/**
 * The id of a batch, from its events' delivery ids: the same whenever the same events travel
 * together (a retry of the same group), so a receiver can de-duplicate whole requests. Each
 * event also keeps its own `audit_id` for per-event de-duplication.
 */
const batchId = (deliveryIds: readonly string[]): string =>
  `bat_${createHash('sha256').update(deliveryIds.join('\n')).digest('hex').slice(0, 32)}`;

export {
  BATCH_CONTENT_TYPES,
  BatchElementError,
  batchElement,
  batchEncodingOf,
  batchId,
  joinBatch,
  splitBatch,
};
