/**
 * The dead-letter step: for every dead-lettered delivery, raise exactly one `webhook.dlq` audit
 * event into the ingest queue (so exports route it like any event) and keep the dead letter in
 * the stage's dead-letter archive, where the CLI lists, shows and replays it for 14 days.
 *
 * A dead `webhook.dlq` delivery is archived but raises nothing: depth one, no loops.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { NoticeSink } from '../../observability/notices.js';
import type { QueueDirectory } from '../../sqs/queueNames.js';
import {
  DLQ_MAX_RECEIVE_COUNT,
  infraRetryDelaySeconds,
  RAISE_RETRY_BASE_SECONDS,
} from '../../sqs/queueSettings.js';
import { changeVisibility, sendMessage } from '../../sqs/queues.js';
import type { CopyLedger } from '../copyLedger.js';
import {
  ALERT_STATES,
  type AlertState,
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterRead,
  DLQ_EVENT_KIND,
  deadLetterIdentity,
  deadLetterMessage,
  dlqEvent,
  malformedMessage,
  malformedRecord,
  readDeadLetter as readDeadLetterBody,
  readMalformedMessage,
} from '../messages/index.js';

interface DeadLetterDeps {
  readonly sqs: SQSClient;
  readonly queues: QueueDirectory;
  readonly notify: NoticeSink;
  /** The export a dead-letter queue belongs to, from the record's queue ARN. */
  readonly exportOfQueueArn: (queueArn: string) => string | undefined;
  readonly now?: () => Date;
  /**
   * The receive on which a raise that still fails is given up and the record archived with
   * `alert: not_raised`: the queue's `maxReceiveCount`, after which SQS would move the record
   * to the archive by itself, without any alert. @default DLQ_MAX_RECEIVE_COUNT
   */
  readonly lastReceive?: number;
  /** First wait after a failed raise, doubling per receive. @default RAISE_RETRY_BASE_SECONDS */
  readonly raiseRetrySeconds?: number;
  /**
   * The dead letters this instance archived (shared/pipeline/copyLedger.ts), keyed by
   * `deadLetterIdentity`; the pending value is the alert state of a raise whose archive write
   * failed. Absent: every dead letter is handled as new.
   */
  readonly ledger?: CopyLedger<AlertState>;
}

/** A record of a dead-letter queue that holds neither a dead letter nor a delivery message. */
class UnreadableDeadLetterError extends Error {
  constructor(
    messageId: string,
    readonly problem: string,
  ) {
    super(`dead letter ${messageId} cannot be read: ${problem}`);
    this.name = 'UnreadableDeadLetterError';
  }
}

const readRecord = (record: SQSRecord, deps: DeadLetterDeps, now: Date): DeadLetterRead =>
  readDeadLetterBody(record.body, {
    exportOfQueue: deps.exportOfQueueArn(record.eventSourceARN) ?? 'unknown',
    detail: `SQS moved the message after ${record.attributes.ApproximateReceiveCount} receive(s) without a result: the delivery function crashed, timed out or was throttled`,
    now,
  });

/**
 * Reads a record of a delivery dead-letter queue with the message codec. It is either a dead
 * letter the delivery function wrote (with its reason), or a delivery message SQS moved there
 * by itself after too many receives (crashes, timeouts, throttles), which becomes a dead letter
 * with reason `redrive`. Throws {@link UnreadableDeadLetterError} for anything else.
 */
const readDeadLetter = (record: SQSRecord, deps: DeadLetterDeps, now: Date): DeadLetter => {
  const read = readRecord(record, deps, now);
  if (!read.ok) throw new UnreadableDeadLetterError(record.messageId, read.problem);
  return read.deadLetter;
};

/** The string message attributes of a Lambda SQS record (what a writer attached). */
const stringAttributesOf = (record: SQSRecord): Record<string, string> => {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (value.stringValue !== undefined) attributes[name] = value.stringValue;
  }
  return attributes;
};

/** What the writer said about a record it parked as malformed, before anything reads its body. */
const PARKED_AS_MALFORMED = 'the delivery function parked the message as malformed';

/**
 * Handles one record of a delivery dead-letter queue. Throws to leave the record for a retry;
 * a retried raise carries the same derived audit_id, so it is recognisable as a duplicate.
 *
 * @example
 * await handleDeadLetter(record, { sqs, queues, notify, exportOfQueueArn });
 */
const handleDeadLetter = async (record: SQSRecord, deps: DeadLetterDeps): Promise<void> => {
  const now = deps.now?.() ?? new Date();
  const attributes = stringAttributesOf(record);
  // The writer's verdict comes first: a body it parked as malformed may still parse (an unknown
  // version of a message), and must not be rewritten as a dead letter it never was.
  const read =
    attributes.reason === DEAD_LETTER_REASONS.malformed
      ? { ok: false as const, problem: PARKED_AS_MALFORMED }
      : readRecord(record, deps, now);
  if (!read.ok) {
    await archiveUnreadable(record, attributes, read.problem, deps);
    return;
  }
  const { deadLetter } = read;
  const identity = deadLetterIdentity(deadLetter);
  const claim = deps.ledger?.claim(identity) ?? { kind: 'new' };
  if (claim.kind === 'duplicate') {
    // A second dead letter of one chain split in two: one archive entry, one alert.
    deps.notify({
      type: 'duplicate_dropped',
      export: deadLetter.export,
      auditId: deadLetter.event.audit_id,
    });
    return;
  }
  if (claim.kind === 'in_flight') throw new TwinInFlightError(record.messageId);
  // A dead webhook.dlq delivery raises nothing: depth one, no loops. A raise done before an
  // archive write that failed is not done twice.
  let alert: AlertState;
  try {
    alert =
      claim.kind === 'pending'
        ? claim.value
        : deadLetter.event.event_kind === DLQ_EVENT_KIND
          ? ALERT_STATES.none
          : (await raiseAlert(record, deadLetter, deps, now))
            ? ALERT_STATES.raised
            : ALERT_STATES.notRaised;
  } catch (error) {
    deps.ledger?.release(identity);
    throw error;
  }
  try {
    await archive(deadLetter, alert, deps);
  } catch (error) {
    deps.ledger?.pending(identity, alert);
    throw error;
  }
  deps.ledger?.settled(identity);
};

