/**
 * What the pipeline's notices become on Lambda: structured JSON logs (Powertools Logger) with
 * `audit_id` and `export` as keys, and EMF metrics (Powertools Metrics) per export, buffered
 * during an invocation and written once at its end. The local
 * stack and tests pass their own sinks instead; the core never logs by itself.
 */
import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttemptFields, NoticeSink, PipelineNotice } from './notices.js';

const SERVICE_NAME = 'tappass-webhooks';
/** CloudWatch namespace of every metric; the dashboard and alarms read it. */
const METRICS_NAMESPACE = 'TapPassWebhooks';

/** Metric names, shared with the CDK dashboard and alarms. */
const METRIC_NAMES = {
  delivered: 'Delivered',
  retried: 'Retried',
  deadLettered: 'DeadLettered',
  latency: 'DeliveryLatency',
  eventsIngested: 'EventsIngested',
  eventsParked: 'EventsParked',
  deferred: 'Deferred',
  dlqEventsRaised: 'DlqEventsRaised',
  alertsNotRaised: 'AlertsNotRaised',
  exportsPaused: 'ExportPaused',
  batchRequests: 'BatchRequests',
} as const;

interface Observability {
  readonly logger: Logger;
  /** Feeds the logs and the metrics: counts without an export dimension (ingest) and per export. */
  readonly notify: NoticeSink;
  /**
   * Writes every buffered metric as EMF, and forgets the log level read during the invocation;
   * the handlers call it at the end of each.
   */
  flushMetrics(): void;
}

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * Buffers per-export metrics in one Metrics instance per export (the export is a default
 * dimension), so an invocation writes one EMF record per export instead of one per value.
 * Counts are summed here and handed to Powertools once per metric at the flush: each
 * `addMetric` reads the environment to find its store, which showed in the delivery profile
 * (docs/performance.md, "Where a delivery's time goes"); CloudWatch's Sum is the same.
 */
/** Values of one metric kept before they go to Powertools (its EMF limit per metric). */
const VALUES_PER_METRIC = 100;

class ExportMetrics {
  readonly #byExport = new Map<string, Metrics>();
  readonly #counts = new Map<string, Map<string, number>>();
  readonly #values = new Map<string, Map<string, { unit: Unit; values: number[] }>>();

  constructor(readonly create: (exportName: string) => Metrics) {}

  /** A count, summed until the flush. */
  count(exportName: string, name: string, value: number): void {
    let counts = this.#counts.get(exportName);
    if (!counts) {
      counts = new Map();
      this.#counts.set(exportName, counts);
    }
    counts.set(name, (counts.get(name) ?? 0) + value);
  }

  /** A value of its own (a latency), kept until the flush. */
  add(exportName: string, name: string, unit: Unit, value: number): void {
    let values = this.#values.get(exportName);
    if (!values) {
      values = new Map();
      this.#values.set(exportName, values);
    }
    const metric = values.get(name);
    if (!metric) {
      values.set(name, { unit, values: [value] });
      return;
    }
    metric.values.push(value);
    // Powertools' own limit of values per metric: a caller that never flushes stays bounded.
    if (metric.values.length >= VALUES_PER_METRIC) {
      const metrics = this.#metricsOf(exportName);
      for (const kept of metric.values) metrics.addMetric(name, unit, kept);
      metric.values.length = 0;
    }
  }

