/**
 * The delivery step for an export with `batch`: the records of one invocation (the event
 * source's batch, gathered during its batching window) become a few requests that each carry
 * many events, split by `max_events` and `max_bytes`.
 *
 * A request succeeds or fails as a unit, and every event is accounted for: when a request
 * fails, each of its events is re-enqueued with its own attempt count raised (and the usual
 * backoff) or, at its last attempt or on a permanent failure, dead-lettered with the request's
 * status. The same phases as a single delivery (expiry, breaker, rate limit, secrets,
 * rendering) apply per event where they are about the event, per request where they are about
 * the receiver: one breaker admission and one rate-limit slot per request.
 */

import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import type { ExportConfig } from '../config/types.js';
import type { OutgoingRequest, SendResult } from '../http.js';
import { clientForExport } from '../networkGuard.js';
import { prepareRequest } from '../prepareRequest.js';
import { classifyFor, type PresetVerdict } from '../presets/index.js';
import { changeVisibility, type OutgoingMessage, SQS_LIMITS, sendMessages } from '../queues.js';
import { backoffDelaySeconds } from '../retry.js';
import { MissingVariableError, SecretsError } from '../secretErrors.js';
import { SigningSecretError, signingHeaders, WEBHOOK_HEADERS } from '../signing.js';
import { TemplateError } from '../template.js';
import { exportVariableNames } from '../variables.js';
import {
  BATCH_CONTENT_TYPES,
  BatchElementError,
  batchElement,
  batchEncodingOf,
  batchId,
  joinBatch,
  splitBatch,
} from './batchBody.js';
import {
  buildDeadLetter,
  type DeadLetterInput,
  type DeliveryDeps,
  deadLetterMalformed,
  type InvocationClock,
  infraRetryDelay,
  OUT_OF_TIME_VISIBILITY_SECONDS,
  parseMessage,
  SAFETY_MARGIN_MS,
} from './deliver.js';
import { expiredBecause } from './eventAge.js';
import { type AnnounceContext, announceTransition, retryPendingRaise } from './exportPaused.js';
import { DEAD_LETTER_REASONS, type DeliveryMessage, nextAttemptMessage } from './messages.js';
import { HOLD_OUTCOMES, holdRecord } from './pacing.js';

/** Per-event headers of a prepared request that do not describe a batch. */
const PER_EVENT_HEADERS = [
  'idempotency-key',
  WEBHOOK_HEADERS.id,
  WEBHOOK_HEADERS.timestamp,
  WEBHOOK_HEADERS.signature,
  'content-type',
];

/** One record of the batch, read. */
interface Item {
  readonly record: SQSRecord;
  readonly message: DeliveryMessage;
}

/** An item with its request prepared (body rendered, headers resolved). */
interface PreparedItem extends Item {
  readonly request: OutgoingRequest;
  readonly element: string;
}

/** What one export's part of the invocation works with. */
interface BatchRun {
  readonly deps: DeliveryDeps;
  readonly exportConfig: ExportConfig;
  readonly queueUrl: string;
  readonly now: Date;
  /** Records to report as batch item failures: they stay on the queue and come back. */
  readonly failed: Set<string>;
  /** Dead letters to write, sent together at the end. */
  readonly deadLetters: { readonly item: Item; readonly input: DeadLetterInput }[];
  /** Re-enqueued copies for a retry, sent together at the end. */
  readonly retries: {
    readonly item: Item;
    readonly message: OutgoingMessage;
    readonly nextAttempt: number;
    readonly delay: number;
  }[];
  secretValues: readonly string[];
}

const queueDeadLetter = (
  run: BatchRun,
  item: Item,
  input: Omit<DeadLetterInput, 'message' | 'now' | 'secretValues'>,
): void => {
  run.deadLetters.push({
    item,
    input: { ...input, message: item.message, now: run.now, secretValues: run.secretValues },
  });
};

/** Visibility changes in flight at once when many records of a batch are handed back. */
const DEFER_CONCURRENCY = 25;

