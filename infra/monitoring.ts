/**
 * What the alarms and the dashboard watch, as data and small functions, so thresholds are
 * documented (and tested) in one place.
 */
import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ExportConfig } from '../shared/config/types.js';
import {
  type METRIC_NAMES,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../shared/observability/observability.js';
import { backoffDelaySeconds } from '../shared/transport/retry.js';

/** Period of every alarm and graph. */
const MONITORING_PERIOD = Duration.minutes(5);

/** Grace on top of an export's whole retry schedule before a waiting message counts as stuck. */
const STUCK_GRACE_SECONDS = 15 * 60;

/** An ingest record older than this means the ingest function is not keeping up or failing. */
const INGEST_STUCK_SECONDS = 15 * 60;

/**
 * Dead letters older than this are about to expire (SQS drops them at 14 days): review,
 * redrive or export them.
 */
const ARCHIVE_EXPIRY_WARNING_SECONDS = 10 * 24 * 60 * 60;

/**
 * Age at which the oldest message of an export's delivery queue means delivery is stuck:
 * every backoff of the schedule and every attempt's timeout, plus 15 minutes. A receiver
 * that keeps answering `Retry-After` with hours will trip it too, which is worth knowing.
 *
 * @example
 * stuckDeliveryAgeSeconds(exp); // 5 attempts, [1,2,4,8,16], 10 s timeout → 15 + 50 + 900 = 965
 */
const stuckDeliveryAgeSeconds = (exportConfig: ExportConfig): number => {
  const { max_attempts: maxAttempts } = exportConfig.retry;
  let backoff = 0;
  for (let attemptsMade = 1; attemptsMade < maxAttempts; attemptsMade++) {
    backoff += backoffDelaySeconds(attemptsMade, exportConfig.retry);
  }
  return backoff + maxAttempts * exportConfig.webhook.timeout_seconds + STUCK_GRACE_SECONDS;
};

/**
 * Dimensions of the functions' per-export EMF metrics. Powertools adds `service` and the
 * functions' default `stage` to every metric, and CloudWatch matches the whole dimension set,
 * so all must be named here.
 */
const exportMetricDimensions = (stage: string, exportName: string): Record<string, string> => ({
  service: SERVICE_NAME,
  stage,
  export: exportName,
});

/** One of the functions' per-export metrics (see shared/observability/observability.ts). */
const exportMetric = (
  stage: string,
  exportName: string,
  metricName: (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES],
  statistic: string,
  label: string,
): Metric =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: exportMetricDimensions(stage, exportName),
    statistic,
    period: MONITORING_PERIOD,
    label,
  });

/** One of the ingest function's metrics, which carry no export dimension. */
const ingestMetric = (
  stage: string,
  metricName: (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES],
  label: string,
): Metric =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, stage },
    statistic: 'Sum',
    period: MONITORING_PERIOD,
    label,
  });

export {
  ARCHIVE_EXPIRY_WARNING_SECONDS,
  exportMetric,
  exportMetricDimensions,
  INGEST_STUCK_SECONDS,
  ingestMetric,
  MONITORING_PERIOD,
  STUCK_GRACE_SECONDS,
  stuckDeliveryAgeSeconds,
};
