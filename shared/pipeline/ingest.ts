/**
 * The ingest step: validate the audit events of a batch of ingest-queue records, match them
 * against every export's filters and enqueue one delivery message per (event, matching export).
 *
 * It works on the whole batch rather than record by record so that messages from many records
 * share `SendMessageBatch` requests (full batches of 10 under load). A record whose messages were
 * not all accepted is reported as a batch item failure and comes back; its other messages may
 * then be sent twice, which the stable delivery id lets receivers de-duplicate.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { SQS_WRITE_MARGIN_MS } from '../awsClientSettings.js';
import type { ObservabilityConfig } from '../config/types.js';
import {
  type AuditEvent,
  formatEventProblems,
  MAX_EVENT_BYTES,
  MAX_EVENTS_PER_MESSAGE,
  validateEvent,
} from '../events/auditEvent.js';
import { parseEventJson } from '../events/eventJson.js';
import { matchesFilters } from '../events/filter.js';
import type { NoticeSink } from '../observability/notices.js';
import type { QueueDirectory } from '../sqs/queueNames.js';
import { type OutgoingMessage, SQS_LIMITS, sendToQueues, sqsText } from '../sqs/queues.js';
// The writers only, not the codec's barrel: the ingest reads no queue body of ours, and
// importing the readers would bundle their schemas into the ingest function.
import { newDeliveryMessage } from './messages/deliveryMessage.js';
import { truncateUtf8 } from './messages/truncateUtf8.js';

/** Why an event was parked in the ingest dead-letter queue instead of being fanned out. */
const PARK_REASONS = {
  notJson: 'not_json',
  invalidEvent: 'invalid_event',
  tooLarge: 'too_large',
  tooManyEvents: 'too_many_events',
} as const;

interface FanOutDeps {
  readonly sqs: SQSClient;
  readonly config: ObservabilityConfig;
  readonly queues: QueueDirectory;
  readonly notify: NoticeSink;
}

/** What the ingest knows about its invocation's deadline. */
interface FanOutClock {
  remainingMs(): number;
}

interface FanOutResult {
  readonly batchItemFailures: SQSBatchItemFailure[];
}

/** A message to send, and the record it came from (to report failures per record). */
interface PendingSend {
  readonly queueUrl: string;
  readonly recordId: string;
  readonly message: OutgoingMessage;
}

/** Room left in a parked message for the original body after the reason attributes. */
const PARKED_BODY_BYTES = SQS_LIMITS.messageBytes - 4 * 1024;

/** The content of a record body: its items, or why it cannot be read. */
type DecodedBody =
  | {
      readonly ok: true;
      readonly values: unknown[];
      /** The JSON text of the content, which is the text of the item when there is one. */
      readonly text: string;
    }
  | { readonly ok: false; readonly detail: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What an SNS topic (raw message delivery off) or an EventBridge rule delivers, unwrapped: the
 * notification's `Message` parsed the way every producer body is, the event's `detail`. Any
 * other value is the content itself. Pure, so tables of bodies test it without a queue.
 *
 * @example
 * unwrapDelivery({ Type: 'Notification', TopicArn: 'arn:aws:sns:…', Message: '{"audit_id":"a"}' }, text);
 * // { ok: true, value: { audit_id: 'a' }, text: '{"audit_id":"a"}' }
 */
const unwrapDelivery = (
  value: unknown,
  text: string,
): { ok: true; value: unknown; text: string } | { ok: false; detail: string } => {
  if (!isRecord(value)) return { ok: true, value, text };
  if (
    value.Type === 'Notification' &&
    typeof value.TopicArn === 'string' &&
    typeof value.Message === 'string'
  ) {
    const inner = parseEventJson(value.Message);
    if (!inner.ok) {
      return {
        ok: false,
        detail: `the message is an SNS notification from ${value.TopicArn.slice(0, 300)} whose Message is not valid JSON (publish the audit event as JSON; raw message delivery must be off)`,
      };
    }
    return { ok: true, value: inner.value, text: value.Message };
  }
  if (
    typeof value['detail-type'] === 'string' &&
    typeof value.source === 'string' &&
    isRecord(value.detail)
  ) {
    return { ok: true, value: value.detail, text: itemText(value.detail) ?? text };
  }
  return { ok: true, value, text };
};

/**
 * The events of one record body: one event, or a JSON array of events (producers batch), as
 * sent or inside an SNS notification or EventBridge event ({@link unwrapDelivery}).
 */
const decodeBody = (body: string): DecodedBody => {
  // A leading byte order mark is dropped and numbers a double would round are kept as their
  // text, for validation to refuse (eventJson.ts).
  const parsed = parseEventJson(body);
  if (!parsed.ok) return { ok: false, detail: 'the message body is not valid JSON' };
  const content = unwrapDelivery(parsed.value, body);
  if (!content.ok) return content;
  return {
    ok: true,
    values: Array.isArray(content.value) ? content.value : [content.value],
    text: content.text,
  };
};

/** The item as JSON text, or undefined when it is nested too deeply to serialise. */
const itemText = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
};

const auditIdOf = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const auditId = (value as Record<string, unknown>).audit_id;
  return typeof auditId === 'string' ? auditId.slice(0, 200) : undefined;
};

/**
 * A parked event: the original text (cut to fit, with its full size noted) and the reason as
 * message attributes, so the ingest DLQ says why without anyone re-running validation.
 */
