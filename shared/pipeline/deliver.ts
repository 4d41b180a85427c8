/**
 * The delivery step for one delivery-queue record, as typed phases: read → wait or defer →
 * resolve variables → prepare → send → success, retry later, or dead-letter.
 *
 * Attempt counting: the message carries the number of attempts made. A retry re-enqueues the
 * message with the count raised and a delay (`backoff_seconds`, raised to `Retry-After`), and
 * the received copy is deleted. So a persistently failing receiver gets exactly `max_attempts`
 * requests, and things that are not the receiver's fault (our SSM or SQS failing, the
 * invocation running out of time, a Lambda throttle) never spend one: the record simply comes
 * back. Native SQS redrive (`maxReceiveCount`) is the backstop for a copy that keeps coming
 * back without a result, e.g. because the function crashes on it.
 */

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { ExportConfig } from '../config/types.js';
import { validateEvent } from '../events.js';
import type { HttpClient, SendResult } from '../http.js';
import { clientForExport } from '../networkGuard.js';
import { prepareRequest } from '../prepareRequest.js';
import { classifyFor, type PresetOptions, type PresetVerdict } from '../presets/index.js';
import type { QueueDirectory } from '../queueNames.js';
import { changeVisibility, SQS_LIMITS, sendMessage, sqsText } from '../queues.js';
import { backoffDelaySeconds } from '../retry.js';
import { MissingVariableError, SecretsError } from '../secretErrors.js';
import type { SecretResolver } from '../secrets.js';
import { SigningSecretError } from '../signing.js';
import { TemplateError } from '../template.js';
import { exportVariableNames, redactSecrets } from '../variables.js';
import { expiredBecause } from './eventAge.js';
import type { ExportGuards } from './exportGuards.js';
import { type AnnounceContext, announceTransition, retryPendingRaise } from './exportPaused.js';
import {
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterReason,
  type DeliveryMessage,
  MESSAGE_VERSION,
  nextAttemptMessage,
  RESPONSE_SNIPPET_BYTES,
  truncateUtf8,
} from './messages.js';
import type { NoticeSink } from './notices.js';
import { HOLD_OUTCOMES, holdRecord } from './pacing.js';

interface DeliveryDeps {
  readonly sqs: SQSClient;
  readonly queues: QueueDirectory;
  readonly exports: ReadonlyMap<string, ExportConfig>;
  /** Sends requests for exports with `allow_private_network: true`, and for all without a guard. */
  readonly http: HttpClient;
  /**
   * Sends requests for every other export when set: a client whose connector refuses private
   * addresses (the SSRF guard, on by default when deployed).
   */
  readonly guardedHttp?: HttpClient;
  readonly secrets: SecretResolver;
  readonly notify: NoticeSink;
  /** The export a delivery queue belongs to, for a message that does not say. */
  readonly exportOfQueueArn: (queueArn: string) => string | undefined;
  readonly now?: () => Date;
  /**
   * How long a record first stays hidden after a failure of our own infrastructure (SSM); it
   * doubles with every receive of the same copy, up to 15 minutes.
   * @default 10
   */
  readonly infraRetrySeconds?: number;
  /**
   * The breakers and rate limiters of this handler instance (shared/pipeline/exportGuards.ts);
   * absent: neither applies. `max_event_age_seconds` applies either way.
   */
  readonly guards?: ExportGuards;
  /** How presets are chosen; tests pass their own Slack hosts. @default production hosts */
  readonly presets?: PresetOptions;
}

/** What the handler knows about its invocation's deadline. */
interface InvocationClock {
  remainingMs(): number;
}

/**
 * Thrown to hand a record back to its queue without spending an attempt: our infrastructure
 * failed, the backoff has not elapsed, or the invocation has no time left for it.
 */
class DeliveryDeferredError extends Error {
  constructor(
    readonly exportName: string,
    readonly why: string,
    options?: ErrorOptions,
  ) {
    super(`delivery for export "${exportName}" deferred: ${why}`, options);
    this.name = 'DeliveryDeferredError';
  }
}

/** Time kept back for the SQS calls that follow a send (re-enqueue, dead letter, delete). */
const SAFETY_MARGIN_MS = 3_000;

