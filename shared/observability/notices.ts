/**
 * What the pipeline reports as it works. The core functions emit notices; each runtime decides
 * what they become: structured logs and EMF metrics on Lambda, one console line each in the
 * local stack, a list to assert on in tests. Notices never carry a secret.
 */

/** What every attempt notice says, for one event or a batch of them. */
interface AttemptFields {
  readonly export: string;
  /** The attempt number; for a batch, the highest among its events. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly status?: number;
  readonly errorClass?: string;
  readonly latencyMs: number;
  readonly outcome: 'success' | 'retry' | 'permanent';
}

type PipelineNotice =
  | {
      readonly type: 'fanned_out';
      readonly sourceMessageId: string;
      readonly events: number;
      readonly messages: number;
    }
  | {
      readonly type: 'event_parked';
      readonly sourceMessageId: string;
      readonly auditId?: string;
      readonly reason: string;
      readonly detail: string;
    }
  | ({ readonly type: 'attempt'; readonly auditId: string } & AttemptFields)
  | {
      readonly type: 'retry_scheduled';
      readonly export: string;
      readonly auditId: string;
      readonly nextAttempt: number;
      readonly delaySeconds: number;
    }
  | {
      readonly type: 'dead_lettered';
      readonly export: string;
      readonly auditId: string;
      readonly reason: string;
      readonly detail: string;
      readonly attempts: number;
    }
  | {
      readonly type: 'deferred';
      readonly export: string;
      readonly auditId?: string;
      /** Why the record goes back to its queue without spending an attempt. */
      readonly why: string;
      readonly visibleAgainInSeconds: number;
    }
  | {
      readonly type: 'dlq_event_raised';
      readonly export: string;
      readonly auditId: string;
      readonly dlqAuditId: string;
    }
  | {
      /** The export's breaker opened: deliveries pause (records wait on the queue). */
      readonly type: 'export_paused';
      readonly export: string;
      /** `failure_rate`, `gone` (a 410) or `probe_failed` (the pause goes on). */
      readonly reason: string;
      /** Failed share of the attempts in the window (for `failure_rate`). */
      readonly failureRate?: number;
      readonly attempts: number;
      readonly failures: number;
      readonly pausedUntil: string;
      /** The `webhook.export_paused` event raised; absent when the pause was already announced. */
      readonly raisedAuditId?: string;
    }
  | {
      /** A probe succeeded: the export's breaker closed and deliveries resume. */
      readonly type: 'export_resumed';
      readonly export: string;
      readonly pausedForSeconds: number;
    }
  | ({
      /** One request of a batched export, carrying `events` events. */
      readonly type: 'batch_attempt';
      readonly events: number;
      readonly bytes: number;
    } & AttemptFields)
  | {
      /**
       * A copy of a delivery step (or a dead letter) this instance already settled came back
       * (a lost delete, a repeated receive): dropped, so the retry chain does not split.
       */
      readonly type: 'duplicate_dropped';
      readonly export: string;
      readonly auditId: string;
      /** The attempts the copy carried; absent for a dead letter. */
      readonly attempts?: number;
    }
  | {
      /**
       * A dead letter's `webhook.dlq` raise failed on every receive up to the last: it is
       * archived marked `alert: not_raised` and the stage's alerts-not-raised alarm fires.
       */
      readonly type: 'alert_not_raised';
      readonly export: string;
      readonly auditId: string;
      readonly deliveryId: string;
      readonly why: string;
    }
  | {
      readonly type: 'dead_letter_archived';
      readonly export: string;
      readonly auditId?: string;
      /** False for a dead `webhook.dlq` event, which raises nothing (no loops). */
      readonly raised: boolean;
    };

/** Receives notices; must not throw. */
type NoticeSink = (notice: PipelineNotice) => void;

/** A sink that drops everything, for callers that do not care. */
const ignoreNotices: NoticeSink = () => undefined;

/** Fans one notice out to several sinks. */
const combineSinks =
  (...sinks: readonly NoticeSink[]): NoticeSink =>
  (notice) => {
    for (const sink of sinks) sink(notice);
  };

export type { AttemptFields, NoticeSink, PipelineNotice };
export { combineSinks, ignoreNotices };
