/**
 * The typed, validated shape of `config/observability.yaml`, with every default applied.
 * Produced only by the config loader (`shared/config/load.ts`); everything else consumes it.
 */
import type { ExportFilters } from '../events/filter.js';
import type { PresetName } from '../request/presets/names.js';

const HTTP_METHODS = ['POST', 'PUT', 'PATCH'] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];

const BODY_FORMATS = ['json', 'text'] as const;
type BodyFormat = (typeof BODY_FORMATS)[number];

/** Defaults the spec and the README promise; one place so docs, schema and code agree. */
const DEFAULTS = {
  format: 'json',
  method: 'POST',
  timeoutSeconds: 10,
  maxTimeoutSeconds: 60,
  maxAttempts: 5,
  backoffSeconds: [1, 2, 4, 8, 16],
  /** SQS's visibility timeout ceiling: no backoff can be longer. */
  maxBackoffSeconds: 43_200,
  batchSize: 10,
  maxConcurrency: 5,
  /** `webhook.max_body_bytes`: 1 MiB. */
  maxBodyBytes: 1_048_576,
  /**
   * Highest `webhook.max_body_bytes`: 10 MiB, the most API Gateway and the common webhook
   * frameworks' body parsers take (the presets' destinations take far less); one body is
   * rendered at a time, well within a 512 MB delivery function.
   */
  maxBodyBytesLimit: 10_485_760,
} as const;

interface WebhookConfig {
  /** May contain `${VAR}` references, resolved at send time. */
  readonly url: string;
  readonly method: HttpMethod;
  /** Header values may contain `${VAR}` references. */
  readonly headers: Readonly<Record<string, string>>;
  /** Liquid template over the audit event; absent means the event as JSON. */
  readonly body_template?: string;
  readonly timeout_seconds: number;
  /**
   * Most UTF-8 bytes a rendered body may have; rendering stops as soon as it passes this (a
   * `render` dead letter). Absent: `DEFAULTS.maxBodyBytes` (1 MiB).
   */
  readonly max_body_bytes?: number;
  /**
   * Whether deployed deliveries may reach private, loopback, link-local or metadata addresses
   * (the SSRF guard refuses them otherwise).
   */
  readonly allow_private_network?: boolean;
  /** Standard Webhooks signing; absent: requests are not signed. */
  readonly signing?: SigningConfig;
  /**
   * Destination preset supplying the body template, headers and response classifier (see
   * `shared/request/presets/`); the export's own `body_template` and headers win. Absent: none, except
   * that a URL resolving to a Slack incoming-webhook host gets the `slack` preset.
   */
  readonly preset?: PresetName;
}

/** Standard Webhooks signing of an export's requests (see `shared/request/signing.ts`). */
interface SigningConfig {
  /**
   * `${VAR}` references to the secrets, newest first; one signature per secret. Two during a
   * rotation (the config's `secret` + `previous_secret`, or `secrets: [new, old]`).
   */
  readonly secrets: readonly string[];
}

interface RetryConfig {
  /** Total HTTP attempts per event, the first one included. */
  readonly max_attempts: number;
  /** Delay before attempt n+1 is `backoff_seconds[n-1]`; the last entry is reused. */
  readonly backoff_seconds: readonly number[];
}

/** Event source tuning for the export's delivery queue. */
interface DeliveryTuning {
  readonly batch_size: number;
  readonly max_concurrency: number;
}

/**
 * The failure-rate breaker of an export (see `shared/pipeline/flowControl/breaker.ts`): when at least
 * `failure_rate` of the last `min_attempts` or more attempts within `window_seconds` failed,
 * deliveries pause for `cooldown_seconds`, then one probe decides.
 */
interface BreakerConfig {
  /** Share of failed attempts that opens the breaker, above 0 and at most 1. */
  readonly failure_rate: number;
  /** Attempts in the window before the rate is judged at all. */
  readonly min_attempts: number;
  /** How far back attempts count. */
  readonly window_seconds: number;
  /** How long deliveries pause before a probe. */
  readonly cooldown_seconds: number;
}

const BATCH_ENCODINGS = ['json_array', 'ndjson'] as const;
/** How the bodies of a batch are joined: a JSON array, or one body per line (NDJSON). */
type BatchEncoding = (typeof BATCH_ENCODINGS)[number];

/** Many events per request, for archive destinations (see `shared/pipeline/delivery/groups.ts`). */
interface BatchConfig {
  /** Most events in one request; also the event source's batch size. */
  readonly max_events: number;
  /** Most body bytes in one request; a larger batch is split into several requests. */
  readonly max_bytes: number;
  /** The event source's batching window: how long it gathers events before invoking. */
  readonly max_wait_seconds: number;
  /** Absent: `json_array` for `format: json`, `ndjson` for `format: text`. */
  readonly encoding?: BatchEncoding;
}

/** Defaults of the flow-control keys, shared by the schema and the code reading hand-built configs. */
const FLOW_CONTROL_DEFAULTS = {
  breaker: { failure_rate: 0.8, min_attempts: 10, window_seconds: 60, cooldown_seconds: 60 },
  batch: { max_events: 100, max_bytes: 1024 * 1024, max_wait_seconds: 5 },
} as const;

interface ExportConfig {
  /** Unique; used in queue, function-event-source and alarm names. */
  readonly name: string;
  readonly destination: 'webhook';
  readonly format: BodyFormat;
  readonly webhook: WebhookConfig;
  readonly filters: ExportFilters;
  readonly retry: RetryConfig;
  readonly delivery: DeliveryTuning;
  /** Events older than this (by `timestamp`) when their turn comes are dead-lettered as `expired`. */
  readonly max_event_age_seconds?: number;
  /** Most requests per second to the receiver, across all concurrent invocations. */
  readonly rate_limit_per_second?: number;
  /** The failure-rate breaker; `false` disables it; absent: on with the defaults. */
  readonly breaker?: BreakerConfig | false;
  /** Batching for archive destinations; absent: one request per event. */
  readonly batch?: BatchConfig;
}

/**
 * A principal outside the stack allowed to send to the ingest queue (`producers:`): every
 * principal of an account (as its own IAM allows), one role, or an AWS service sending for one
 * SNS topic or EventBridge rule (an `aws:SourceArn` condition).
 */
type ProducerConfig =
  | { readonly account: string }
  | { readonly role_arn: string }
  | {
      readonly service: 'sns.amazonaws.com' | 'events.amazonaws.com';
      readonly source_arn: string;
    };

interface ObservabilityConfig {
  readonly exports: readonly ExportConfig[];
  /** Absent: only principals given the stack's producer policy may send. */
  readonly producers?: readonly ProducerConfig[];
}

export type {
  BatchConfig,
  BatchEncoding,
  BodyFormat,
  BreakerConfig,
  DeliveryTuning,
  ExportConfig,
  HttpMethod,
  ObservabilityConfig,
  ProducerConfig,
  RetryConfig,
  SigningConfig,
  WebhookConfig,
};
export { BATCH_ENCODINGS, BODY_FORMATS, DEFAULTS, FLOW_CONTROL_DEFAULTS, HTTP_METHODS };