/** Visibility of a record handed back because the invocation is out of time. */
const OUT_OF_TIME_VISIBILITY_SECONDS = 1;

/** Longest wait after an infrastructure failure before the record is tried again. */
const MAX_INFRA_RETRY_SECONDS = 900;

/**
 * Exponential wait for a record deferred because our own infrastructure failed: an SSM outage
 * is ridden out for close to an hour of receives before SQS's redrive backstop takes the copy.
 */
const infraRetryDelay = (record: SQSRecord, baseSeconds: number): number => {
  const receives = Math.max(1, Number(record.attributes.ApproximateReceiveCount) || 1);
  return Math.min(baseSeconds * 2 ** (receives - 1), MAX_INFRA_RETRY_SECONDS);
};

const parseMessage = (record: SQSRecord): DeliveryMessage | string => {
  let value: unknown;
  try {
    value = JSON.parse(record.body);
  } catch {
    return 'the message body is not JSON';
  }
  const message = value as Partial<DeliveryMessage> | null;
  if (typeof message !== 'object' || message === null) return 'the message is not an object';
  if (message.v !== MESSAGE_VERSION) return `unknown message version ${String(message.v)}`;
  if (typeof message.export !== 'string') return 'the message names no export';
  if (typeof message.delivery_id !== 'string') return 'the message has no delivery_id';
  if (typeof message.attempts !== 'number' || message.attempts < 0) {
    return 'the message has no attempt count';
  }
  if (!validateEvent(message.event).ok) return 'the message holds no valid audit event';
  return message as DeliveryMessage;
};

/** Everything known about a delivery when it is dead-lettered. */
interface DeadLetterInput {
  readonly message: DeliveryMessage;
  readonly reason: DeadLetterReason;
  readonly detail: string;
  readonly attempts: number;
  readonly result?: SendResult;
  readonly secretValues: readonly string[];
  readonly now: Date;
}

const buildDeadLetter = (input: DeadLetterInput): DeadLetter => {
  const { message, result, secretValues } = input;
  const redact = (text: string) => redactSecrets(text, secretValues);
  const snippet = result?.bodySnippet
    ? redact(truncateUtf8(result.bodySnippet, RESPONSE_SNIPPET_BYTES))
    : undefined;
  const attemptedNow = result !== undefined;
  const lastStatus = result?.status ?? message.last_status;
  const errorClass = result?.errorClass ?? message.last_error_class;
  const firstAttemptAt =
    message.first_attempt_at ?? (attemptedNow ? input.now.toISOString() : undefined);
  const lastAttemptAt = attemptedNow ? input.now.toISOString() : message.last_attempt_at;
  return {
    v: MESSAGE_VERSION,
    kind: 'dead_letter',
    delivery_id: message.delivery_id,
    export: message.export,
    reason: input.reason,
    detail: redact(input.detail),
    attempts: input.attempts,
    ...(firstAttemptAt === undefined ? {} : { first_attempt_at: firstAttemptAt }),
    ...(lastAttemptAt === undefined ? {} : { last_attempt_at: lastAttemptAt }),
    ...(lastStatus === undefined ? {} : { last_status: lastStatus }),
    ...(errorClass === undefined ? {} : { error_class: errorClass }),
    ...(snippet ? { response_snippet: snippet } : {}),
    dead_lettered_at: input.now.toISOString(),
    event: message.event,
  };
};

/**
 * Delivers one record. Resolves when the record is finished with (delivered, re-enqueued for a
 * retry, or dead-lettered) and may be deleted; throws to leave it on its queue.
 *
 * @example
 * await deliverRecord(record, deps, { remainingMs: () => context.getRemainingTimeInMillis() });
 */
