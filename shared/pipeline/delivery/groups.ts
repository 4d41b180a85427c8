/**
 * How prepared records are grouped into requests. An export without `batch` sends each record
 * alone: a group of one, whose request is the record's own. An export with `batch` joins the
 * records of an invocation into a few requests, split by `max_events` and `max_bytes`. The
 * engine runs the same phases on a group whatever its size.
 */
import type { ExportConfig } from '../../config/types.js';
import { signingHeaders, WEBHOOK_HEADERS } from '../../request/signing.js';
import type { OutgoingRequest } from '../../transport/http.js';
import {
  BATCH_CONTENT_TYPES,
  batchEncodingOf,
  batchId,
  joinBatch,
  splitBatch,
} from './batchBody.js';
import type { PreparedItem } from './types.js';

/** Per-event headers of a prepared request that do not describe a batch. */
const PER_EVENT_HEADERS = new Set([
  'idempotency-key',
  WEBHOOK_HEADERS.id,
  WEBHOOK_HEADERS.timestamp,
  WEBHOOK_HEADERS.signature,
  'content-type',
]);

/**
 * The groups a set of prepared records is sent in.
 *
 * @example
 * groupsOf(exportConfig, prepared); // without batch: [[a], [b], [c]]; with batch: [[a, b, c]]
 */
const groupsOf = (
  exportConfig: ExportConfig,
  prepared: readonly PreparedItem[],
): PreparedItem[][] => {
  const batch = exportConfig.batch;
  if (batch === undefined) return prepared.map((item) => [item]);
  return splitBatch(
    prepared.map((item) => item.element ?? ''),
    {
      maxEvents: batch.max_events,
      maxBytes: batch.max_bytes,
      encoding: batchEncodingOf(exportConfig),
    },
  ).map((indexes) => indexes.flatMap((index) => prepared[index] ?? []));
};

/**
 * The request of a batched group: the first record's method, URL and export headers, the
 * joined body, the batch's own idempotency id, and (with signing) a signature over the joined
 * body.
 */
const batchRequest = (
  exportConfig: ExportConfig,
  group: readonly [PreparedItem, ...PreparedItem[]],
  variables: Readonly<Record<string, string>>,
): OutgoingRequest => {
  const [first] = group;
  const encoding = batchEncodingOf(exportConfig);
  const body = joinBatch(
    encoding,
    group.map((item) => item.element ?? ''),
  );
  const id = batchId(group.map((item) => item.message.delivery_id));
  // Headers the export sets itself are kept as they are; the per-event ones are replaced by
  // the batch's own.
  const configured = new Set(
    Object.keys(exportConfig.webhook.headers).map((name) => name.toLowerCase()),
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(first.request.headers)) {
    const lower = name.toLowerCase();
    if (!PER_EVENT_HEADERS.has(lower) || configured.has(lower)) headers[name] = value;
  }
  if (!configured.has('content-type')) headers['Content-Type'] = BATCH_CONTENT_TYPES[encoding];
  if (!configured.has('idempotency-key')) headers['Idempotency-Key'] = id;
  if (!configured.has(WEBHOOK_HEADERS.id)) headers[WEBHOOK_HEADERS.id] = id;
  const signing = exportConfig.webhook.signing;
  if (signing !== undefined) {
    Object.assign(
      headers,
      signingHeaders(signing, { exportName: exportConfig.name, id, body, variables }),
    );
  }
  return { ...first.request, headers, body };
};

/**
 * The request that carries a group: a lone record's own request, or the batch's.
 *
 * @throws SigningSecretError when the batch cannot be signed.
 */
const requestForGroup = (
  exportConfig: ExportConfig,
  group: readonly [PreparedItem, ...PreparedItem[]],
  variables: Readonly<Record<string, string>>,
): OutgoingRequest =>
  exportConfig.batch === undefined
    ? group[0].request
    : batchRequest(exportConfig, group, variables);

export { groupsOf, requestForGroup };