/**
 * Hides many records, `DEFER_CONCURRENCY` at a time: a batch can hold 10,000 records, and one
 * call after another would run past the function timeout during an SSM outage.
 */
const deferItems = async (
  run: BatchRun,
  deferrals: readonly { readonly item: Item; readonly seconds: number }[],
  why: string,
): Promise<void> => {
  for (let start = 0; start < deferrals.length; start += DEFER_CONCURRENCY) {
    await Promise.all(
      deferrals
        .slice(start, start + DEFER_CONCURRENCY)
        .map(({ item, seconds }) => deferItem(run, item, why, seconds)),
    );
  }
};

/** Hides one record for `seconds`, as the single-record step does; no attempt is spent. */
const deferItem = async (run: BatchRun, item: Item, why: string, seconds: number) => {
  run.failed.add(item.record.messageId);
  try {
    await changeVisibility(run.deps.sqs, run.queueUrl, item.record.receiptHandle, seconds);
  } catch {
    // Not hidden: it comes back after the queue's visibility timeout instead.
  }
  run.deps.notify({
    type: 'deferred',
    export: run.exportConfig.name,
    auditId: item.message.event.audit_id,
    why,
    visibleAgainInSeconds: seconds,
  });
};

/** Holds records back for the export's pacing (breaker, rate limit); no attempt is spent. */
const holdItems = async (run: BatchRun, items: readonly Item[], why: string, seconds: number) => {
  await Promise.all(
    items.map(async (item) => {
      try {
        const held = await holdRecord({
          sqs: run.deps.sqs,
          notify: run.deps.notify,
          queueUrl: run.queueUrl,
          record: item.record,
          message: item.message,
          exportConfig: run.exportConfig,
          why,
          seconds,
          now: run.now,
        });
        if (held === HOLD_OUTCOMES.hidden) run.failed.add(item.record.messageId);
      } catch {
        run.failed.add(item.record.messageId);
      }
    }),
  );
};

/**
 * The per-event phases before sending: backoff not yet over (hidden), expired (dead letter).
 * Returns the items that go on.
 */
const screen = async (run: BatchRun, items: readonly Item[]): Promise<Item[]> => {
  const ready: Item[] = [];
  const waiting: { item: Item; seconds: number }[] = [];
  for (const item of items) {
    const notBefore = item.message.not_before;
    const waitMs = notBefore === undefined ? 0 : Date.parse(notBefore) - run.now.getTime();
    if (waitMs > 1_000) {
      waiting.push({ item, seconds: Math.ceil(waitMs / 1000) });
      continue;
    }
    const expired = expiredBecause(item.message.event, run.exportConfig, run.now);
    if (expired !== undefined) {
      queueDeadLetter(run, item, {
        reason: DEAD_LETTER_REASONS.expired,
        detail: expired,
        attempts: item.message.attempts,
      });
      continue;
    }
    ready.push(item);
  }
  await deferItems(run, waiting, 'waiting for its backoff to elapse');
  return ready;
};

/** Renders each event; events that cannot be rendered or encoded are dead-lettered alone. */
const prepareItems = async (
  run: BatchRun,
  items: readonly Item[],
  variables: Readonly<Record<string, string>>,
): Promise<PreparedItem[]> => {
  const prepared: PreparedItem[] = [];
  for (const item of items) {
    try {
      const request = await prepareRequest(run.exportConfig, item.message.event, variables, {
        ...(run.deps.presets === undefined ? {} : { presets: run.deps.presets }),
      });
      prepared.push({ ...item, request, element: batchElement(run.exportConfig, request.body) });
    } catch (error) {
      const permanent =
        error instanceof TemplateError ||
        error instanceof MissingVariableError ||
        error instanceof SigningSecretError ||
        error instanceof BatchElementError;
      if (!permanent) {
        run.failed.add(item.record.messageId);
        continue;
      }
      queueDeadLetter(run, item, {
        reason:
          error instanceof TemplateError || error instanceof BatchElementError
            ? DEAD_LETTER_REASONS.render
            : DEAD_LETTER_REASONS.configuration,
        detail: error.message,
        attempts: item.message.attempts,
      });
    }
  }
  return prepared;
};

