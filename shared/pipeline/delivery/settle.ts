/**
 * The one place where outcomes become SQS actions and notices. Writes are batched per queue
 * (`SendMessageBatch`), visibility changes and holds run a bounded number at a time, and a
 * record whose action failed stays on its queue (a batch item failure) so that nothing is lost:
 * it comes back and is decided again.
 */
import type { SQSRecord } from 'aws-lambda';
import type { ExportConfig } from '../../config/types.js';
import { redactSecrets } from '../../secrets/masking.js';
import {
  changeVisibility,
  type OutgoingMessage,
  SQS_LIMITS,
  sendMessages,
} from '../../sqs/queues.js';
import { HOLD_OUTCOMES, holdRecord } from '../flowControl/pacing.js';
import {
  buildDeadLetter,
  DEAD_LETTER_REASONS,
  malformedMessage,
  malformedRecord,
} from '../messages/index.js';
import type { DeliveryDeps, Item, MalformedRecord, Outcome, UnexpectedFailure } from './types.js';

/** Visibility changes and holds in flight at once: a batch can hold 10,000 records. */
const SQS_CALL_CONCURRENCY = 25;

/** What settling a set of records left on the queue. */
interface Settled {
  /** Message ids of the records that stay on their queue. */
  readonly failed: readonly string[];
  readonly unexpected: readonly UnexpectedFailure[];
}

/** One export's decided records, and what settling them needs. */
interface DecidedRun {
  readonly deps: DeliveryDeps;
  readonly exportConfig: ExportConfig;
  readonly queueUrl: string;
  readonly now: Date;
  /** Resolved variable values, masked out of dead letters. */
  readonly secretValues: readonly string[];
  readonly decided: readonly { readonly item: Item; readonly outcome: Outcome }[];
}

type OutcomeOf<K extends Outcome['kind']> = Extract<Outcome, { kind: K }>;

/** Runs `action` on every entry, at most {@link SQS_CALL_CONCURRENCY} at a time. */
const forEachBounded = async <T>(
  entries: readonly T[],
  action: (entry: T) => Promise<void>,
): Promise<void> => {
  for (let start = 0; start < entries.length; start += SQS_CALL_CONCURRENCY) {
    await Promise.all(entries.slice(start, start + SQS_CALL_CONCURRENCY).map(action));
  }
};

/** The records that stay on their queue, and the errors to log for them. */
interface LeftOnQueue {
  readonly failed: string[];
  readonly unexpected: UnexpectedFailure[];
}

/**
 * An unexpected error with every resolved secret value masked out of its message and stack,
 * since the handler logs it.
 */
const maskedError = (error: unknown, secretValues: readonly string[]): unknown => {
  if (!(error instanceof Error) || secretValues.length === 0) return error;
  const masked = new Error(redactSecrets(error.message, secretValues));
  masked.name = error.name;
  masked.stack = redactSecrets(error.stack ?? '', secretValues);
  return masked;
};

/**
 * Writes one message per entry to a queue (`SendMessageBatch`), then says `written` for each
 * entry SQS took; an entry it did not take leaves its record on the queue (`failed`).
 */
const writeEach = async <T extends { readonly record: SQSRecord } | { readonly item: Item }>(
  deps: DeliveryDeps,
  queueUrl: string,
  entries: readonly T[],
  left: LeftOnQueue,
  how: {
    readonly message: (entry: T) => Omit<OutgoingMessage, 'id'>;
    readonly written: (entry: T) => void;
  },
): Promise<void> => {
  const idOf = (entry: T) => ('item' in entry ? entry.item.record : entry.record).messageId;
  const result = await sendMessages(
    deps.sqs,
    queueUrl,
    entries.map((entry) => ({ id: idOf(entry), ...how.message(entry) })),
  );
  const notWritten = new Map(result.failed.map((failure) => [failure.id, failure]));
  for (const entry of entries) {
    const failure = notWritten.get(idOf(entry));
    if (failure === undefined) {
      how.written(entry);
      continue;
    }
    left.failed.push(idOf(entry));
    left.unexpected.push({
      messageId: idOf(entry),
      error: new Error(`SQS did not take the message (${failure.code}): ${failure.message}`),
    });
  }
};

/**
 * Carries out the outcomes of one export's records.
 *
 * @example
 * const { failed } = await settle({ deps, exportConfig, queueUrl, now, secretValues, decided });
 */
