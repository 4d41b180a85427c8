/**
 * The dead-letter archive of a stage (the `dead-letters` queue, kept 14 days): listing it
 * without consuming it, finding one dead letter, and replaying dead letters onto their export's
 * delivery queue. The SQS client is passed in, so the same code serves the local stack and AWS.
 *
 * SQS has no "peek": listing receives every message with a visibility timeout, then makes each
 * visible again at once (ChangeMessageVisibility 0). While a listing runs, another reader of the
 * archive sees fewer messages; nothing but the CLI reads it.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { sendMessages } from '../../sqs/queues.js';
import {
  ALERT_STATES,
  type AlertState,
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type MalformedRecord,
  readDeadLetter,
  readMalformedMessage,
  replayMessage,
} from '../messages/index.js';

/** What every message of the archive has, read or not. */
interface ArchivedMessage {
  /** The SQS message id: stable for the life of the message. */
  readonly messageId: string;
  readonly export: string;
  readonly auditId?: string;
  /** A dead-letter reason, or `malformed` for a body that holds no dead letter. */
  readonly reason: string;
  /** When it was dead-lettered (the dead letter's own time, else when SQS received it). */
  readonly archivedAt?: string;
  /**
   * Whether its `webhook.dlq` alert was raised, from the dead-letter step's `alert` attribute;
   * `unknown` for a message SQS moved here by itself (the dead-letter step kept failing on it
   * before it could raise or archive: its export's dead-letters alarm fired meanwhile).
   */
  readonly alert: AlertState | 'unknown';
  /** The body as stored. */
  readonly body: string;
  /** The message's string attributes (export, audit_id, reason, delivery_id). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A message of the archive that holds a dead letter: it can be replayed. */
interface ReadableDeadLetter extends ArchivedMessage {
  readonly deliveryId: string;
  readonly deadLetter: DeadLetter;
  readonly malformed?: undefined;
}

/** A message of the archive that holds no dead letter: kept as it came, never replayed. */
interface MalformedDeadLetter extends ArchivedMessage {
  readonly deliveryId?: undefined;
  readonly deadLetter?: undefined;
  readonly malformed: MalformedRecord;
}

/** One message of the archive, read: a dead letter, or a malformed record. */
type ArchivedDeadLetter = ReadableDeadLetter | MalformedDeadLetter;

/** Options of the archive reads. */
interface ArchiveReadOptions {
  /** Only dead letters of this export. */
  readonly export?: string;
  /**
   * How long each received message stays hidden while the listing runs; it is made visible
   * again right after. @default 60
   */
  readonly visibilitySeconds?: number;
  /**
   * Long-poll wait of each receive: a short poll on AWS may answer "empty" while messages
   * remain, a long poll asks every server. @default 1
   */
  readonly waitSeconds?: number;
  /** Most messages read. @default 10000 */
  readonly limit?: number;
}

/** A listing of the archive. */
interface DeadLetterListing {
  /** Oldest first. */
  readonly deadLetters: readonly ArchivedDeadLetter[];
  /**
   * False when the listing stopped early (the limit, or close to the visibility timeout):
   * more dead letters may exist.
   */
  readonly complete: boolean;
}

/** What a redrive did. */
interface RedriveOutcome {
  /** Sent to their delivery queue with `attempts: 0`, then deleted from the archive. */
  readonly redriven: readonly ArchivedDeadLetter[];
  /** Malformed entries: nothing to replay; left in the archive. */
  readonly skipped: readonly ArchivedDeadLetter[];
  /** Could not be sent; left in the archive. */
  readonly failed: readonly { readonly deadLetter: ArchivedDeadLetter; readonly why: string }[];
  /**
   * Replayed but not deleted from the archive (the delete failed): they show up again and a
   * second redrive would send them twice (receivers de-duplicate on Idempotency-Key).
   */
  readonly notDeleted: readonly ArchivedDeadLetter[];
  readonly complete: boolean;
}

/** The queue URL of an export's delivery queue; may throw when it does not exist. */
type DeliveryQueueUrlFor = (exportName: string) => string | Promise<string>;

const SQS_BATCH = 10;
const DEFAULTS = { visibilitySeconds: 60, waitSeconds: 1, limit: 10_000 } as const;

interface Received<Entry extends ArchivedDeadLetter = ArchivedDeadLetter> {
  readonly entry: Entry;
  /** The handle of the latest receive: only it can change or delete the message. */
  receiptHandle: string;
}

const stringAttributes = (message: Message): Record<string, string> => {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return attributes;
};

const ALERT_VALUES: readonly string[] = Object.values(ALERT_STATES);

const alertOf = (attributes: Readonly<Record<string, string>>): AlertState | 'unknown' => {
  const alert = attributes.alert;
  if (alert !== undefined && ALERT_VALUES.includes(alert)) return alert as AlertState;
  return attributes.reason === DEAD_LETTER_REASONS.malformed ? ALERT_STATES.none : 'unknown';
};

const toEntry = (message: Message): ArchivedDeadLetter => {
  const body = message.Body ?? '';
  const attributes = stringAttributes(message);
  const alert = alertOf(attributes);
  const sentMs = Number(message.Attributes?.SentTimestamp);
  const sentAt = Number.isFinite(sentMs) && sentMs > 0 ? new Date(sentMs) : undefined;
  const messageId = message.MessageId ?? '';
  // A delivery message SQS moved here by itself (the dead-letter step kept failing on it) is
  // read as a dead letter with reason `redrive`, built as the dead-letter step builds it.
  const read = readDeadLetter(body, {
    detail: 'SQS moved the delivery message to the archive without a dead-letter record',
    now: sentAt ?? new Date(0),
  });
  if (!read.ok) {
    const malformed = readMalformedMessage(body, attributes, read.problem);
    return {
      messageId,
      export: malformed.export ?? 'unknown',
      ...(attributes.audit_id === undefined ? {} : { auditId: attributes.audit_id }),
      reason: malformed.reason,
      ...(sentAt === undefined ? {} : { archivedAt: sentAt.toISOString() }),
      malformed,
      alert: ALERT_STATES.none,
      body,
      attributes,
    };
  }
  const { deadLetter } = read;
  return {
    messageId,
    export: deadLetter.export,
    auditId: deadLetter.event.audit_id,
    deliveryId: deadLetter.delivery_id,
    reason: deadLetter.reason,
    archivedAt: deadLetter.dead_lettered_at,
    deadLetter,
    alert,
    body,
    attributes,
  };
};

/**
 * Receives every message of the archive (up to the limit), each hidden for the visibility
 * timeout, de-duplicated by message id. Stops at an empty receive, the limit, or when two
 * thirds of the visibility timeout have passed (the first messages would reappear).
 */
const receiveAll = async (
  sqs: SQSClient,
  queueUrl: string,
  options: ArchiveReadOptions,
): Promise<{ received: Received[]; complete: boolean }> => {
  const visibilitySeconds = options.visibilitySeconds ?? DEFAULTS.visibilitySeconds;
  const limit = options.limit ?? DEFAULTS.limit;
  const deadline = Date.now() + (visibilitySeconds * 1000 * 2) / 3;
  const byId = new Map<string, Received>();
  for (;;) {
    if (byId.size >= limit || Date.now() >= deadline)
      return { received: [...byId.values()], complete: false };
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: SQS_BATCH,
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: options.waitSeconds ?? DEFAULTS.waitSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
    );
    const messages = response.Messages ?? [];
    if (messages.length === 0) return { received: [...byId.values()], complete: true };
    for (const message of messages) {
      if (!message.MessageId || !message.ReceiptHandle) continue;
      const known = byId.get(message.MessageId);
      if (known) known.receiptHandle = message.ReceiptHandle;
      else
        byId.set(message.MessageId, {
          entry: toEntry(message),
          receiptHandle: message.ReceiptHandle,
        });
    }
  }
};