/**
 * The request for a group of prepared events: the first one's method, URL and export headers,
 * the joined body, the batch's own idempotency id, and (with signing) a signature over the
 * joined body.
 */
const batchRequest = (
  run: BatchRun,
  group: readonly PreparedItem[],
  variables: Readonly<Record<string, string>>,
): OutgoingRequest => {
  const first = group[0];
  if (first === undefined) throw new Error('a batch request needs at least one event');
  const encoding = batchEncodingOf(run.exportConfig);
  const body = joinBatch(
    encoding,
    group.map((item) => item.element),
  );
  const id = batchId(group.map((item) => item.message.delivery_id));
  // Headers the export sets itself are kept as they are; the per-event ones are replaced by
  // the batch's own.
  const configured = new Set(
    Object.keys(run.exportConfig.webhook.headers).map((name) => name.toLowerCase()),
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(first.request.headers)) {
    const lower = name.toLowerCase();
    if (!PER_EVENT_HEADERS.includes(lower) || configured.has(lower)) headers[name] = value;
  }
  if (!configured.has('content-type')) headers['Content-Type'] = BATCH_CONTENT_TYPES[encoding];
  if (!configured.has('idempotency-key')) headers['Idempotency-Key'] = id;
  if (!configured.has(WEBHOOK_HEADERS.id)) headers[WEBHOOK_HEADERS.id] = id;
  const signing = run.exportConfig.webhook.signing;
  if (signing !== undefined) {
    Object.assign(
      headers,
      signingHeaders(signing, { exportName: run.exportConfig.name, id, body, variables }),
    );
  }
  return { ...first.request, headers, body };
};

/** What happens to the events of a request that did not succeed. */
const settleFailure = (
  run: BatchRun,
  group: readonly PreparedItem[],
  result: SendResult,
  verdict: Exclude<PresetVerdict, { readonly outcome: 'success' }>,
): void => {
  const maxAttempts = run.exportConfig.retry.max_attempts;
  for (const item of group) {
    const { message } = item;
    const attempt = message.attempts + 1;
    if (verdict.outcome === 'retry' && attempt < maxAttempts) {
      const delay = backoffDelaySeconds(
        attempt,
        run.exportConfig.retry,
        verdict.retryAfterSeconds ?? result.retryAfterSeconds,
      );
      const next = nextAttemptMessage(message, attempt, result, delay, run.now);
      run.retries.push({
        item,
        nextAttempt: attempt + 1,
        delay,
        message: {
          id: item.record.messageId,
          body: JSON.stringify(next),
          delaySeconds: Math.min(delay, SQS_LIMITS.maxDelaySeconds),
        },
      });
      continue;
    }
    const exhausted = verdict.outcome === 'retry';
    queueDeadLetter(run, item, {
      reason: exhausted ? DEAD_LETTER_REASONS.exhausted : DEAD_LETTER_REASONS.permanent,
      detail: `${verdict.reason}; ${
        exhausted
          ? `gave up after ${attempt} of ${maxAttempts} attempts`
          : 'not retried (permanent failure)'
      } (sent in a batch of ${group.length})`,
      attempts: attempt,
      result,
    });
  }
};

