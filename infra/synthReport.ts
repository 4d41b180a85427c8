/**
 * What `cdk synth` / `cdk deploy` says before it builds a stage: the config file and the exports
 * it deploys (a stage deployed without its `-c config` deploys the shipped example: this line
 * shows it), then every warning: the config's, in the words of `npm run validate`, and the
 * stack's own (event-source concurrency). Under `-c strict=true` a warning is an error.
 * Pure: app.ts prints the lines and decides the exit code.
 */

import type { ConfigIssue } from '../shared/config/errors.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { configWarningLines } from '../shared/config/warnings.js';
import type { StageTopology } from '../shared/sqs/topology.js';

/**
 * Concurrent invocations the stage's event sources may run (the sum of their
 * `MaximumConcurrency`) above which synth warns. Lambda's default account concurrency is
 * 1,000, shared by every function of the account and region, and ingest (no maximum) needs its
 * share; half of it leaves room for both
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 */
const CONCURRENCY_WARNING_THRESHOLD = 500;

/** Lambda's default concurrency quota of an account in a region. */
const DEFAULT_ACCOUNT_CONCURRENCY = 1000;

/**
 * The sum of the `MaximumConcurrency` of the stage's event sources: every export's delivery
 * source and every DLQ source. The ingest source has none and comes on top.
 */
const eventSourceConcurrency = (topology: StageTopology): number =>
  topology.eventSources.reduce((sum, source) => sum + (source.maxConcurrency ?? 0), 0);

/** The concurrency warning of a stage, when it passes {@link CONCURRENCY_WARNING_THRESHOLD}. */
const concurrencyWarnings = (topology: StageTopology): string[] => {
  const total = eventSourceConcurrency(topology);
  if (total <= CONCURRENCY_WARNING_THRESHOLD) return [];
  return [
    `WARNING: the event sources of stage ${topology.stage} may run ${total} invocations at once (the sum of every export's delivery.max_concurrency plus the dead-letter sources), more than ${CONCURRENCY_WARNING_THRESHOLD}; the account's Lambda concurrency (${DEFAULT_ACCOUNT_CONCURRENCY} by default) is shared by every function of the region, so lower max_concurrency or raise the quota (docs/deploying.md, "Concurrency")`,
  ];
};

/** The stage, file and config a synth deploys. */
interface SynthInput {
  readonly stage: string;
  readonly configPath: string;
  readonly config: ObservabilityConfig;
  /** The loader's warnings (`loadConfigFile`'s `onWarning`). */
  readonly warnings: readonly ConfigIssue[];
  readonly topology: StageTopology;
}

/** What synth prints, and the warnings among it. */
interface SynthReport {
  /** `stage <stage>: <file>, N exports: a, b, c`. */
  readonly header: string;
  /** Each a line starting `WARNING: `. */
  readonly warnings: readonly string[];
}

/**
 * The report of a synth.
 *
 * @example
 * synthReport({ stage: 'dev', configPath, config, warnings, topology }).header;
 * // 'stage dev: config/observability.yaml, 2 exports: pagerduty-alerts, slack'
 */
const synthReport = (input: SynthInput): SynthReport => {
  const names = input.config.exports.map((exportConfig) => exportConfig.name);
  return {
    header: `stage ${input.stage}: ${input.configPath}, ${names.length} export${names.length === 1 ? '' : 's'}: ${names.join(', ')}`,
    warnings: [
      ...configWarningLines(input.config, input.warnings),
      ...concurrencyWarnings(input.topology),
    ],
  };
};

export type { SynthInput, SynthReport };
export {
  CONCURRENCY_WARNING_THRESHOLD,
  concurrencyWarnings,
  DEFAULT_ACCOUNT_CONCURRENCY,
  eventSourceConcurrency,
  synthReport,
};
