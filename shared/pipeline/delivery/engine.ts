/**
 * The delivery step, once: the phases every delivery goes through, whether an export sends
 * each record alone or many per request.
 *
 *   read → expired? → backoff over? → export paused? → resolve variables → prepare
 *        → group → time left? → permit (breaker, rate limit) → send → classify
 *
 * Each phase decides an {@link Outcome} for the records it stops; the rest go on. Grouping is
 * the only difference between a single and a batched export (groups.ts); settle.ts turns the
 * outcomes into SQS actions, notices and the partial batch response.
 *
 * Attempt counting: the message carries the number of attempts made. A retry writes a copy
 * with the count raised and a delay (`backoff_seconds`, raised to `Retry-After`), and the
 * received copy is deleted. So a persistently failing receiver gets exactly `max_attempts`
 * requests, and things that are not the receiver's fault (our SSM or SQS failing, the
 * invocation running out of time, a Lambda throttle) never spend one: the record simply comes
 * back. Native SQS redrive (`maxReceiveCount`) is the backstop for a copy that keeps coming
 * back without a result, e.g. because the function crashes on it.
 */
import type { SQSRecord } from 'aws-lambda';
import { SQS_WRITE_MARGIN_MS } from '../../awsClientSettings.js';
import type { ExportConfig } from '../../config/types.js';
import type { PipelineNotice } from '../../observability/notices.js';
import { prepareRequest } from '../../request/prepareRequest.js';
import { classifyFor, type PresetVerdict } from '../../request/presets/index.js';
import { exportVariableNames } from '../../request/variables.js';
import { maskSendResult } from '../../secrets/masking.js';
import { infraRetryDelaySeconds } from '../../sqs/queueSettings.js';
import type { OutgoingRequest, SendResult } from '../../transport/http.js';
import { clientForExport } from '../../transport/networkGuard.js';
import { backoffDelaySeconds } from '../../transport/retry.js';
import { expiredBecause } from '../flowControl/eventAge.js';
import type { ExportGuards } from '../flowControl/exportGuards.js';
import {
  type AnnounceContext,
  announceTransition,
  retryPendingRaise,
} from '../flowControl/exportPaused.js';
import {
  copyIdentity,
  DEAD_LETTER_REASONS,
  nextAttemptMessage,
  RESPONSE_SNIPPET_BYTES,
  readDeliveryMessage,
} from '../messages/index.js';
import { batchElement } from './batchBody.js';
import { preparationFailureOf } from './failures.js';
import { groupsOf, requestForGroup } from './groups.js';
import { type Settled, settle, settleMalformed } from './settle.js';
import type {
  DeliveryDeps,
  DeliveryLedger,
  DeliveryReport,
  InvocationClock,
  Item,
  MalformedRecord,
  Outcome,
  PreparedItem,
  UnwrittenOutcome,
} from './types.js';

/**
 * Time kept back for the SQS writes that follow a send (the next copy, a dead letter): a send
 * that uses its whole timeout still leaves room to record what happened, so the invocation is
 * not cut with the request made and its outcome lost.
 */
const SAFETY_MARGIN_MS = SQS_WRITE_MARGIN_MS;

/** Visibility of a record handed back because the invocation is out of time. */
const OUT_OF_TIME_VISIBILITY_SECONDS = 1;

/** A copy received less than this before its `not_before` is sent now rather than hidden. */
const NOT_BEFORE_TOLERANCE_MS = 1_000;

/** Why a record of an export that is not in the config stays on its queue. */
const EXPORT_MISSING =
  'the export is not in the configuration; redeploy it or let redrive take these';

/**
 * Exponential wait for a record deferred because our own infrastructure failed: an SSM outage
 * is ridden out for close to an hour of receives before SQS's redrive backstop takes the copy.
 */
const infraRetryDelay = (record: SQSRecord, baseSeconds: number): number =>
  infraRetryDelaySeconds(Number(record.attributes.ApproximateReceiveCount), baseSeconds);