const inChunks = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    chunks.push(items.slice(start, start + size));
  return chunks;
};

/**
 * Makes received messages visible again. A failed change is not fatal: the message reappears
 * once its visibility timeout ends. Returns the message ids that could not be changed.
 */
const release = async (
  sqs: SQSClient,
  queueUrl: string,
  received: readonly Received[],
): Promise<string[]> => {
  const notReleased: string[] = [];
  for (const chunk of inChunks(received, SQS_BATCH)) {
    try {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((item, index) => ({
            Id: `r${index}`,
            ReceiptHandle: item.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      for (const failure of response.Failed ?? []) {
        const item = chunk[Number(failure.Id?.slice(1))];
        if (item) notReleased.push(item.entry.messageId);
      }
    } catch {
      notReleased.push(...chunk.map((item) => item.entry.messageId));
    }
  }
  return notReleased;
};

/** Deletes messages; returns those that could not be deleted. */
const remove = async (
  sqs: SQSClient,
  queueUrl: string,
  received: readonly Received[],
): Promise<Received[]> => {
  const notDeleted: Received[] = [];
  for (const chunk of inChunks(received, SQS_BATCH)) {
    try {
      const response = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((item, index) => ({
            Id: `d${index}`,
            ReceiptHandle: item.receiptHandle,
          })),
        }),
      );
      for (const failure of response.Failed ?? []) {
        const item = chunk[Number(failure.Id?.slice(1))];
        if (item) notDeleted.push(item);
      }
    } catch {
      notDeleted.push(...chunk);
    }
  }
  return notDeleted;
};