const settle = async (run: DecidedRun): Promise<Settled> => {
  const { deps, exportConfig } = run;
  const failed: string[] = [];
  const unexpected: UnexpectedFailure[] = [];
  const retries: { item: Item; outcome: OutcomeOf<'retry'> }[] = [];
  const deaths: { item: Item; outcome: OutcomeOf<'dead'> }[] = [];
  const deferrals: { item: Item; outcome: OutcomeOf<'deferred'> }[] = [];
  const holds: { item: Item; outcome: OutcomeOf<'held'> }[] = [];
  for (const { item, outcome } of run.decided) {
    switch (outcome.kind) {
      case 'delivered':
        break;
      case 'duplicate':
        deps.notify({
          type: 'duplicate_dropped',
          export: exportConfig.name,
          auditId: item.message.event.audit_id,
          attempts: item.message.attempts,
        });
        break;
      case 'retry':
        retries.push({ item, outcome });
        break;
      case 'dead':
        deaths.push({ item, outcome });
        break;
      case 'deferred':
        deferrals.push({ item, outcome });
        break;
      case 'held':
        holds.push({ item, outcome });
        break;
      case 'kept':
        failed.push(item.record.messageId);
        unexpected.push({
          messageId: item.record.messageId,
          error: maskedError(outcome.error, run.secretValues),
        });
        break;
    }
  }

  const writeRetries = () =>
    writeEach(
      deps,
      run.queueUrl,
      retries,
      { failed, unexpected },
      {
        message: ({ outcome }) => ({
          body: JSON.stringify(outcome.next),
          delaySeconds: Math.min(outcome.delaySeconds, SQS_LIMITS.maxDelaySeconds),
        }),
        written: ({ item, outcome }) =>
          deps.notify({
            type: 'retry_scheduled',
            export: exportConfig.name,
            auditId: item.message.event.audit_id,
            nextAttempt: outcome.nextAttempt,
            delaySeconds: outcome.delaySeconds,
          }),
      },
    );

  const writeDeadLetters = () =>
    writeEach(
      deps,
      deps.queues.deliveryDlq(exportConfig.name),
      deaths.map(({ item, outcome }) => ({
        item,
        letter: buildDeadLetter({
          message: item.message,
          reason: outcome.reason,
          detail: outcome.detail,
          attempts: outcome.attempts,
          ...(outcome.result === undefined ? {} : { result: outcome.result }),
          secretValues: run.secretValues,
          now: run.now,
        }),
      })),
      { failed, unexpected },
      {
        message: ({ letter }) => ({ body: JSON.stringify(letter) }),
        written: ({ letter }) =>
          deps.notify({
            type: 'dead_lettered',
            export: exportConfig.name,
            auditId: letter.event.audit_id,
            reason: letter.reason,
            detail: letter.detail,
            attempts: letter.attempts,
          }),
      },
    );

  // Hidden for the wait; no attempt is spent. A failed visibility change only means the
  // record comes back after the queue's visibility timeout instead.
  // The receipt handle belongs to the queue the record came from: the export it names, except
  // for a message that names another export than its queue's.
  const sourceQueueUrl = (item: Item): string => {
    const queueExport = deps.exportOfQueueArn(item.record.eventSourceARN);
    return queueExport === undefined ? run.queueUrl : deps.queues.delivery(queueExport);
  };

  // Hidden for the wait; no attempt is spent. A failed visibility change only means the
  // record comes back after the queue's visibility timeout instead; it is logged, not noticed.
  const hide = async ({ item, outcome }: { item: Item; outcome: OutcomeOf<'deferred'> }) => {
    failed.push(item.record.messageId);
    try {
      await changeVisibility(
        deps.sqs,
        sourceQueueUrl(item),
        item.record.receiptHandle,
        outcome.seconds,
      );
    } catch (error) {
      unexpected.push({ messageId: item.record.messageId, error });
      return;
    }
    deps.notify({
      type: 'deferred',
      export: exportConfig.name,
      auditId: item.message.event.audit_id,
      why: outcome.why,
      visibleAgainInSeconds: outcome.seconds,
    });
  };

  const hold = async ({ item, outcome }: { item: Item; outcome: OutcomeOf<'held'> }) => {
    try {
      const held = await holdRecord({
        sqs: deps.sqs,
        notify: deps.notify,
        queueUrl: sourceQueueUrl(item),
        record: item.record,
        message: item.message,
        exportConfig,
        why: outcome.why,
        seconds: outcome.seconds,
        now: run.now,
      });
      if (held === HOLD_OUTCOMES.hidden) failed.push(item.record.messageId);
    } catch (error) {
      failed.push(item.record.messageId);
      unexpected.push({ messageId: item.record.messageId, error });
    }
  };

  await Promise.all([
    writeRetries(),
    writeDeadLetters(),
    forEachBounded(deferrals, hide),
    forEachBounded(holds, hold),
  ]);
  return { failed, unexpected };
};

/**
 * Dead-letters records that are not delivery messages whole, as they came, with the problem
 * and the original message id as message attributes (the codec's malformed record), so
 * nothing is dropped. A record from a queue of no known export
 * stays where it is.
 */
const settleMalformed = async (
  malformed: readonly MalformedRecord[],
  deps: DeliveryDeps,
  now: Date,
): Promise<Settled> => {
  const failed: string[] = [];
  const unexpected: UnexpectedFailure[] = [];
  const byExport = new Map<string, MalformedRecord[]>();
  for (const entry of malformed) {
    const exportName = deps.exportOfQueueArn(entry.record.eventSourceARN);
    if (exportName === undefined) {
      failed.push(entry.record.messageId);
      unexpected.push({
        messageId: entry.record.messageId,
        error: new Error(`message ${entry.record.messageId}: ${entry.problem}`),
      });
      continue;
    }
    byExport.set(exportName, [...(byExport.get(exportName) ?? []), entry]);
  }
  await Promise.all(
    [...byExport].map(([exportName, entries]) =>
      writeEach(
        deps,
        deps.queues.deliveryDlq(exportName),
        entries,
        { failed, unexpected },
        {
          message: ({ record, problem }) =>
            malformedMessage(
              malformedRecord({
                body: record.body,
                detail: problem,
                sourceMessageId: record.messageId,
                export: exportName,
              }),
            ),
          written: ({ record, problem }) =>
            deps.notify({
              type: 'dead_lettered',
              export: exportName,
              auditId: 'unknown',
              reason: DEAD_LETTER_REASONS.malformed,
              detail: `message ${record.messageId}: ${problem} (at ${now.toISOString()})`,
              attempts: 0,
            }),
        },
      ),
    ),
  );
  return { failed, unexpected };
};

export type { DecidedRun, Settled };
export { settle, settleMalformed };