const parkedMessage = (
  id: string,
  original: string,
  reason: string,
  detail: string,
  record: SQSRecord,
  auditId: string | undefined,
): OutgoingMessage => {
  const originalBytes = Buffer.byteLength(original, 'utf8');
  const body = truncateUtf8(original, PARKED_BODY_BYTES);
  return {
    id,
    body: body.length > 0 ? body : '(empty)',
    attributes: {
      reason,
      detail: sqsText(truncateUtf8(detail, 1024)),
      source_message_id: record.messageId,
      ...(auditId === undefined ? {} : { audit_id: sqsText(auditId) }),
      ...(body.length < original.length
        ? { truncated: 'true', original_bytes: String(originalBytes) }
        : {}),
    },
  };
};

/** Plans every message of one record: deliveries for valid events, parking for the rest. */
const planRecord = (record: SQSRecord, deps: FanOutDeps): PendingSend[] => {
  const sends: PendingSend[] = [];
  const park = (
    index: number,
    original: string,
    reason: string,
    detail: string,
    value?: unknown,
  ) => {
    const auditId = auditIdOf(value);
    deps.notify({
      type: 'event_parked',
      sourceMessageId: record.messageId,
      ...(auditId === undefined ? {} : { auditId }),
      reason,
      detail,
    });
    sends.push({
      queueUrl: deps.queues.ingestDlq,
      recordId: record.messageId,
      message: parkedMessage(
        `${record.messageId}#${index}`,
        original,
        reason,
        detail,
        record,
        auditId,
      ),
    });
  };

  const decoded = decodeBody(record.body);
  if (!decoded.ok) {
    park(0, record.body, PARK_REASONS.notJson, decoded.detail);
    return sends;
  }
  const values = decoded.values;
  if (values.length > MAX_EVENTS_PER_MESSAGE) {
    const detail = `the message holds ${values.length} items; the limit is ${MAX_EVENTS_PER_MESSAGE} per message: send smaller arrays`;
    park(0, record.body, PARK_REASONS.tooManyEvents, detail);
    return sends;
  }
  let events = 0;
  values.forEach((value, index) => {
    const text = values.length === 1 ? decoded.text : itemText(value);
    if (text === undefined) {
      // Thousands of levels deep: JSON.stringify overflowed the stack. Validation is depth-capped
      // and says where; the whole body is kept as the original text.
      const validation = validateEvent(value);
      const detail = validation.ok
        ? 'nested too deeply to serialise'
        : formatEventProblems(validation.problems);
      park(index, record.body, PARK_REASONS.invalidEvent, detail, value);
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_EVENT_BYTES) {
      const detail = `the event is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES}`;
      park(index, text, PARK_REASONS.tooLarge, detail, value);
      return;
    }
    const validation = validateEvent(value);
    if (!validation.ok) {
      park(index, text, PARK_REASONS.invalidEvent, formatEventProblems(validation.problems), value);
      return;
    }
    events++;
    sends.push(...deliveriesFor(validation.event, record, index, deps));
  });
  deps.notify({
    type: 'fanned_out',
    sourceMessageId: record.messageId,
    events,
    messages: sends.filter((send) => send.queueUrl !== deps.queues.ingestDlq).length,
  });
  return sends;
};

const deliveriesFor = (
  event: AuditEvent,
  record: SQSRecord,
  index: number,
  deps: FanOutDeps,
): PendingSend[] =>
  deps.config.exports
    .filter((exportConfig) => matchesFilters(event, exportConfig.filters))
    .map((exportConfig) => ({
      queueUrl: deps.queues.delivery(exportConfig.name),
      recordId: record.messageId,
      message: {
        id: `${record.messageId}#${index}#${exportConfig.name}`,
        body: JSON.stringify(newDeliveryMessage(event, exportConfig.name)),
      },
    }));

/**
 * `SendMessageBatch` requests of one invocation in flight at once: the AWS SDK's socket pool
 * (50 per client), so that none waits for a connection. One after another, a batch of 10
 * records holding arrays of 50 events made 50 round trips per export queue before its last
 * events left; the queues took turns only with each other.
 */
const FAN_OUT_REQUESTS_IN_FLIGHT = 50;

/**
 * Fans a batch of ingest records out to the export delivery queues and parks invalid events.
 *
 * @example
 * const { batchItemFailures } = await fanOut(event.Records, { sqs, config, queues, notify });
 */
const fanOut = async (
  records: readonly SQSRecord[],
  deps: FanOutDeps,
  clock?: FanOutClock,
): Promise<FanOutResult> => {
  const byQueue = new Map<string, OutgoingMessage[]>();
  const recordOf = new Map<string, string>();
  for (const record of records) {
    for (const send of planRecord(record, deps)) {
      const messages = byQueue.get(send.queueUrl) ?? [];
      messages.push(send.message);
      byQueue.set(send.queueUrl, messages);
      recordOf.set(send.message.id, send.recordId);
    }
  }
  const outcome = await sendToQueues(
    deps.sqs,
    [...byQueue].map(([queueUrl, messages]) => ({ queueUrl, messages })),
    FAN_OUT_REQUESTS_IN_FLIGHT,
    // A request starts only with time left to finish it: past that, the records whose messages
    // are not all sent go back to the queue (those sent go again then; deliveries drop the
    // duplicates: shared/pipeline/copyLedger.ts), rather than the invocation being cut and all
    // of them sent again. Messages go out in record order, so the first records finish first.
    clock === undefined ? {} : { shouldStop: () => clock.remainingMs() < SQS_WRITE_MARGIN_MS },
  );
  const failedRecords = new Set<string>();
  for (const failure of outcome.failed) {
    const recordId = recordOf.get(failure.id);
    if (recordId !== undefined) failedRecords.add(recordId);
  }
  return {
    batchItemFailures: [...failedRecords].map((itemIdentifier) => ({ itemIdentifier })),
  };
};

export type { FanOutClock, FanOutDeps, FanOutResult };
export { fanOut, PARK_REASONS, unwrapDelivery };