  #metricsOf(exportName: string): Metrics {
    let metrics = this.#byExport.get(exportName);
    if (!metrics) {
      metrics = this.create(exportName);
      this.#byExport.set(exportName, metrics);
    }
    return metrics;
  }

  /**
   * Hands the invocation's counts and values to Powertools and writes one EMF record per export
   * that had any. Only those: a container that delivered for 200 exports over its life asks
   * Powertools about the one or two of this invocation, not about all 200 (each question reads
   * the environment).
   */
  flush(): void {
    for (const [exportName, counts] of this.#counts) {
      const metrics = this.#metricsOf(exportName);
      for (const [name, sum] of counts) metrics.addMetric(name, MetricUnit.Count, sum);
    }
    for (const [exportName, values] of this.#values) {
      const metrics = this.#metricsOf(exportName);
      for (const [name, metric] of values) {
        for (const value of metric.values) metrics.addMetric(name, metric.unit, value);
      }
    }
    const publish = (exportName: string) => {
      const metrics = this.#metricsOf(exportName);
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    };
    for (const exportName of this.#counts.keys()) publish(exportName);
    for (const exportName of this.#values.keys()) {
      if (!this.#counts.has(exportName)) publish(exportName);
    }
    this.#counts.clear();
    this.#values.clear();
  }
}

/** The log fields every attempt notice has, single or batched. */
const attemptFields = (notice: AttemptFields) => ({
  export: notice.export,
  attempt: notice.attempt,
  max_attempts: notice.maxAttempts,
  status: notice.status,
  error_class: notice.errorClass,
  latency_ms: notice.latencyMs,
  outcome: notice.outcome,
});

/**
 * Whether a DEBUG line would be written, asked once per invocation. Asked before building a
 * line: Powertools reads the trace id from the environment on every call, even for a line its
 * level drops, and reading the level reads the environment too (`AWS_LAMBDA_MAX_CONCURRENCY`),
 * a few microseconds a delivery together (npm run bench, figure 1). The level changes only
 * between invocations (sampling, `POWERTOOLS_LOGGER_SAMPLE_RATE`, is drawn as one starts), so
 * the answer is forgotten when the handler flushes at the end of each.
 */
class DebugLevel {
  #writes: boolean | undefined;
  /**
   * With `AWS_LAMBDA_MAX_CONCURRENCY` set, Powertools keeps a level per invocation and several
   * run at once: then the level is read each time, not kept.
   */
  readonly #perInvocation = (process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? '') !== '';

  constructor(private readonly logger: Logger) {}

  get writes(): boolean {
    if (this.#perInvocation) return this.logger.level <= LogLevelThreshold.DEBUG;
    this.#writes ??= this.logger.level <= LogLevelThreshold.DEBUG;
    return this.#writes;
  }

  forget(): void {
    this.#writes = undefined;
  }
}

const logNotice = (logger: Logger, debug: DebugLevel, notice: PipelineNotice): void => {
  switch (notice.type) {
    case 'fanned_out':
      if (debug.writes) logger.debug('fanned out', { ...notice });
      return;
    case 'event_parked':
      logger.warn('invalid event parked in the ingest dead-letter queue', {
        message_id: notice.sourceMessageId,
        audit_id: notice.auditId,
        reason: notice.reason,
        detail: notice.detail,
      });
      return;
    case 'attempt':
      // A delivered event is the common case, and the Delivered metric counts it: at DEBUG, so a
      // stage delivering 10,000 events a second does not pay CloudWatch Logs for a line each
      // (about 12 GB an hour). Attempts that failed stay at INFO, next to their retry or dead
      // letter.
      if (notice.outcome !== 'success') {
        logger.info('delivery attempt', { audit_id: notice.auditId, ...attemptFields(notice) });
      } else if (debug.writes) {
        logger.debug('delivery attempt', { audit_id: notice.auditId, ...attemptFields(notice) });
      }
      return;
    case 'retry_scheduled':
      logger.info('retry scheduled', {
        export: notice.export,
        audit_id: notice.auditId,
        next_attempt: notice.nextAttempt,
        delay_seconds: notice.delaySeconds,
      });
      return;
    case 'dead_lettered':
      logger.error('delivery dead-lettered', {
        export: notice.export,
        audit_id: notice.auditId,
        reason: notice.reason,
        detail: notice.detail,
        attempts: notice.attempts,
      });
      return;
    case 'deferred':
      logger.warn('delivery deferred without spending an attempt', {
        export: notice.export,
        audit_id: notice.auditId,
        why: notice.why,
        visible_again_in_seconds: notice.visibleAgainInSeconds,
      });
      return;
    case 'dlq_event_raised':
      logger.info('webhook.dlq event raised', {
        export: notice.export,
        audit_id: notice.auditId,
        dlq_audit_id: notice.dlqAuditId,
      });
      return;
    case 'export_paused':
      logger.error('export paused by its breaker; deliveries wait on the queue', {
        export: notice.export,
        reason: notice.reason,
        failure_rate: notice.failureRate,
        attempts: notice.attempts,
        failures: notice.failures,
        paused_until: notice.pausedUntil,
        raised_audit_id: notice.raisedAuditId,
      });
      return;
    case 'export_resumed':
      logger.info('export resumed: a probe delivery succeeded', {
        export: notice.export,
        paused_for_seconds: notice.pausedForSeconds,
      });
      return;
    case 'batch_attempt':
      logger.info('batch delivery attempt', {
        events: notice.events,
        bytes: notice.bytes,
        ...attemptFields(notice),
      });
      return;
    case 'duplicate_dropped':
      logger.warn('duplicate copy dropped: this step was already settled', {
        export: notice.export,
        audit_id: notice.auditId,
        attempts: notice.attempts,
      });
      return;
    case 'alert_not_raised':
      logger.error(
        'webhook.dlq alert given up: the dead letter is archived with alert not_raised',
        {
          export: notice.export,
          audit_id: notice.auditId,
          delivery_id: notice.deliveryId,
          why: notice.why,
        },
      );
      return;
    case 'dead_letter_archived':
      logger.info('dead letter archived', {
        export: notice.export,
        audit_id: notice.auditId,
        raised_dlq_event: notice.raised,
      });
      return;
  }
};

/** Notices that count one per export under a metric of their own. */
const COUNTED_PER_EXPORT = {
  retry_scheduled: METRIC_NAMES.retried,
  dead_lettered: METRIC_NAMES.deadLettered,
  deferred: METRIC_NAMES.deferred,
  dlq_event_raised: METRIC_NAMES.dlqEventsRaised,
} as const;

/** A count without an export dimension, handed to Powertools at once. */
type FunctionCount = (name: string, value: number) => void;

const countNotice = (
  count: FunctionCount,
  perExport: ExportMetrics,
  notice: PipelineNotice,
): void => {
  switch (notice.type) {
    case 'fanned_out':
      count(METRIC_NAMES.eventsIngested, notice.events);
      return;
    case 'event_parked':
      count(METRIC_NAMES.eventsParked, 1);
      return;
    case 'attempt':
      perExport.add(notice.export, METRIC_NAMES.latency, MetricUnit.Milliseconds, notice.latencyMs);
      if (notice.outcome === 'success') {
        perExport.count(notice.export, METRIC_NAMES.delivered, 1);
      }
      return;
    case 'retry_scheduled':
    case 'dead_lettered':
    case 'deferred':
    case 'dlq_event_raised':
      perExport.count(notice.export, COUNTED_PER_EXPORT[notice.type], 1);
      return;
    case 'export_paused':
      // Only new pauses: a failed probe continues the same one.
      if (notice.raisedAuditId !== undefined || notice.reason !== 'probe_failed') {
        perExport.count(notice.export, METRIC_NAMES.exportsPaused, 1);
      }
      return;
    case 'batch_attempt':
      perExport.count(notice.export, METRIC_NAMES.batchRequests, 1);
      perExport.add(notice.export, METRIC_NAMES.latency, MetricUnit.Milliseconds, notice.latencyMs);
      if (notice.outcome === 'success') {
        perExport.count(notice.export, METRIC_NAMES.delivered, notice.events);
      }
      return;
    case 'alert_not_raised':
      // Per stage, not per export: one alarm watches it (infra/constructs/pipelineAlarms.ts).
      count(METRIC_NAMES.alertsNotRaised, 1);
      return;
    case 'export_resumed':
    case 'dead_letter_archived':
    case 'duplicate_dropped':
      return;
  }
};

/**
 * Logger, metrics and the notice sink that feeds them, for one function.
 *
 * @example
 * const { logger, notify, flushMetrics } = createObservability({ functionName: 'delivery' });
 */
const createObservability = (options: {
  readonly functionName: string;
  /** A dimension of every metric, so stages sharing an account keep their numbers apart. */
  readonly stage?: string;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}): Observability => {
  const logger = options.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const stage = options.stage ?? process.env.TAPPASS_STAGE ?? 'local';
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: SERVICE_NAME,
      functionName: options.functionName,
      defaultDimensions: { stage },
      logger,
    });
  const perExport = new ExportMetrics(
    (exportName) =>
      new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: SERVICE_NAME,
        defaultDimensions: { stage, export: exportName },
        logger,
      }),
  );
  const debug = new DebugLevel(logger);
  // Whether this invocation counted anything without an export: most delivery invocations do
  // not, and asking Powertools reads the environment.
  let functionCounted = false;
  const countForFunction: FunctionCount = (name, value) => {
    functionCounted = true;
    metrics.addMetric(name, MetricUnit.Count, value);
  };
  const notify: NoticeSink = (notice) => {
    logNotice(logger, debug, notice);
    countNotice(countForFunction, perExport, notice);
  };
  return {
    logger,
    notify,
    flushMetrics: () => {
      debug.forget();
      perExport.flush();
      // An invocation with nothing to count (all deferred, say) writes nothing, not a warning.
      if (functionCounted && metrics.hasStoredMetrics()) {
        metrics.publishStoredMetrics();
      }
      functionCounted = false;
    },
  };
};

export type { Observability };
export { createObservability, METRIC_NAMES, METRICS_NAMESPACE, SERVICE_NAME };