/** One export's records of the invocation, and the outcomes decided for them so far. */
interface ExportRun {
  readonly deps: DeliveryDeps;
  readonly exportConfig: ExportConfig;
  readonly queueUrl: string;
  readonly now: Date;
  readonly outcomes: Map<string, Outcome>;
  secretValues: readonly string[];
}

const decide = (run: ExportRun, items: readonly Item[], outcome: Outcome): void => {
  for (const item of items) run.outcomes.set(item.record.messageId, outcome);
};

const announceContext = (run: ExportRun, guards: ExportGuards): AnnounceContext => ({
  sqs: run.deps.sqs,
  queues: run.deps.queues,
  notify: run.deps.notify,
  guards,
  exportConfig: run.exportConfig,
  now: run.now,
});

/** Leaves the records nothing was decided for on their queue, with the error to log. */
const keepUndecided = (run: ExportRun, items: readonly Item[], error: unknown): void => {
  for (const item of items) {
    if (!run.outcomes.has(item.record.messageId)) decide(run, [item], { kind: 'kept', error });
  }
};

/** Expired events are dead; copies whose long backoff is not over are hidden again. */
const screen = (run: ExportRun, items: readonly Item[]): Item[] => {
  const ready: Item[] = [];
  for (const item of items) {
    const { message } = item;
    const expired = expiredBecause(message.event, run.exportConfig, run.now);
    if (expired !== undefined) {
      decide(run, [item], {
        kind: 'dead',
        reason: DEAD_LETTER_REASONS.expired,
        detail: expired,
        attempts: message.attempts,
      });
      continue;
    }
    // A backoff longer than SQS's 15-minute delay: hide the copy for the rest of the wait.
    const waitMs =
      message.not_before === undefined ? 0 : Date.parse(message.not_before) - run.now.getTime();
    if (waitMs > NOT_BEFORE_TOLERANCE_MS) {
      decide(run, [item], {
        kind: 'deferred',
        why: 'waiting for its backoff to elapse',
        seconds: Math.ceil(waitMs / 1000),
      });
      continue;
    }
    ready.push(item);
  }
  return ready;
};

/** While the export's breaker pauses it, records wait without spending an attempt. */
const holdWhilePaused = async (run: ExportRun, items: readonly Item[]): Promise<boolean> => {
  const { guards } = run.deps;
  const pausedMs = guards?.pausedForMs(run.exportConfig);
  if (guards === undefined || pausedMs === undefined) return false;
  await retryPendingRaise(announceContext(run, guards));
  decide(run, items, {
    kind: 'held',
    why: 'the export is paused by its breaker',
    seconds: pausedMs / 1000,
  });
  return true;
};

/**
 * What an error met while preparing a record means for it: a dead letter when sending again
 * cannot help, a deferral with the infrastructure backoff when our secret store failed, and
 * for an error nobody expected, `unexpected` (the record is deferred, or kept and logged).
 */
const outcomeOfFailure = (
  run: ExportRun,
  item: Item,
  error: unknown,
  unexpected: 'deferred' | 'kept',
): Outcome => {
  const failure = preparationFailureOf(error);
  if (failure !== undefined && !failure.retryable) {
    return {
      kind: 'dead',
      reason: failure.reason,
      detail: failure.message,
      attempts: item.message.attempts,
    };
  }
  if (failure === undefined && unexpected === 'kept') return { kind: 'kept', error };
  return {
    kind: 'deferred',
    why: `the secret store failed (${error instanceof Error ? error.name : 'error'})`,
    seconds: infraRetryDelay(item.record, run.deps.infraRetrySeconds ?? 10),
  };
};

/** The export's `${VAR}` values; undefined when the records were decided otherwise. */
const resolveVariables = async (
  run: ExportRun,
  items: readonly Item[],
): Promise<Record<string, string> | undefined> => {
  const { deps, exportConfig } = run;
  try {
    return await deps.secrets.resolve(exportVariableNames(exportConfig), exportConfig.name);
  } catch (error) {
    // An error nobody expected from the store is ridden out like a store failure.
    for (const item of items) decide(run, [item], outcomeOfFailure(run, item, error, 'deferred'));
    return undefined;
  }
};

