/**
 * Holding a delivery back without spending an attempt, for as long as the export's pacing asks:
 * a breaker pause or a rate-limit slot. Usually the received copy is simply hidden
 * (`ChangeMessageVisibility`). But each receive counts towards the queue's `maxReceiveCount`,
 * and a long pause could otherwise push a healthy event into the dead-letter queue as
 * `redrive`; so a copy close to that budget is replaced by a fresh one (same attempts, a
 * delay) and the received copy is let go.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { ExportConfig } from '../../config/types.js';
import type { NoticeSink } from '../../observability/notices.js';
import { maxReceiveCountFor } from '../../sqs/queueSettings.js';
import { changeVisibility, SQS_LIMITS, sendMessage } from '../../sqs/queues.js';
import type { DeliveryMessage } from '../messages/index.js';

/**
 * Receives kept back for what may still happen to a copy after its last hold: an invocation
 * that crashes or runs out of time, a secret store outage.
 */
const RESERVED_RECEIVES = 3;

/** What became of a held record. */
const HOLD_OUTCOMES = {
  /** Hidden on its queue: report it as a batch item failure (it was not delivered). */
  hidden: 'hidden',
  /** Replaced by a fresh copy: the received one is done with and may be deleted. */
  replaced: 'replaced',
} as const;
type HoldOutcome = (typeof HOLD_OUTCOMES)[keyof typeof HOLD_OUTCOMES];

interface HoldInput {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly record: SQSRecord;
  readonly message: DeliveryMessage;
  readonly exportConfig: ExportConfig;
  readonly why: string;
  readonly seconds: number;
  readonly notify: NoticeSink;
  readonly now: Date;
}

/** Whether one more hold of this copy would eat into the receives kept back. */
const nearRedrive = (record: SQSRecord, exportConfig: ExportConfig): boolean => {
  const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
  return receives + RESERVED_RECEIVES >= maxReceiveCountFor(exportConfig);
};

/**
 * Holds a record back for `seconds` (at least 1) without spending an attempt.
 *
 * @example
 * const outcome = await holdRecord({ sqs, queueUrl, record, message, exportConfig, why, seconds: 30, notify, now });
 * if (outcome === 'hidden') failed.push(record.messageId); // it stays on its queue
 */
const holdRecord = async (input: HoldInput): Promise<HoldOutcome> => {
  const { exportConfig, message, record } = input;
  const seconds = Math.max(1, Math.ceil(input.seconds));
  const replace = nearRedrive(record, exportConfig);
  if (replace) {
    const longWait = seconds > SQS_LIMITS.maxDelaySeconds;
    const copy: DeliveryMessage = {
      ...message,
      ...(longWait
        ? { not_before: new Date(input.now.getTime() + seconds * 1000).toISOString() }
        : {}),
    };
    await sendMessage(input.sqs, input.queueUrl, {
      body: JSON.stringify(copy),
      delaySeconds: Math.min(seconds, SQS_LIMITS.maxDelaySeconds),
    });
  } else {
    await changeVisibility(input.sqs, input.queueUrl, record.receiptHandle, seconds);
  }
  input.notify({
    type: 'deferred',
    export: exportConfig.name,
    auditId: message.event.audit_id,
    why: replace ? `${input.why} (as a fresh copy, to keep its receive budget)` : input.why,
    visibleAgainInSeconds: seconds,
  });
  return replace ? HOLD_OUTCOMES.replaced : HOLD_OUTCOMES.hidden;
};

export type { HoldInput, HoldOutcome };
export { HOLD_OUTCOMES, holdRecord, RESERVED_RECEIVES };
