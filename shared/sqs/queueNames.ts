/**
 * Queue names, derived from the stage and the export names. The CDK stack, the Lambda runtime,
 * the local stack and the CLI all use this one module, so a name can never drift between the
 * queue that exists and the queue a handler sends to.
 */
import type { ObservabilityConfig } from '../config/types.js';

/** Prefix of every resource name; the stage follows it. */
const APP_PREFIX = 'tappass';

/**
 * Stage names end up in queue, function and parameter names: keep them short and plain. No
 * "-": the first "-" after `tappass-<stage>` ends the stage, so no two stages share a resource
 * name (stage `a` + export `ingest` vs stage `a-deliver`; docs/deploying.md, "Names").
 */
const STAGE_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

/**
 * The suffix an export name may not end with: `deliver-<x>-dlq` is export `x`'s DLQ, so an
 * export `x-dlq` would get the same name for its delivery queue.
 */
const RESERVED_EXPORT_SUFFIX = '-dlq';

/**
 * Why an export name would share a resource name with another export of any stage, or
 * `undefined` when it cannot (the reserved-suffix rule; see {@link RESERVED_EXPORT_SUFFIX}).
 *
 * @example
 * exportNameClash('foo-dlq'); // 'export name "foo-dlq" ends in "-dlq": ...'
 */
const exportNameClash = (exportName: string): string | undefined =>
  exportName.toLowerCase().endsWith(RESERVED_EXPORT_SUFFIX)
    ? `export name "${exportName}" ends in "${RESERVED_EXPORT_SUFFIX}": its delivery queue would be named like the dead-letter queue of export "${exportName.slice(0, -RESERVED_EXPORT_SUFFIX.length)}" (tappass-<stage>-deliver-${exportName}); choose a name that does not end in "${RESERVED_EXPORT_SUFFIX}"`
    : undefined;

/** Queue kinds of the pipeline (see README "Pipeline"). */
const QUEUE_KINDS = {
  ingest: 'ingest',
  ingestDlq: 'ingest-dlq',
  deadLetters: 'dead-letters',
} as const;

/** Thrown when a stage name cannot be used in resource names. */
class StageNameError extends Error {
  constructor(stage: string) {
    super(
      `stage "${stage}" cannot be used in resource names: use 1-16 lower-case letters and digits, starting with a letter, no "-" (e.g. dev, prod, eustaging): a "-" would let two stages share queue and alarm names`,
    );
    this.name = 'StageNameError';
  }
}

/** Throws StageNameError unless the stage can be part of every resource name. */
const assertStageName = (stage: string): string => {
  if (!STAGE_PATTERN.test(stage)) throw new StageNameError(stage);
  return stage;
};

/** The names of every queue of one stage, as functions of the export name where per export. */
interface QueueNames {
  readonly ingest: string;
  readonly ingestDlq: string;
  readonly deadLetters: string;
  delivery(exportName: string): string;
  deliveryDlq(exportName: string): string;
}

/**
 * Queue names for a stage. Export names are validated by the config loader to fit (SQS allows
 * 80 characters of `[A-Za-z0-9_-]`; a 16-character stage and a 40-character export name fit).
 *
 * @example
 * queueNames('dev').delivery('pagerduty-alerts'); // 'tappass-dev-deliver-pagerduty-alerts'
 */
const queueNames = (stage: string): QueueNames => {
  const base = `${APP_PREFIX}-${assertStageName(stage)}`;
  return {
    ingest: `${base}-${QUEUE_KINDS.ingest}`,
    ingestDlq: `${base}-${QUEUE_KINDS.ingestDlq}`,
    deadLetters: `${base}-${QUEUE_KINDS.deadLetters}`,
    delivery: (exportName) => `${base}-deliver-${exportName}`,
    deliveryDlq: (exportName) => `${base}-deliver-${exportName}-dlq`,
  };
};

/**
 * Name patterns (IAM's `*`) matching every delivery queue, and every delivery DLQ, of a stage:
 * what the functions' policies name when the exports' queues live in nested stacks
 * (`stageLayout.ts`), so that no policy lists 400 queue ARNs across templates.
 */
const queueNamePatterns = (stage: string): { delivery: string; deliveryDlq: string } => {
  const names = queueNames(stage);
  return { delivery: names.delivery('*'), deliveryDlq: names.deliveryDlq('*') };
};

/** The pipeline's functions. */
const FUNCTION_ROLES = ['ingest', 'delivery', 'dlq'] as const;
type FunctionRole = (typeof FUNCTION_ROLES)[number];

/**
 * The name of a stage's function, e.g. `tappass-prod-delivery`: the stack names its functions
 * this way so that the CLI can invoke them (`test-export --stage`).
 */
const functionName = (stage: string, role: FunctionRole): string =>
  `${APP_PREFIX}-${assertStageName(stage)}-${role}`;

/** Queue URLs of one stage: the names resolved against an SQS endpoint. */
interface QueueDirectory {
  readonly ingest: string;
  readonly ingestDlq: string;
  readonly deadLetters: string;
  delivery(exportName: string): string;
  deliveryDlq(exportName: string): string;
}

/**
 * Queue URLs from a URL base such as `https://sqs.eu-west-1.amazonaws.com/123456789012/`
 * (on AWS, built by the stack from region and account) or a local server's equivalent.
 */
const queueDirectory = (urlBase: string, stage: string): QueueDirectory => {
  const names = queueNames(stage);
  const base = urlBase.endsWith('/') ? urlBase : `${urlBase}/`;
  return {
    ingest: base + names.ingest,
    ingestDlq: base + names.ingestDlq,
    deadLetters: base + names.deadLetters,
    delivery: (exportName) => base + names.delivery(exportName),
    deliveryDlq: (exportName) => base + names.deliveryDlq(exportName),
  };
};

/** Maps a queue ARN (or URL) to the export whose delivery queue or DLQ it is. */
const exportLocator = (
  config: ObservabilityConfig,
  stage: string,
): ((queueArn: string) => string | undefined) => {
  const names = queueNames(stage);
  const byQueueName = new Map<string, string>();
  for (const { name } of config.exports) {
    byQueueName.set(names.delivery(name), name);
    byQueueName.set(names.deliveryDlq(name), name);
  }
  return (queueArn) => byQueueName.get(queueArn.split(/[:/]/).at(-1) ?? '');
};

export type { FunctionRole, QueueDirectory, QueueNames };
export {
  APP_PREFIX,
  assertStageName,
  exportLocator,
  exportNameClash,
  FUNCTION_ROLES,
  functionName,
  QUEUE_KINDS,
  queueDirectory,
  queueNamePatterns,
  queueNames,
  RESERVED_EXPORT_SUFFIX,
  StageNameError,
};