/**
 * Renders each record's request; a record that cannot be rendered is dead-lettered alone.
 * `onPrepared` hears of each record as soon as it is rendered.
 */
const prepare = async (
  run: ExportRun,
  items: readonly Item[],
  variables: Readonly<Record<string, string>>,
  onPrepared?: (item: PreparedItem) => void,
): Promise<PreparedItem[]> => {
  const { exportConfig } = run;
  const prepared: PreparedItem[] = [];
  for (const item of items) {
    let ready: PreparedItem;
    try {
      const request = await prepareRequest(exportConfig, item.message.event, variables, {
        presets: run.deps.presets,
        deliveryId: item.message.delivery_id,
      });
      ready =
        exportConfig.batch === undefined
          ? { ...item, request }
          : { ...item, request, element: batchElement(exportConfig, request.body) };
    } catch (error) {
      decide(run, [item], outcomeOfFailure(run, item, error, 'kept'));
      continue;
    }
    prepared.push(ready);
    onPrepared?.(ready);
  }
  return prepared;
};

/** The notice of one request: `attempt` for a lone record, `batch_attempt` for a batch. */
const attemptNotice = (
  run: ExportRun,
  group: readonly [PreparedItem, ...PreparedItem[]],
  request: OutgoingRequest,
  result: SendResult,
  verdict: PresetVerdict,
): PipelineNotice => {
  const { exportConfig } = run;
  const common = {
    export: exportConfig.name,
    maxAttempts: exportConfig.retry.max_attempts,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.errorClass === undefined ? {} : { errorClass: result.errorClass }),
    latencyMs: result.latencyMs,
    outcome: verdict.outcome,
  };
  if (exportConfig.batch === undefined) {
    return {
      type: 'attempt',
      auditId: group[0].message.event.audit_id,
      attempt: group[0].message.attempts + 1,
      ...common,
    };
  }
  return {
    type: 'batch_attempt',
    events: group.length,
    bytes: Buffer.byteLength(request.body, 'utf8'),
    attempt: Math.max(...group.map((item) => item.message.attempts)) + 1,
    ...common,
  };
};

/** After a failed attempt: a copy for the next attempt, or a dead letter. */
const afterFailure = (
  run: ExportRun,
  item: Item,
  result: SendResult,
  verdict: Exclude<PresetVerdict, { readonly outcome: 'success' }>,
  groupSize: number,
): Outcome => {
  const { exportConfig } = run;
  const attempt = item.message.attempts + 1;
  const maxAttempts = exportConfig.retry.max_attempts;
  if (verdict.outcome === 'retry' && attempt < maxAttempts) {
    const delaySeconds = backoffDelaySeconds(
      attempt,
      exportConfig.retry,
      verdict.retryAfterSeconds ?? result.retryAfterSeconds,
    );
    return {
      kind: 'retry',
      next: nextAttemptMessage(item.message, attempt, result, delaySeconds, run.now),
      nextAttempt: attempt + 1,
      delaySeconds,
    };
  }
  const exhausted = verdict.outcome === 'retry';
  const ending = exhausted
    ? `gave up after ${attempt} of ${maxAttempts} attempts`
    : 'not retried (permanent failure)';
  const inBatch = exportConfig.batch === undefined ? '' : ` (sent in a batch of ${groupSize})`;
  return {
    kind: 'dead',
    reason: exhausted ? DEAD_LETTER_REASONS.exhausted : DEAD_LETTER_REASONS.permanent,
    detail: `${verdict.reason}; ${ending}${inBatch}`,
    attempts: attempt,
    result,
  };
};

