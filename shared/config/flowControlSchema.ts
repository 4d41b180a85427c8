/**
 * The flow-control keys of an export: `max_event_age_seconds`, `rate_limit_per_second`,
 * `breaker` and `batch`. Kept apart from `schema.ts` so that file stays about the request
 * itself; `ExportSchema` spreads {@link FLOW_CONTROL_KEYS} into its keys and runs
 * {@link checkFlowControl} across them.
 */
import { z } from 'zod';
import { BATCH_ENCODINGS, FLOW_CONTROL_DEFAULTS } from './types.js';
import { describeValue, orList } from './wording.js';

/** Two weeks: nothing stays queued longer (SQS keeps dead letters 14 days at most). */
const MAX_EVENT_AGE_SECONDS = 14 * 86_400;
/** A generous ceiling; a receiver taking more than this is not what the limit is for. */
const MAX_RATE_PER_SECOND = 10_000;
/** Lambda's SQS event source: at most 10,000 records per batch, with a batching window. */
const MAX_BATCH_EVENTS = 10_000;
/** Without a batching window an SQS event source takes at most 10 records. */
const MAX_EVENTS_WITHOUT_WINDOW = 10;
/** Lambda's SQS event source: a batching window of at most 300 seconds. */
const MAX_BATCH_WAIT_SECONDS = 300;
/** A Lambda invocation carries at most 6 MB, so a request body cannot be larger. */
const MAX_BATCH_BYTES = 6 * 1024 * 1024;
const MIN_BATCH_BYTES = 1024;
/** Breaker windows and cooldowns: from a second to an hour. */
const MAX_BREAKER_SECONDS = 3_600;
const MAX_BREAKER_MIN_ATTEMPTS = 1_000;

const { breaker: BREAKER, batch: BATCH } = FLOW_CONTROL_DEFAULTS;

const BreakerSettingsSchema = z
  .strictObject({
    failure_rate: z
      .number()
      .gt(0)
      .max(1)
      .default(BREAKER.failure_rate)
      .meta({
        title: 'Failure rate',
        description:
          'Share of failed attempts (above 0, at most 1) among the recent ones that pauses the export. Failed: every attempt that did not succeed, except 429 (Retry-After and the rate limit handle those). The default, 0.8 ("most attempts fail"), pauses a receiver that is down, while one that fails now and then (say 30%) is not paused by chance while only a few attempts are counted.',
        examples: [BREAKER.failure_rate],
      }),
    min_attempts: z
      .int()
      .min(1)
      .max(MAX_BREAKER_MIN_ATTEMPTS)
      .default(BREAKER.min_attempts)
      .meta({
        title: 'Minimum attempts',
        description:
          'Attempts within the window before the failure rate is judged at all, so a single failure never pauses an export.',
        examples: [BREAKER.min_attempts],
      }),
    window_seconds: z
      .int()
      .min(1)
      .max(MAX_BREAKER_SECONDS)
      .default(BREAKER.window_seconds)
      .meta({
        title: 'Window (seconds)',
        description: 'How far back attempts count towards the failure rate.',
        examples: [BREAKER.window_seconds],
      }),
    cooldown_seconds: z
      .int()
      .min(1)
      .max(MAX_BREAKER_SECONDS)
      .default(BREAKER.cooldown_seconds)
      .meta({
        title: 'Cooldown (seconds)',
        description:
          'How long deliveries pause once the breaker opens. Then one probe delivery is sent: success resumes the export, failure pauses it again.',
        examples: [BREAKER.cooldown_seconds],
      }),
  })
  .meta({ title: 'Breaker settings' });

const BreakerSchema = z
  .union([z.literal(false), BreakerSettingsSchema], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `${describeValue(issue.input)} is not a breaker; write false to disable it, or a map such as { failure_rate: 0.8, min_attempts: 10, cooldown_seconds: 60 }`
        : undefined,
  })
  .default(() => ({ ...BREAKER }))
  .meta({
    title: 'Breaker',
    description:
      'Pauses deliveries to a failing receiver: when at least failure_rate of the last min_attempts (or more) attempts within window_seconds failed, or at once on 410 Gone, messages stay queued (no attempt is spent) and one webhook.export_paused event is raised; after cooldown_seconds one probe decides. Per delivery function instance. false disables it.',
    examples: [false, { failure_rate: 0.8, min_attempts: 10, cooldown_seconds: 60 }],
  });