const isReadable = (item: Received): item is Received<ReadableDeadLetter> =>
  item.entry.deadLetter !== undefined;

const byArchivedAt = (a: ArchivedDeadLetter, b: ArchivedDeadLetter): number =>
  (a.archivedAt ?? '').localeCompare(b.archivedAt ?? '');

/**
 * Lists the archive without consuming it: every message is received, read and made visible
 * again. Oldest first.
 *
 * @example
 * const { deadLetters } = await listDeadLetters(sqs, archiveUrl, { export: 'pagerduty-alerts' });
 */
const listDeadLetters = async (
  sqs: SQSClient,
  queueUrl: string,
  options: ArchiveReadOptions = {},
): Promise<DeadLetterListing> => {
  const { received, complete } = await receiveAll(sqs, queueUrl, options);
  await release(sqs, queueUrl, received);
  const deadLetters = received
    .map((item) => item.entry)
    .filter((entry) => options.export === undefined || entry.export === options.export)
    .sort(byArchivedAt);
  return { deadLetters, complete };
};

/** Whether `id` names an entry: its delivery_id, its event's audit_id, or its message id. */
const matchesId = (entry: ArchivedDeadLetter, id: string): boolean =>
  entry.deliveryId === id || entry.auditId === id || entry.messageId === id;

/**
 * The archive entries an id names (a delivery_id, an audit_id, or a message id). An audit_id
 * dead-lettered for several exports names several.
 *
 * @example
 * const [match] = await showDeadLetter(sqs, archiveUrl, 'ae_01JC...');
 */
const showDeadLetter = async (
  sqs: SQSClient,
  queueUrl: string,
  id: string,
  options: ArchiveReadOptions = {},
): Promise<ArchivedDeadLetter[]> => {
  const { deadLetters } = await listDeadLetters(sqs, queueUrl, options);
  return deadLetters.filter((entry) => matchesId(entry, id));
};

const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Replays dead letters: each becomes a fresh delivery message (attempts 0, the same
 * delivery_id and event) on its export's delivery queue, and is deleted from the archive once
 * sent. Several entries with the same delivery_id are replayed once and all deleted. Malformed
 * entries are skipped; entries that could not be sent stay in the archive.
 *
 * @example
 * const outcome = await redriveDeadLetters(sqs, archiveUrl, (name) => queues.delivery(name), {
 *   export: 'pagerduty-alerts',
 * });
 */