/** The phases of one request: time left, permit, send, classify, and what follows. */
const sendGroup = async (
  run: ExportRun,
  group: readonly [PreparedItem, ...PreparedItem[]],
  variables: Readonly<Record<string, string>>,
  clock: InvocationClock,
): Promise<void> => {
  const { deps, exportConfig } = run;
  const { guards } = deps;
  // Checked right before the send, after the variables are resolved: a send must finish,
  // with the writes that follow it, before the invocation ends.
  if (clock.remainingMs() < exportConfig.webhook.timeout_seconds * 1000 + SAFETY_MARGIN_MS) {
    decide(run, group, {
      kind: 'deferred',
      why: 'the invocation has no time left for it',
      seconds: OUT_OF_TIME_VISIBILITY_SECONDS,
    });
    return;
  }
  let request: OutgoingRequest;
  try {
    request = requestForGroup(exportConfig, group, variables);
  } catch (error) {
    const failure = preparationFailureOf(error);
    for (const item of group) {
      decide(run, [item], {
        kind: 'dead',
        reason: DEAD_LETTER_REASONS.configuration,
        detail: failure?.message ?? (error instanceof Error ? error.message : String(error)),
        attempts: item.message.attempts,
      });
    }
    return;
  }
  const returning = group.some(
    (item) => Number(item.record.attributes.ApproximateReceiveCount) > 1,
  );
  const permit = guards
    ? await guards.permit(exportConfig, group[0].record.messageId, returning)
    : { go: true as const, probe: false };
  if (!permit.go) {
    decide(run, group, { kind: 'held', why: permit.why, seconds: permit.retryInMs / 1000 });
    return;
  }

  // Masked as it arrives, before anything reads it: the presets quote the body in their reasons,
  // and what a reason or a snippet holds is cut later (shared/secrets/masking.ts).
  const result = maskSendResult(
    await clientForExport(exportConfig, deps).send(request),
    run.secretValues,
  );
  // The generic table, adjusted by the export's preset (Slack error codes, Discord's waits...).
  const verdict = classifyFor(exportConfig, result, request.url, deps.presets);
  deps.notify(attemptNotice(run, group, request, result, verdict));
  const change = guards?.report(exportConfig, result, verdict, permit.probe);
  if (guards && change)
    await announceTransition(change, { ...announceContext(run, guards), result });
  if (change?.kind === 'opened' && change.reason === 'gone') {
    // The export pauses at once and these events wait with the others; no attempt is counted.
    const seconds = (change.pausedUntil - change.openedAt) / 1000;
    decide(run, group, { kind: 'held', why: 'the receiver answered 410 Gone', seconds });
    return;
  }
  if (verdict.outcome === 'success') {
    decide(run, group, { kind: 'delivered' });
    return;
  }
  for (const item of group) {
    decide(run, [item], afterFailure(run, item, result, verdict, group.length));
  }
};

/** Every phase for one export's records, deciding an outcome for each. */
const decideExport = async (
  run: ExportRun,
  items: readonly Item[],
  clock: InvocationClock,
): Promise<void> => {
  const ready = screen(run, items);
  if (ready.length === 0) return;
  if (await holdWhilePaused(run, ready)) return;
  const variables = await resolveVariables(run, ready);
  if (variables === undefined) return;
  run.secretValues = Object.values(variables);
  const sends: Promise<void>[] = [];
  const send = (group: readonly PreparedItem[]): void => {
    const [first, ...rest] = group;
    if (first === undefined) return;
    sends.push(
      sendGroup(run, [first, ...rest], variables, clock).catch((error: unknown) => {
        // Unexpected, and only this group's: its records without an outcome stay on the queue,
        // while the other groups finish as they would have.
        keepUndecided(run, group, error);
      }),
    );
  };
  // Without `batch` a record's group is itself: it leaves as soon as it is rendered, so the
  // first request is on the wire while the others render. A batch waits for all of them.
  const sendAlone =
    run.exportConfig.batch === undefined
      ? (item: PreparedItem) => {
          for (const group of groupsOf(run.exportConfig, [item])) send(group);
        }
      : undefined;
  try {
    const prepared = await prepare(run, ready, variables, sendAlone);
    if (sendAlone === undefined) {
      for (const group of groupsOf(run.exportConfig, prepared)) send(group);
    }
  } finally {
    // Whatever happened while rendering, the requests already sent finish (and are decided)
    // before this export's records are settled.
    await Promise.allSettled(sends);
  }
};