const BatchSchema = z
  .strictObject({
    max_events: z
      .int()
      .min(1)
      .max(MAX_BATCH_EVENTS)
      .default(BATCH.max_events)
      .meta({
        title: 'Maximum events',
        description: `Most events in one request, from 1 to ${MAX_BATCH_EVENTS}; also the batch size of the export's event source (replaces delivery.batch_size). Above ${MAX_EVENTS_WITHOUT_WINDOW}, max_wait_seconds must be at least 1.`,
        examples: [BATCH.max_events],
      }),
    max_bytes: z
      .int()
      .min(MIN_BATCH_BYTES)
      .max(MAX_BATCH_BYTES)
      .default(BATCH.max_bytes)
      .meta({
        title: 'Maximum bytes',
        description: `Most body bytes in one request, from ${MIN_BATCH_BYTES} to ${MAX_BATCH_BYTES} (6 MiB); a larger batch is split into several requests. A single event larger than this is sent alone.`,
        examples: [BATCH.max_bytes],
      }),
    max_wait_seconds: z
      .int()
      .min(0)
      .max(MAX_BATCH_WAIT_SECONDS)
      .default(BATCH.max_wait_seconds)
      .meta({
        title: 'Maximum wait (seconds)',
        description: `The event source's batching window, from 0 to ${MAX_BATCH_WAIT_SECONDS}: how long it gathers events before invoking the delivery function with fewer than max_events.`,
        examples: [BATCH.max_wait_seconds],
      }),
    encoding: z
      .enum(BATCH_ENCODINGS, {
        error: (issue) =>
          issue.code === 'invalid_value'
            ? `${describeValue(issue.input)} is not a batch encoding; use ${orList(BATCH_ENCODINGS)}`
            : undefined,
      })
      .optional()
      .meta({
        title: 'Encoding',
        description:
          'json_array: the body is a JSON array with one element per event (its rendered body, or the event when there is no template; with format text, each body as a string). ndjson: one body per line (format json bodies on one line each; a format text body must not contain a line break). Absent: json_array for format json, ndjson for format text.',
        examples: ['ndjson'],
      }),
  })
  .meta({
    title: 'Batch',
    description:
      'For archive destinations: one request carries many events, gathered from the event source (batching window max_wait_seconds, batch size max_events) and split by max_bytes. A failed request is retried or dead-lettered as a unit, every event accounted for.',
    examples: [{ max_events: 500, max_bytes: 1048576, max_wait_seconds: 30, encoding: 'ndjson' }],
  });

/** The flow-control keys, spread into `ExportSchema`. */
const FLOW_CONTROL_KEYS = {
  max_event_age_seconds: z
    .int()
    .min(1)
    .max(MAX_EVENT_AGE_SECONDS)
    .optional()
    .meta({
      title: 'Maximum event age (seconds)',
      description: `An event older than this (by its timestamp) when its turn comes is dead-lettered with reason expired instead of being sent, e.g. so nobody is paged hours late. From 1 to ${MAX_EVENT_AGE_SECONDS} (14 days). Absent: events never expire.`,
      examples: [3600],
    }),
  rate_limit_per_second: z
    .number()
    .gt(0)
    .max(MAX_RATE_PER_SECOND)
    .optional()
    .meta({
      title: 'Rate limit (requests per second)',
      description:
        'Most requests per second to the receiver (may be fractional: 0.5 is one every 2 seconds). Each delivery function instance gets rate_limit_per_second / delivery.max_concurrency, so all of them together never exceed it. Records that cannot be sent in time wait on their queue; no attempt is spent. Absent: no limit beyond max_concurrency.',
      examples: [1, 2],
    }),
  breaker: BreakerSchema,
  batch: BatchSchema.optional(),
} as const;

/**
 * Checks across the flow-control keys: an event source batch of more than 10 records needs a
 * batching window.
 */
const checkFlowControl = (
  value: { readonly batch?: { readonly max_events: number; readonly max_wait_seconds: number } },
  ctx: z.RefinementCtx,
): void => {
  const batch = value.batch;
  if (batch === undefined) return;
  if (batch.max_events > MAX_EVENTS_WITHOUT_WINDOW && batch.max_wait_seconds < 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['batch', 'max_wait_seconds'],
      message: `is 0, but max_events is ${batch.max_events}: an SQS event source takes more than ${MAX_EVENTS_WITHOUT_WINDOW} records only with a batching window; set max_wait_seconds to 1 or more`,
    });
  }
};

export {
  checkFlowControl,
  FLOW_CONTROL_KEYS,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_WAIT_SECONDS,
  MAX_EVENT_AGE_SECONDS,
  MAX_RATE_PER_SECOND,
};
