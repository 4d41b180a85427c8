/**
 * The stack's props and their up-front validation. The config loader already rejects bad
 * configs with file positions; this catches what only the stack knows (stage, alarm email,
 * AWS limits) and configs built in code, with every problem at once.
 */
import type { StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  EXPORT_NAME_PATTERN,
  MAX_BATCH_SIZE,
  MAX_CONCURRENCY,
  MIN_CONCURRENCY,
} from '../shared/config/schema.js';
import type { ObservabilityConfig } from '../shared/config/types.js';
import { assertStageName, exportNameClash, queueNames } from '../shared/sqs/queueNames.js';
import { deliveryFunctionTimeoutSeconds, maxReceiveCountFor } from '../shared/sqs/queueSettings.js';
import { configLayoutProblems } from '../shared/sqs/stageLayout.js';
import { StackPropsError } from './errors.js';

/** Props of `TapPassWebhooksStack`. */
interface TapPassWebhooksStackProps extends StackProps {
  /** Stage name, part of every resource name (`dev`, `prod`, `eustaging`). */
  readonly stage: string;
  /** The loaded config (`loadConfigFile`), every default applied. */
  readonly config: ObservabilityConfig;
  /**
   * Address notified of every alarm through an SNS topic (it must confirm the subscription).
   * @default no topic
   */
  readonly alarmEmail?: string;
  /**
   * Retention of the functions' logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Repository root: holds `lambdas/` and `package-lock.json`.
   * @default the directory above `infra/`
   */
  readonly projectRoot?: string;
  /**
   * What a stack deletion or a replacement does to the queues that can hold dead letters or
   * pending retries: `retain` keeps them (`DeletionPolicy` and `UpdateReplacePolicy` Retain),
   * `destroy` deletes them with their messages (throwaway stages, `-c removal=destroy`).
   * @default 'retain'
   */
  readonly removal?: QueueRemoval;
  /**
   * Active X-Ray tracing on the three functions (`-c tracing=true`).
   * @default false
   */
  readonly tracing?: boolean;
}

/** What happens to the stage's message-holding queues when CloudFormation removes them. */
type QueueRemoval = 'retain' | 'destroy';

/** SQS's longest queue name and largest `maxReceiveCount`. */
const SQS_MAX_QUEUE_NAME = 80;
const SQS_MAX_RECEIVE_COUNT = 1000;
/** Lambda's longest timeout. */
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** Good enough to catch a typo; SNS and the recipient confirm the rest. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const stageProblems = (stage: string): string[] => {
  try {
    assertStageName(stage);
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
};

const exportProblems = (stage: string, config: ObservabilityConfig): string[] => {
  const problems: string[] = [];
  if (config.exports.length === 0) {
    problems.push('the config has no exports; add at least one under "exports:"');
  }
  const seen = new Set<string>();
  for (const exportConfig of config.exports) {
    const { name } = exportConfig;
    if (seen.has(name)) problems.push(`export "${name}" appears twice; export names are unique`);
    seen.add(name);
    const clash = exportNameClash(name);
    if (clash !== undefined) problems.push(clash);
    if (!EXPORT_NAME_PATTERN.test(name)) {
      problems.push(
        `export name "${name}" cannot be part of queue and alarm names; use 1-40 letters, digits, "-" or "_", starting with a letter or digit`,
      );
    } else if (stageProblems(stage).length === 0) {
      const longest = queueNames(stage).deliveryDlq(name);
      if (longest.length > SQS_MAX_QUEUE_NAME) {
        problems.push(
          `queue name "${longest}" is ${longest.length} characters; SQS allows ${SQS_MAX_QUEUE_NAME}: shorten the stage or the export name`,
        );
      }
    }
    const { batch_size: batchSize, max_concurrency: maxConcurrency } = exportConfig.delivery;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      problems.push(
        `export "${name}": delivery.batch_size ${batchSize} is not an integer from 1 to ${MAX_BATCH_SIZE}`,
      );
    }
    if (
      !Number.isInteger(maxConcurrency) ||
      maxConcurrency < MIN_CONCURRENCY ||
      maxConcurrency > MAX_CONCURRENCY
    ) {
      problems.push(
        `export "${name}": delivery.max_concurrency ${maxConcurrency} is not an integer from ${MIN_CONCURRENCY} to ${MAX_CONCURRENCY}`,
      );
    }
    const receives = maxReceiveCountFor(exportConfig);
    if (!Number.isInteger(receives) || receives < 1 || receives > SQS_MAX_RECEIVE_COUNT) {
      problems.push(
        `export "${name}": retry.max_attempts ${exportConfig.retry.max_attempts} gives a maxReceiveCount of ${receives}; SQS accepts 1 to ${SQS_MAX_RECEIVE_COUNT}`,
      );
    }
  }
  problems.push(...configLayoutProblems(config));
  if (config.exports.length > 0) {
    const timeout = deliveryFunctionTimeoutSeconds(config);
    // 6 × 900 s stays under SQS's visibility limit, so Lambda's limit is the one that binds.
    if (timeout > LAMBDA_MAX_TIMEOUT_SECONDS) {
      problems.push(
        `the longest webhook.timeout_seconds needs a delivery function timeout of ${timeout} s; Lambda allows ${LAMBDA_MAX_TIMEOUT_SECONDS} s`,
      );
    }
  }
  return problems;
};

/**
 * Every problem of the props, as sentences; empty when the stack can be built.
 *
 * @example
 * stackPropsProblems({ stage: 'Prod', config }); // ['stage "Prod" cannot be used in resource names: ...']
 */
const stackPropsProblems = (props: TapPassWebhooksStackProps): string[] => [
  ...stageProblems(props.stage),
  ...exportProblems(props.stage, props.config),
  ...(props.alarmEmail === undefined || EMAIL_PATTERN.test(props.alarmEmail)
    ? []
    : [`alarmEmail "${props.alarmEmail}" is not an email address`]),
];

/**
 * The props, unchanged, once they are valid.
 *
 * @throws StackPropsError listing every problem.
 */
const validateStackProps = <T extends TapPassWebhooksStackProps>(props: T): T => {
  const problems = stackPropsProblems(props);
  if (problems.length > 0) throw new StackPropsError(props.stage, problems);
  return props;
};

export type { QueueRemoval, TapPassWebhooksStackProps };
export { stackPropsProblems, validateStackProps };