/** Decides and settles one export's records of the invocation. */
const deliverForExport = async (
  exportName: string,
  items: readonly Item[],
  deps: DeliveryDeps,
  clock: InvocationClock,
  now: Date,
): Promise<Settled> => {
  const exportConfig = deps.exports.get(exportName);
  if (exportConfig === undefined) {
    // The export was removed from the config while messages were queued: keep them (native
    // redrive takes them to the DLQ in the end), and say so, since nothing else will.
    for (const item of items) {
      deps.notify({
        type: 'deferred',
        export: exportName,
        auditId: item.message.event.audit_id,
        why: EXPORT_MISSING,
        visibleAgainInSeconds: 0,
      });
    }
    return { failed: items.map((item) => item.record.messageId), unexpected: [] };
  }
  const run: ExportRun = {
    deps,
    exportConfig,
    queueUrl: deps.queues.delivery(exportName),
    now,
    outcomes: new Map(),
    secretValues: [],
  };
  const { fresh, claimed } = claimCopies(run, items);
  try {
    await decideExport(run, fresh, clock);
  } catch (error) {
    // Unexpected: the records nothing was decided for stay on the queue (a delivered one may
    // then be sent again: at least once).
    keepUndecided(run, fresh, error);
  }
  const decided = items.map((item) => ({
    item,
    // Every phase decides for the records it stops; a record with none is a bug, kept.
    outcome: run.outcomes.get(item.record.messageId) ?? {
      kind: 'kept' as const,
      error: new Error(`no outcome was decided for message ${item.record.messageId}`),
    },
  }));
  let settled: Settled;
  try {
    settled = await settle({
      deps,
      exportConfig,
      queueUrl: run.queueUrl,
      now,
      secretValues: run.secretValues,
      decided,
    });
  } catch (error) {
    // Nothing is known about what was written: the copies come back and are handled anew.
    for (const identity of claimed.values()) deps.ledger?.release(identity);
    throw error;
  }
  recordCopies(deps.ledger, decided, claimed, settled);
  return settled;
};

/**
 * How long a copy waits, beyond its export's webhook timeout, while another invocation of this
 * instance handles its twin: by then the twin's send has ended and its outcome is settled.
 */
const TWIN_MARGIN_SECONDS = 5;

/**
 * Asks the ledger about each copy before anything is sent: a duplicate of a settled step is
 * dropped, a twin of a copy in flight waits, and a copy whose successor could not be written
 * before replays the outcome decided then, without a second request. The rest are fresh.
 */
const claimCopies = (
  run: ExportRun,
  items: readonly Item[],
): { fresh: Item[]; claimed: Map<string, string> } => {
  const { ledger } = run.deps;
  const claimed = new Map<string, string>();
  if (ledger === undefined) return { fresh: [...items], claimed };
  const fresh: Item[] = [];
  for (const item of items) {
    const identity = copyIdentity(item.message);
    const claim = ledger.claim(identity);
    switch (claim.kind) {
      case 'duplicate':
        decide(run, [item], { kind: 'duplicate' });
        break;
      case 'in_flight':
        decide(run, [item], {
          kind: 'deferred',
          why: 'a copy of the same attempt is being delivered now',
          seconds: run.exportConfig.webhook.timeout_seconds + TWIN_MARGIN_SECONDS,
        });
        break;
      case 'pending':
        claimed.set(item.record.messageId, identity);
        decide(run, [item], outcomeToReplay(claim.value, item));
        break;
      case 'new':
        claimed.set(item.record.messageId, identity);
        fresh.push(item);
        break;
    }
  }
  return { fresh, claimed };
};

/** Most characters of a response kept with an unwritten dead letter (it keeps 1 KiB of it). */
const UNWRITTEN_SNIPPET_CHARS = 4 * RESPONSE_SNIPPET_BYTES;

/**
 * An outcome whose write failed, as the ledger keeps it until the copy returns: without the
 * event, and with at most a few KiB of the response (already masked: cutting it now is safe).
 */