/** The same dead letter is being handled by another invocation of this instance. */
class TwinInFlightError extends Error {
  constructor(messageId: string) {
    super(`dead letter ${messageId}: a copy of it is being handled now; it comes back later`);
    this.name = 'TwinInFlightError';
  }
}

/** A raise that failed and will be tried again; the record stays on its queue. */
class RaiseDeferredError extends Error {
  constructor(messageId: string, why: string, seconds: number) {
    super(
      `dead letter ${messageId}: webhook.dlq not raised (${why}); trying again in ${seconds} s`,
    );
    this.name = 'RaiseDeferredError';
  }
}

/**
 * Raises the dead letter's `webhook.dlq` event into the ingest queue. When the send fails, the
 * record is hidden with the infrastructure backoff and the step throws, so it comes back;
 * on the receive that SQS would move it on, the raise is given up (returns false) and the
 * `alert_not_raised` notice feeds the stage's alarm, so no dead letter is archived silently.
 */
const raiseAlert = async (
  record: SQSRecord,
  deadLetter: DeadLetter,
  deps: DeadLetterDeps,
  now: Date,
): Promise<boolean> => {
  const event = dlqEvent(deadLetter, now);
  try {
    await sendMessage(deps.sqs, deps.queues.ingest, { body: JSON.stringify(event) });
  } catch (error) {
    const why = error instanceof Error ? error.name : 'error';
    const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
    const lastReceive = deps.lastReceive ?? DLQ_MAX_RECEIVE_COUNT;
    if (receives >= lastReceive) {
      deps.notify({
        type: 'alert_not_raised',
        export: deadLetter.export,
        auditId: deadLetter.event.audit_id,
        deliveryId: deadLetter.delivery_id,
        why: `the ingest queue refused webhook.dlq on each of ${receives} receives (${why})`,
      });
      return false;
    }
    const seconds = infraRetryDelaySeconds(
      receives,
      deps.raiseRetrySeconds ?? RAISE_RETRY_BASE_SECONDS,
    );
    await hideForRetry(record, deadLetter.export, seconds, deps);
    deps.notify({
      type: 'deferred',
      export: deadLetter.export,
      auditId: deadLetter.event.audit_id,
      why: `the webhook.dlq raise failed (${why})`,
      visibleAgainInSeconds: seconds,
    });
    throw new RaiseDeferredError(record.messageId, why, seconds);
  }
  deps.notify({
    type: 'dlq_event_raised',
    export: deadLetter.export,
    auditId: deadLetter.event.audit_id,
    dlqAuditId: event.audit_id,
  });
  return true;
};

/**
 * Hides a record of an export's dead-letter queue for the backoff. A failed change only means
 * it comes back after the queue's visibility timeout instead.
 */
const hideForRetry = async (
  record: SQSRecord,
  exportName: string,
  seconds: number,
  deps: DeadLetterDeps,
): Promise<void> => {
  const queueExport = deps.exportOfQueueArn(record.eventSourceARN) ?? exportName;
  try {
    await changeVisibility(
      deps.sqs,
      deps.queues.deliveryDlq(queueExport),
      record.receiptHandle,
      seconds,
    );
  } catch {
    // The queue's own visibility timeout applies.
  }
};

/** Keeps the dead letter in the stage's archive, saying whether its alert was raised. */
const archive = async (
  deadLetter: DeadLetter,
  alert: AlertState,
  deps: DeadLetterDeps,
): Promise<void> => {
  await sendMessage(deps.sqs, deps.queues.deadLetters, deadLetterMessage(deadLetter, alert));
  deps.notify({
    type: 'dead_letter_archived',
    export: deadLetter.export,
    auditId: deadLetter.event.audit_id,
    raised: alert === ALERT_STATES.raised,
  });
};

/**
 * A record no reader can read (junk sent to a dead-letter queue, or a malformed delivery
 * message the delivery function parked whole): nothing to raise, but it is kept as it came, so
 * nothing is dropped. What its first reader said travels with it: the detail and the id of the
 * original message that the delivery function attached, else this reader's problem and this
 * record's id.
 */
const archiveUnreadable = async (
  record: SQSRecord,
  attributes: Readonly<Record<string, string>>,
  problem: string,
  deps: DeadLetterDeps,
): Promise<void> => {
  const written = readMalformedMessage(record.body, attributes, problem);
  const exportName = written.export ?? deps.exportOfQueueArn(record.eventSourceARN) ?? 'unknown';
  const kept = malformedRecord({
    body: written.body,
    ...(written.detail === undefined ? {} : { detail: written.detail }),
    sourceMessageId: written.source_message_id ?? record.messageId,
    export: exportName,
  });
  await sendMessage(deps.sqs, deps.queues.deadLetters, malformedMessage(kept));
  deps.notify({ type: 'dead_letter_archived', export: exportName, raised: false });
};

export type { DeadLetterDeps };
export {
  handleDeadLetter,
  RaiseDeferredError,
  readDeadLetter,
  TwinInFlightError,
  UnreadableDeadLetterError,
};
