/**
 * What the delivery engine works with and what it decides. A record's fate is a value, an
 * {@link Outcome}; one function (settle.ts) turns outcomes into SQS actions, notices and the
 * batch item failures, whether the record was sent alone or in a batch.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { ExportConfig } from '../../config/types.js';
import type { NoticeSink } from '../../observability/notices.js';
import type { PresetOptions } from '../../request/presets/index.js';
import type { SecretResolver } from '../../secrets/resolvers.js';
import type { QueueDirectory } from '../../sqs/queueNames.js';
import type { HttpClient, OutgoingRequest, SendResult } from '../../transport/http.js';
import type { CopyLedger } from '../copyLedger.js';
import type { ExportGuards } from '../flowControl/exportGuards.js';
import type { DeadLetterReason, DeliveryMessage } from '../messages/index.js';

/** The clients, config and settings of a delivery function instance. */
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
   * The breakers and rate limiters of this handler instance (shared/pipeline/flowControl/exportGuards.ts);
   * absent: neither applies. `max_event_age_seconds` applies either way.
   */
  readonly guards?: ExportGuards;
  /** How presets are chosen; tests pass their own Slack hosts. @default production hosts */
  readonly presets?: PresetOptions;
  /**
   * The copies this instance settled (copyLedger.ts): a copy arriving again is dropped, and one
   * whose successor could not be written replays it without sending again. Absent: every copy
   * is handled as new.
   */
  readonly ledger?: DeliveryLedger;
}

/**
 * What a copy's return carries out when the retry or dead letter decided for it could not be
 * written: that outcome without the event (the returning copy brings it back), so that a
 * ledger full of them stays small (engine.ts, `unwrittenOutcome`).
 */
type UnwrittenOutcome =
  | (Omit<Extract<Outcome, { readonly kind: 'retry' }>, 'next'> & {
      readonly next: Omit<DeliveryMessage, 'event'>;
    })
  | Extract<Outcome, { readonly kind: 'dead' }>;

/** The delivery function's ledger of copies, keyed by `copyIdentity`. */
type DeliveryLedger = CopyLedger<UnwrittenOutcome>;

/** What the handler knows about its invocation's deadline. */
interface InvocationClock {
  remainingMs(): number;
}

/** One record, read as a delivery message. */
interface Item {
  readonly record: SQSRecord;
  readonly message: DeliveryMessage;
}

/** An item with its request prepared (body rendered, headers resolved, signed). */
interface PreparedItem extends Item {
  readonly request: OutgoingRequest;
  /** The body as an element of a batched request; absent for an export without `batch`. */
  readonly element?: string;
}

/**
 * What becomes of one record. Every record of an invocation gets exactly one.
 * - `delivered`: the receiver took it; the record is deleted.
 * - `retry`: a copy carrying the next attempt is written with a delay; the record is deleted.
 * - `dead`: a dead letter is written; the record is deleted.
 * - `deferred`: hidden for `seconds` without spending an attempt (backoff not over, our
 *   infrastructure failed, no time left); the record stays.
 * - `held`: held back for the export's pacing (breaker, rate limit, 410); hidden, or replaced
 *   by a fresh copy when its receive budget runs low (pacing.ts).
 * - `kept`: left as it is, because something unexpected happened (`error`, which the handler
 *   logs); it comes back after the queue's visibility timeout.
 * - `duplicate`: a copy of a step this instance already settled (the ledger); the record is
 *   deleted without a request.
 */
type Outcome =
  | { readonly kind: 'delivered' }
  | {
      readonly kind: 'retry';
      readonly next: DeliveryMessage;
      readonly nextAttempt: number;
      readonly delaySeconds: number;
    }
  | {
      readonly kind: 'dead';
      readonly reason: DeadLetterReason;
      readonly detail: string;
      readonly attempts: number;
      /** The last attempt's result, when the dead letter follows a send. */
      readonly result?: SendResult;
    }
  | { readonly kind: 'deferred'; readonly why: string; readonly seconds: number }
  | { readonly kind: 'held'; readonly why: string; readonly seconds: number }
  | { readonly kind: 'kept'; readonly error: unknown }
  | { readonly kind: 'duplicate' };

/** A record that could not be read as a delivery message. */
interface MalformedRecord {
  readonly record: SQSRecord;
  readonly problem: string;
}

/** A record the engine could not settle because something unexpected happened. */
interface UnexpectedFailure {
  readonly messageId: string;
  readonly error: unknown;
}

/** The engine's answer for an invocation. */
interface DeliveryReport {
  /** The records that stay on their queue: the partial batch response. */
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  /** What the handler should log: errors nobody expected, by record. */
  readonly unexpected: readonly UnexpectedFailure[];
}

export type {
  DeliveryDeps,
  DeliveryLedger,
  DeliveryReport,
  InvocationClock,
  Item,
  MalformedRecord,
  Outcome,
  PreparedItem,
  UnexpectedFailure,
  UnwrittenOutcome,
};