const unwrittenOutcome = (
  outcome: Extract<Outcome, { readonly kind: 'retry' | 'dead' }>,
): UnwrittenOutcome => {
  if (outcome.kind === 'retry') {
    const { event: _carriedByTheCopy, ...next } = outcome.next;
    return { ...outcome, next };
  }
  const { result } = outcome;
  if (result === undefined || result.bodySnippet.length <= UNWRITTEN_SNIPPET_CHARS) return outcome;
  return {
    ...outcome,
    result: {
      ...result,
      bodySnippet: result.bodySnippet.slice(0, UNWRITTEN_SNIPPET_CHARS),
      bodyTruncated: true,
    },
  };
};

/** The outcome to carry out for a returning copy whose outcome could not be written before. */
const outcomeToReplay = (unwritten: UnwrittenOutcome, item: Item): Outcome =>
  unwritten.kind === 'retry'
    ? { ...unwritten, next: { ...unwritten.next, event: item.message.event } }
    : unwritten;

/**
 * Tells the ledger what became of each claimed copy: settled for good when it was delivered
 * or its successor (next copy, dead letter) was written; pending when the request was made but
 * the successor could not be written, so that the copy's return replays it; released otherwise.
 */
const recordCopies = (
  ledger: DeliveryLedger | undefined,
  decided: readonly { readonly item: Item; readonly outcome: Outcome }[],
  claimed: ReadonlyMap<string, string>,
  settled: Settled,
): void => {
  if (ledger === undefined) return;
  const leftOnQueue = new Set(settled.failed);
  for (const { item, outcome } of decided) {
    const identity = claimed.get(item.record.messageId);
    if (identity === undefined) continue;
    switch (outcome.kind) {
      case 'delivered':
        ledger.settled(identity);
        break;
      case 'retry':
      case 'dead':
        if (leftOnQueue.has(item.record.messageId)) {
          ledger.pending(identity, unwrittenOutcome(outcome));
        } else {
          ledger.settled(identity);
        }
        break;
      default:
        // Deferred, held or kept: nothing settled, the copy comes back and is handled anew.
        ledger.release(identity);
    }
  }
};

/**
 * Delivers the records of one invocation of the delivery function: each to its export, alone
 * or in batches as the export says. Every record is delivered, re-enqueued for a retry,
 * dead-lettered, or left on its queue (reported as a batch item failure) to come back.
 *
 * @example
 * const report = await deliverRecords(event.Records, deps, { remainingMs: () => context.getRemainingTimeInMillis() });
 * return { batchItemFailures: report.batchItemFailures };
 */
const deliverRecords = async (
  records: readonly SQSRecord[],
  deps: DeliveryDeps,
  clock: InvocationClock,
): Promise<DeliveryReport> => {
  const now = deps.now?.() ?? new Date();
  // A sink must not throw; if one does, the deliveries go on: a notice is not worth a record.
  const notify = deps.notify;
  const safeDeps: DeliveryDeps = {
    ...deps,
    notify: (notice) => {
      try {
        notify(notice);
      } catch {
        // dropped: see above
      }
    },
  };
  const malformed: MalformedRecord[] = [];
  const byExport = new Map<string, Item[]>();
  for (const record of records) {
    const read = readDeliveryMessage(record.body);
    if (!read.ok) {
      malformed.push({ record, problem: read.problem });
      continue;
    }
    const items = byExport.get(read.message.export) ?? [];
    items.push({ record, message: read.message });
    byExport.set(read.message.export, items);
  }
  const settled = await Promise.all([
    settleMalformed(malformed, safeDeps, now),
    ...[...byExport].map(([exportName, items]) =>
      deliverForExport(exportName, items, safeDeps, clock, now).catch(
        (error: unknown): Settled => ({
          failed: items.map((item) => item.record.messageId),
          unexpected: items.map((item) => ({ messageId: item.record.messageId, error })),
        }),
      ),
    ),
  ]);
  return {
    batchItemFailures: settled.flatMap((part) =>
      part.failed.map((itemIdentifier) => ({ itemIdentifier })),
    ),
    unexpected: settled.flatMap((part) => part.unexpected),
  };
};

export { deliverRecords, infraRetryDelay, OUT_OF_TIME_VISIBILITY_SECONDS, SAFETY_MARGIN_MS };