const deliverRecord = async (
  record: SQSRecord,
  deps: DeliveryDeps,
  clock: InvocationClock,
): Promise<void> => {
  const now = deps.now?.() ?? new Date();
  const parsed = parseMessage(record);
  if (typeof parsed === 'string') {
    await deadLetterMalformed(record, parsed, deps, now);
    return;
  }
  const message = parsed;
  const exportConfig = deps.exports.get(message.export);
  if (!exportConfig) {
    // The export was removed from the config while messages were queued: keep them (native
    // redrive takes them to the DLQ in the end), and say so, since nothing else will.
    const why = 'the export is not in the configuration; redeploy it or let redrive take these';
    deps.notify({
      type: 'deferred',
      export: message.export,
      auditId: message.event.audit_id,
      why,
      visibleAgainInSeconds: 0,
    });
    throw new DeliveryDeferredError(message.export, why);
  }
  const queueUrl = deps.queues.delivery(exportConfig.name);
  const auditId = message.event.audit_id;

  const defer = async (why: string, seconds: number, cause?: unknown): Promise<never> => {
    await changeVisibility(deps.sqs, queueUrl, record.receiptHandle, seconds);
    deps.notify({
      type: 'deferred',
      export: exportConfig.name,
      auditId,
      why,
      visibleAgainInSeconds: seconds,
    });
    throw new DeliveryDeferredError(exportConfig.name, why, { cause });
  };

  // A backoff longer than SQS's 15-minute delay: hide the copy for the rest of the wait.
  if (message.not_before !== undefined) {
    const waitMs = Date.parse(message.not_before) - now.getTime();
    if (waitMs > 1_000) await defer('waiting for its backoff to elapse', Math.ceil(waitMs / 1000));
  }

  const timeoutMs = exportConfig.webhook.timeout_seconds * 1000;
  if (clock.remainingMs() < timeoutMs + SAFETY_MARGIN_MS) {
    await defer('the invocation has no time left for it', OUT_OF_TIME_VISIBILITY_SECONDS);
  }

  const deadLetter = async (input: Omit<DeadLetterInput, 'message' | 'now'>) => {
    const letter = buildDeadLetter({ ...input, message, now });
    await sendMessage(deps.sqs, deps.queues.deliveryDlq(exportConfig.name), {
      body: JSON.stringify(letter),
    });
    deps.notify({
      type: 'dead_lettered',
      export: exportConfig.name,
      auditId,
      reason: letter.reason,
      detail: letter.detail,
      attempts: letter.attempts,
    });
  };

  const expired = expiredBecause(message.event, exportConfig, now);
  if (expired !== undefined) {
    return deadLetter({
      reason: DEAD_LETTER_REASONS.expired,
      detail: expired,
      attempts: message.attempts,
      secretValues: [],
    });
  }

  // Breaker and rate limit: hold the record back (no attempt spent) while the export pauses.
  const { guards } = deps;
  const hold = async (why: string, seconds: number): Promise<void> => {
    const held = await holdRecord({
      sqs: deps.sqs,
      notify: deps.notify,
      queueUrl,
      record,
      message,
      exportConfig,
      why,
      seconds,
      now,
    });
    if (held === HOLD_OUTCOMES.hidden) throw new DeliveryDeferredError(exportConfig.name, why);
  };
  const announce: AnnounceContext | undefined = guards && {
    sqs: deps.sqs,
    queues: deps.queues,
    notify: deps.notify,
    guards,
    exportConfig,
    now,
  };
  const pausedMs = guards?.pausedForMs(exportConfig);
  if (announce && pausedMs !== undefined) {
    await retryPendingRaise(announce);
    return hold('the export is paused by its breaker', pausedMs / 1000);
  }

  let variables: Record<string, string>;
  try {
    variables = await deps.secrets.resolve(exportVariableNames(exportConfig), exportConfig.name);
  } catch (error) {
    if (error instanceof SecretsError && !error.retryable) {
      return deadLetter({
        reason: DEAD_LETTER_REASONS.configuration,
        detail: error.message,
        attempts: message.attempts,
        secretValues: [],
      });
    }
    const why = `the secret store failed (${error instanceof Error ? error.name : 'error'})`;
    return defer(why, infraRetryDelay(record, deps.infraRetrySeconds ?? 10), error);
  }
  const secretValues = Object.values(variables);

  let request: Awaited<ReturnType<typeof prepareRequest>>;
  try {
    request = await prepareRequest(exportConfig, message.event, variables, {
      presets: deps.presets,
    });
  } catch (error) {
    if (
      error instanceof TemplateError ||
      error instanceof MissingVariableError ||
      error instanceof SigningSecretError
    ) {
      const reason =
        error instanceof TemplateError
          ? DEAD_LETTER_REASONS.render
          : DEAD_LETTER_REASONS.configuration;
      return deadLetter({
        reason,
        detail: error.message,
        attempts: message.attempts,
        secretValues,
      });
    }
    throw error;
  }

  const returning = Number(record.attributes.ApproximateReceiveCount) > 1;
  const permit = guards
    ? await guards.permit(exportConfig, record.messageId, returning)
    : { go: true as const, probe: false };
  if (!permit.go) return hold(permit.why, permit.retryInMs / 1000);

  const client = clientForExport(exportConfig, deps);
  const result = await client.send(request);
  const attempt = message.attempts + 1;
  const maxAttempts = exportConfig.retry.max_attempts;
  // The generic table, adjusted by the export's preset (Slack error codes, Discord's waits...).
  const verdict: PresetVerdict = classifyFor(exportConfig, result, request.url, deps.presets);
  deps.notify({
    type: 'attempt',
    export: exportConfig.name,
    auditId,
    attempt,
    maxAttempts,
    ...(result.status === undefined ? {} : { status: result.status }),
    ...(result.errorClass === undefined ? {} : { errorClass: result.errorClass }),
    latencyMs: result.latencyMs,
    outcome: verdict.outcome,
  });
  const change = guards?.report(exportConfig, result, verdict, permit.probe);
  if (announce && change) await announceTransition(change, { ...announce, result });
  if (change?.kind === 'opened' && change.reason === 'gone') {
    // The export pauses at once and this event waits with the others; the attempt is not counted.
    return hold('the receiver answered 410 Gone', (change.pausedUntil - change.openedAt) / 1000);
  }
  if (verdict.outcome === 'success') return;

  if (verdict.outcome === 'retry' && attempt < maxAttempts) {
    const delaySeconds = backoffDelaySeconds(
      attempt,
      exportConfig.retry,
      verdict.retryAfterSeconds ?? result.retryAfterSeconds,
    );
    const next = nextAttemptMessage(message, attempt, result, delaySeconds, now);
    await sendMessage(deps.sqs, queueUrl, {
      body: JSON.stringify(next),
      delaySeconds: Math.min(delaySeconds, SQS_LIMITS.maxDelaySeconds),
    });
    deps.notify({
      type: 'retry_scheduled',
      export: exportConfig.name,
      auditId,
      nextAttempt: attempt + 1,
      delaySeconds,
    });
    return;
  }

  const exhausted = verdict.outcome === 'retry';
  await deadLetter({
    reason: exhausted ? DEAD_LETTER_REASONS.exhausted : DEAD_LETTER_REASONS.permanent,
    detail: exhausted
      ? `${verdict.reason}; gave up after ${attempt} of ${maxAttempts} attempts`
      : `${verdict.reason}; not retried (permanent failure)`,
    attempts: attempt,
    result,
    secretValues,
  });
};

/** A record that is not a delivery message: dead-letter it whole, so nothing is dropped. */
const deadLetterMalformed = async (
  record: SQSRecord,
  problem: string,
  deps: DeliveryDeps,
  now: Date,
): Promise<void> => {
  const exportName = deps.exportOfQueueArn(record.eventSourceARN);
  if (exportName === undefined) throw new Error(`message ${record.messageId}: ${problem}`);
  await sendMessage(deps.sqs, deps.queues.deliveryDlq(exportName), {
    body: record.body,
    attributes: { reason: DEAD_LETTER_REASONS.malformed, detail: sqsText(problem) },
  });
  deps.notify({
    type: 'dead_lettered',
    export: exportName,
    auditId: 'unknown',
    reason: DEAD_LETTER_REASONS.malformed,
    detail: `message ${record.messageId}: ${problem} (at ${now.toISOString()})`,
    attempts: 0,
  });
};

export type { DeadLetterInput, DeliveryDeps, InvocationClock };
export {
  buildDeadLetter,
  DeliveryDeferredError,
  deadLetterMalformed,
  deliverRecord,
  infraRetryDelay,
  OUT_OF_TIME_VISIBILITY_SECONDS,
  parseMessage,
  SAFETY_MARGIN_MS,
};