const redriveDeadLetters = async (
  sqs: SQSClient,
  archiveUrl: string,
  deliveryQueueUrlFor: DeliveryQueueUrlFor,
  options: ArchiveReadOptions & { readonly id?: string } = {},
): Promise<RedriveOutcome> => {
  const { received, complete } = await receiveAll(sqs, archiveUrl, options);
  const selected = received.filter(
    ({ entry }) =>
      (options.export === undefined || entry.export === options.export) &&
      (options.id === undefined || matchesId(entry, options.id)),
  );
  const selectedIds = new Set(selected.map(({ entry }) => entry.messageId));
  const keep: Received[] = received.filter(({ entry }) => !selectedIds.has(entry.messageId));
  const skipped = selected.filter(({ entry }) => entry.deadLetter === undefined);
  keep.push(...skipped);

  // One replay per delivery_id (the latest dead letter), grouped by export.
  const byDelivery = new Map<string, Received<ReadableDeadLetter>[]>();
  for (const item of selected.filter(isReadable)) {
    const key = item.entry.deliveryId;
    byDelivery.set(key, [...(byDelivery.get(key) ?? []), item]);
  }
  const byExport = new Map<string, Received<ReadableDeadLetter>[][]>();
  for (const group of byDelivery.values()) {
    group.sort((a, b) => byArchivedAt(a.entry, b.entry));
    const exportName = group[0]?.entry.export ?? 'unknown';
    byExport.set(exportName, [...(byExport.get(exportName) ?? []), group]);
  }

  const redriven: ArchivedDeadLetter[] = [];
  const replayedAt = new Date();
  const failed: { deadLetter: ArchivedDeadLetter; why: string }[] = [];
  const toDelete: Received[] = [];
  for (const [exportName, groups] of byExport) {
    const failGroups = (why: string) => {
      for (const group of groups) {
        keep.push(...group);
        for (const item of group) failed.push({ deadLetter: item.entry, why });
      }
    };
    let queueUrl: string;
    try {
      queueUrl = await deliveryQueueUrlFor(exportName);
    } catch (error) {
      failGroups(describeError(error));
      continue;
    }
    const latest = (group: Received<ReadableDeadLetter>[]) =>
      group[group.length - 1] as Received<ReadableDeadLetter>;
    const outcome = await sendMessages(
      sqs,
      queueUrl,
      groups.map((group, index) => ({
        id: String(index),
        body: JSON.stringify(replayMessage(latest(group).entry.deadLetter, replayedAt)),
      })),
    );
    const failures = new Map(outcome.failed.map((failure) => [failure.id, failure]));
    groups.forEach((group, index) => {
      const failure = failures.get(String(index));
      if (failure) {
        keep.push(...group);
        for (const item of group) {
          failed.push({ deadLetter: item.entry, why: `${failure.code}: ${failure.message}` });
        }
        return;
      }
      redriven.push(latest(group).entry);
      toDelete.push(...group);
    });
  }

  const notDeleted = await remove(sqs, archiveUrl, toDelete);
  await release(sqs, archiveUrl, [...keep, ...notDeleted]);
  return {
    redriven: redriven.sort(byArchivedAt),
    skipped: skipped.map(({ entry }) => entry),
    failed,
    notDeleted: notDeleted.map(({ entry }) => entry),
    complete,
  };
};

export type {
  ArchivedDeadLetter,
  ArchivedMessage,
  ArchiveReadOptions,
  DeadLetterListing,
  DeliveryQueueUrlFor,
  MalformedDeadLetter,
  ReadableDeadLetter,
  RedriveOutcome,
};
export { listDeadLetters, redriveDeadLetters, showDeadLetter };
