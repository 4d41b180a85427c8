/**
 * The typed, validated shape of `config/observability.yaml`, with every default applied.
 * Produced only by the config loader (`shared/config/load.ts`); everything else consumes it.
 */
import type { ExportFilters } from '../filter.js';

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
   * Whether deployed deliveries may reach private, loopback, link-local or metadata addresses
   * (the SSRF guard refuses them otherwise).
   */
  readonly allow_private_network?: boolean;
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

interface ExportConfig {
  /** Unique; used in queue, function-event-source and alarm names. */
  readonly name: string;
  readonly destination: 'webhook';
  readonly format: BodyFormat;
  readonly webhook: WebhookConfig;
  readonly filters: ExportFilters;
  readonly retry: RetryConfig;
  readonly delivery: DeliveryTuning;
}

interface ObservabilityConfig {
  readonly exports: readonly ExportConfig[];
}

export type {
  BodyFormat,
  DeliveryTuning,
  ExportConfig,
  HttpMethod,
  ObservabilityConfig,
  RetryConfig,
  WebhookConfig,
};
export { BODY_FORMATS, DEFAULTS, HTTP_METHODS };