/** Sends one request of the batch and settles its events. */
const sendGroup = async (
  run: BatchRun,
  group: readonly PreparedItem[],
  variables: Readonly<Record<string, string>>,
): Promise<void> => {
  const { deps, exportConfig } = run;
  const guards = deps.guards;
  const first = group[0];
  if (first === undefined) return;
  const announce: AnnounceContext | undefined = guards && {
    sqs: deps.sqs,
    queues: deps.queues,
    notify: deps.notify,
    guards,
    exportConfig,
    now: run.now,
  };
  let request: OutgoingRequest;
  try {
    request = batchRequest(run, group, variables);
  } catch (error) {
    for (const item of group) {
      queueDeadLetter(run, item, {
        reason: DEAD_LETTER_REASONS.configuration,
        detail: error instanceof Error ? error.message : String(error),
        attempts: item.message.attempts,
      });
    }
    return;
  }
  const returning = group.some(
    (item) => Number(item.record.attributes.ApproximateReceiveCount) > 1,
  );
  const permit = guards
    ? await guards.permit(exportConfig, first.record.messageId, returning)
    : { go: true as const, probe: false };
  if (!permit.go) {
    await holdItems(run, group, permit.why, permit.retryInMs / 1000);
    return;
  }

  const client = clientForExport(exportConfig, deps);
  const result = await client.send(request);
  const verdict = classifyFor(exportConfig, result, request.url, deps.presets);
  deps.notify({
    type: 'batch_attempt',
    export: exportConfig.name,
    events: group.length,
    bytes: Buffer.byteLength(request.body, 'utf8'),
    attempt: Math.max(...group.map((item) => item.message.attempts)) + 1,
    maxAttempts: exportConfig.retry.max_attempts,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.errorClass === undefined ? {} : { errorClass: result.errorClass }),
    latencyMs: result.latencyMs,
    outcome: verdict.outcome,
  });
  const change = guards?.report(exportConfig, result, verdict, permit.probe);
  if (announce && change) await announceTransition(change, { ...announce, result });
  if (change?.kind === 'opened' && change.reason === 'gone') {
    const seconds = (change.pausedUntil - change.openedAt) / 1000;
    await holdItems(run, group, 'the receiver answered 410 Gone', seconds);
    return;
  }
  if (verdict.outcome === 'success') return;
  settleFailure(run, group, result, verdict);
};

/** Writes the queued retries and dead letters; a record whose write failed comes back. */
const flush = async (run: BatchRun): Promise<void> => {
  const { deps, exportConfig } = run;
  const retries = await sendMessages(
    deps.sqs,
    run.queueUrl,
    run.retries.map((retry) => retry.message),
  );
  const retryFailed = new Set(retries.failed.map((failure) => failure.id));
  for (const retry of run.retries) {
    if (retryFailed.has(retry.message.id)) {
      run.failed.add(retry.item.record.messageId);
      continue;
    }
    deps.notify({
      type: 'retry_scheduled',
      export: exportConfig.name,
      auditId: retry.item.message.event.audit_id,
      nextAttempt: retry.nextAttempt,
      delaySeconds: retry.delay,
    });
  }
  const letters = run.deadLetters.map(({ item, input }) => ({
    item,
    letter: buildDeadLetter(input),
  }));
  const written = await sendMessages(
    deps.sqs,
    deps.queues.deliveryDlq(exportConfig.name),
    letters.map(({ item, letter }) => ({
      id: item.record.messageId,
      body: JSON.stringify(letter),
    })),
  );
  const letterFailed = new Set(written.failed.map((failure) => failure.id));
  for (const { item, letter } of letters) {
    if (letterFailed.has(item.record.messageId)) {
      run.failed.add(item.record.messageId);
      continue;
    }
    deps.notify({
      type: 'dead_lettered',
      export: exportConfig.name,
      auditId: letter.event.audit_id,
      reason: letter.reason,
      detail: letter.detail,
      attempts: letter.attempts,
    });
  }
};

/** One export's records of the invocation, from screening to the last write. */
const deliverExportBatch = async (
  items: readonly Item[],
  exportConfig: ExportConfig,
  deps: DeliveryDeps,
  clock: InvocationClock,
  now: Date,
  failed: Set<string>,
): Promise<void> => {
  const run: BatchRun = {
    deps,
    exportConfig,
    queueUrl: deps.queues.delivery(exportConfig.name),
    now,
    failed,
    deadLetters: [],
    retries: [],
    secretValues: [],
  };
  try {
    await deliverScreened(run, await screen(run, items), clock);
  } catch {
    // Unexpected: the records nothing was decided for stay on the queue (a delivered one may
    // then be sent again: at least once).
    const settled = new Set(
      [...run.retries, ...run.deadLetters].map((entry) => entry.item.record.messageId),
    );
    for (const item of items) {
      if (!settled.has(item.record.messageId)) failed.add(item.record.messageId);
    }
  }
  await flush(run);
};

const deliverScreened = async (
  run: BatchRun,
  items: readonly Item[],
  clock: InvocationClock,
): Promise<void> => {
  const { deps, exportConfig } = run;
  if (items.length === 0) return;
  const guards = deps.guards;
  const pausedMs = guards?.pausedForMs(exportConfig);
  if (guards && pausedMs !== undefined) {
    await retryPendingRaise({ ...deps, guards, exportConfig, now: run.now });
    await holdItems(run, items, 'the export is paused by its breaker', pausedMs / 1000);
    return;
  }
  if (clock.remainingMs() < exportConfig.webhook.timeout_seconds * 1000 + SAFETY_MARGIN_MS) {
    await deferItems(
      run,
      items.map((item) => ({ item, seconds: OUT_OF_TIME_VISIBILITY_SECONDS })),
      'the invocation has no time left for it',
    );
    return;
  }

  let variables: Record<string, string>;
  try {
    variables = await deps.secrets.resolve(exportVariableNames(exportConfig), exportConfig.name);
  } catch (error) {
    if (error instanceof SecretsError && !error.retryable) {
      for (const item of items) {
        queueDeadLetter(run, item, {
          reason: DEAD_LETTER_REASONS.configuration,
          detail: error.message,
          attempts: item.message.attempts,
        });
      }
      return;
    }
    const why = `the secret store failed (${error instanceof Error ? error.name : 'error'})`;
    const base = deps.infraRetrySeconds ?? 10;
    await deferItems(
      run,
      items.map((item) => ({ item, seconds: infraRetryDelay(item.record, base) })),
      why,
    );
    return;
  }
  run.secretValues = Object.values(variables);

  const prepared = await prepareItems(run, items, variables);
  const batch = exportConfig.batch;
  const groups = splitBatch(
    prepared.map((item) => item.element),
    {
      maxEvents: batch?.max_events ?? prepared.length,
      maxBytes: batch?.max_bytes ?? Number.POSITIVE_INFINITY,
      encoding: batchEncodingOf(exportConfig),
    },
  ).map((indexes) => indexes.flatMap((index) => prepared[index] ?? []));
  await Promise.all(groups.map((group) => sendGroup(run, group, variables)));
};

/**
 * Delivers the records of one invocation for a batched export. Returns the records to report
 * as batch item failures (they stay on the queue and come back); every other record has been
 * delivered, re-enqueued for a retry, or dead-lettered.
 *
 * @example
 * const batchItemFailures = await deliverBatch(event.Records, deps, { remainingMs: () => context.getRemainingTimeInMillis() });
 */
const deliverBatch = async (
  records: readonly SQSRecord[],
  deps: DeliveryDeps,
  clock: InvocationClock,
): Promise<SQSBatchItemFailure[]> => {
  const now = deps.now?.() ?? new Date();
  const failed = new Set<string>();
  const byExport = new Map<string, Item[]>();
  for (const record of records) {
    const parsed = parseMessage(record);
    if (typeof parsed === 'string') {
      try {
        await deadLetterMalformed(record, parsed, deps, now);
      } catch {
        failed.add(record.messageId);
      }
      continue;
    }
    const items = byExport.get(parsed.export) ?? [];
    items.push({ record, message: parsed });
    byExport.set(parsed.export, items);
  }
  await Promise.all(
    [...byExport].map(async ([exportName, items]) => {
      const exportConfig = deps.exports.get(exportName);
      if (exportConfig === undefined) {
        // The export was removed from the config while messages were queued: keep them, and
        // say so, since nothing else will.
        for (const item of items) {
          failed.add(item.record.messageId);
          deps.notify({
            type: 'deferred',
            export: exportName,
            auditId: item.message.event.audit_id,
            why: 'the export is not in the configuration; redeploy it or let redrive take these',
            visibleAgainInSeconds: 0,
          });
        }
        return;
      }
      await deliverExportBatch(items, exportConfig, deps, clock, now, failed);
    }),
  );
  return [...failed].map((itemIdentifier) => ({ itemIdentifier }));
};

export { deliverBatch };
