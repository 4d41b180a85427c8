/**
 * A synthesized stage run on this machine as Lambda and SQS would run it: the queues created
 * from the template's `AWS::SQS::Queue` resources on the embedded SQS server, each function's
 * bundled asset in its own Node.js processes (test/artifacts/lambdaSandboxes.ts) with the
 * environment the template gives it, and every `AWS::Lambda::EventSourceMapping` played by the
 * event-source emulator (local/eventSource.ts) with the template's batch size, batching window,
 * concurrency, timeout and recursive loop setting.
 *
 * A sandbox's environment, and what differs from AWS (docs/contributing.md, "The deployed
 * artifacts"):
 * - every `Environment.Variables` entry of the template, intrinsics resolved with the pseudo
 *   parameters of the embedded server (its region and account), then two rewrites: the SQS
 *   endpoint (`https://sqs.<region>.amazonaws.com/`) becomes the embedded server's, and
 *   `/var/task/` (the code folder on Lambda) becomes the asset folder. Any other value is
 *   passed as written;
 * - what Lambda itself sets (region, function name, memory, `AWS_EXECUTION_ENV`,
 *   `LAMBDA_TASK_ROOT` as the asset folder, `TZ`);
 * - the local overrides: `AWS_ENDPOINT_URL_SQS` and `AWS_ENDPOINT_URL_SSM` (the SDK's own
 *   endpoint settings), dummy credentials instead of the execution role's, and no AWS
 *   profile files (a sandbox has none).
 * Nothing of the test process's environment is inherited.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EventSourceMapping, type InvocationOutcome } from '../../local/eventSource.js';
import {
  type EmbeddedSqsServer,
  LOCAL_CREDENTIALS,
  localSqsClient,
  startEmbeddedSqs,
} from '../../local/sqsServer.js';
import { cleanupStack } from '../helpers/pipeline.js';
import { LambdaSandboxes } from './lambdaSandboxes.js';
import {
  type PseudoParameters,
  resolveValue,
  type SynthesizedEventSource,
  type SynthesizedFunction,
  type SynthesizedQueue,
  type SynthesizedStage,
} from './synthesizedStage.js';

/** Options of {@link startDeployedStage}. */
interface DeployedStageOptions {
  readonly stage: SynthesizedStage;
  /** `AWS_ENDPOINT_URL_SSM` of the functions: a fake SSM (test/helpers/fakeSsm.ts). */
  readonly ssmEndpoint: string;
  /**
   * Long-poll wait of each event source's receives. Not a template setting: Lambda's pollers
   * wait 20 s; a short wait keeps {@link DeployedStage.stop} quick. @default 1
   */
  readonly pollWaitSeconds?: number;
  /** Called after each invocation of any function. */
  readonly onInvocation?: (outcome: InvocationOutcome) => void;
}

/** One function as it runs here. */
interface DeployedFunction {
  readonly template: SynthesizedFunction;
  /** The whole environment of its sandboxes. */
  readonly environment: Readonly<Record<string, string>>;
  /** Template variables whose value was rewritten for this machine (endpoint or path). */
  readonly rewritten: readonly string[];
  readonly sandboxes: LambdaSandboxes;
}

/** One event source mapping as it runs here. */
interface DeployedEventSource {
  readonly template: SynthesizedEventSource;
  readonly queueName: string;
  readonly functionName: string;
  readonly mapping: EventSourceMapping;
}

/** A running stage. */
interface DeployedStage {
  readonly server: EmbeddedSqsServer;
  /** A client on the embedded server, for the test's own sends and reads. */
  readonly sqs: SQSClient;
  /** URL of every queue of the template, by queue name. */
  readonly queueUrls: ReadonlyMap<string, string>;
  /** By `FunctionName`. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  readonly eventSources: readonly DeployedEventSource[];
  /** Stops polling (in-flight invocations finish), then every sandbox and the server. */
  stop(): Promise<void>;
}

/** The SQS endpoint a template's queue URLs name, for a region and URL suffix. */
const awsSqsOrigin = (pseudo: PseudoParameters): string =>
  `https://sqs.${pseudo['AWS::Region']}.${pseudo['AWS::URLSuffix']}/`;

/** Where a function's code lives on Lambda. */
const LAMBDA_TASK_ROOT = '/var/task';

/**
 * A template variable as it runs here: resolved, then its SQS endpoint or code folder
 * rewritten. Returns the value and whether it was rewritten.
 */
const localValue = (
  raw: unknown,
  where: string,
  pseudo: PseudoParameters,
  rewrites: readonly (readonly [from: string, to: string])[],
): { value: string; rewritten: boolean } => {
  const resolved = resolveValue(raw, pseudo, where);
  for (const [from, to] of rewrites) {
    if (resolved.startsWith(from))
      return { value: to + resolved.slice(from.length), rewritten: true };
  }
  return { value: resolved, rewritten: false };
};

/** The environment of a function's sandboxes (see the file header). */
const functionEnvironment = (
  fn: SynthesizedFunction,
  pseudo: PseudoParameters,
  endpoints: { readonly sqs: string; readonly ssm: string },
): { environment: Record<string, string>; rewritten: string[] } => {
  const region = pseudo['AWS::Region'] ?? '';
  const rewrites = [
    [awsSqsOrigin(pseudo), `${endpoints.sqs}/`],
    [`${LAMBDA_TASK_ROOT}/`, `${fn.assetDir}/`],
  ] as const;
  const fromTemplate: Record<string, string> = {};
  const rewritten: string[] = [];
  for (const [name, raw] of Object.entries(fn.environment)) {
    const local = localValue(raw, `${fn.logicalId} environment ${name}`, pseudo, rewrites);
    fromTemplate[name] = local.value;
    if (local.rewritten) rewritten.push(name);
  }
  const environment = {
    // What Lambda sets in every sandbox of the function.
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.assetDir,
    TZ: ':UTC',
    // The local overrides: endpoints and credentials, and no profile from this machine.
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SSM: endpoints.ssm,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: `${fn.assetDir}/.no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${fn.assetDir}/.no-aws-credentials`,
    // Last, so that a template variable is never hidden by the lines above.
    ...fromTemplate,
  };
  return { environment, rewritten };
};

/**
 * Creates the template's queues, each redrive target before the queues that redrive into it,
 * and returns their URLs and ARNs by logical id.
 */
const createQueues = async (sqs: SQSClient, queues: readonly SynthesizedQueue[]) => {
  const urls = new Map<string, string>();
  const arns = new Map<string, string>();
  const pending = [...queues];
  while (pending.length > 0) {
    const ready = pending.findIndex(
      (queue) => queue.redrive === undefined || arns.has(queue.redrive.deadLetterLogicalId),
    );
    const [queue] = ready < 0 ? [] : pending.splice(ready, 1);
    if (!queue) {
      throw new Error(
        `redrive targets missing or circular: ${pending.map((q) => q.logicalId).join(', ')}`,
      );
    }
    const redriveTarget = queue.redrive && arns.get(queue.redrive.deadLetterLogicalId);
    const { QueueUrl: url } = await sqs.send(
      new CreateQueueCommand({
        QueueName: queue.name,
        Attributes: {
          VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
          MessageRetentionPeriod: String(queue.retentionSeconds),
          DelaySeconds: String(queue.delaySeconds),
          ...(queue.redrive && redriveTarget
            ? {
                RedrivePolicy: JSON.stringify({
                  deadLetterTargetArn: redriveTarget,
                  maxReceiveCount: queue.redrive.maxReceiveCount,
                }),
              }
            : {}),
        },
      }),
    );
    if (!url) throw new Error(`the SQS server returned no URL for ${queue.name}`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    urls.set(queue.logicalId, url);
    arns.set(queue.logicalId, Attributes?.QueueArn ?? '');
  }
  return { urls, arns };
};

/** The region and account of the embedded server, from one of its queue ARNs. */
const pseudoParametersOf = (queueArn: string): PseudoParameters => {
  const [, partition, , region, account] = queueArn.split(':');
  if (!partition || !region || !account) throw new Error(`not a queue ARN: ${queueArn}`);
  return {
    'AWS::Partition': partition,
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com',
  };
};

const lookup = <T>(map: ReadonlyMap<string, T>, key: string, what: string): T => {
  const value = map.get(key);
  if (value === undefined) throw new Error(`the template has no ${what} ${key}`);
  return value;
};

/**
 * Starts a synthesized stage: embedded SQS server, queues, sandboxes (started on first
 * invocation) and event sources. If a part fails to start, stops the others and throws.
 *
 * @example
 * const deployed = await startDeployedStage({ stage: readSynthesizedStage(outdir, name), ssmEndpoint: ssm.url });
 * await deployed.stop();
 */
const startDeployedStage = async (options: DeployedStageOptions): Promise<DeployedStage> => {
  const { stage } = options;
  const cleanup = cleanupStack();
  try {
    const server = cleanup.add(await startEmbeddedSqs(), (started) => started.stop());
    const sqs = cleanup.add(localSqsClient(server.endpoint), (client) => client.destroy());
    const created = await createQueues(sqs, stage.queues);
    const [firstArn] = created.arns.values();
    const pseudo = pseudoParametersOf(firstArn ?? '');

    const functions = new Map<string, DeployedFunction>();
    const byLogicalId = new Map<string, DeployedFunction>();
    for (const fn of stage.functions) {
      const { environment, rewritten } = functionEnvironment(fn, pseudo, {
        sqs: server.endpoint,
        ssm: options.ssmEndpoint,
      });
      const sandboxes = cleanup.add(
        new LambdaSandboxes({
          functionName: fn.name,
          assetDir: fn.assetDir,
          handler: fn.handler,
          environment,
          timeoutMs: fn.timeoutSeconds * 1000,
          memoryMb: fn.memoryMb,
        }),
        (started) => started.close(),
      );
      const deployed = { template: fn, environment, rewritten, sandboxes };
      functions.set(fn.name, deployed);
      byLogicalId.set(fn.logicalId, deployed);
    }

    const queueNames = new Map(stage.queues.map((queue) => [queue.logicalId, queue.name]));
    const eventSources = stage.eventSources.map((source): DeployedEventSource => {
      const fn = lookup(byLogicalId, source.functionLogicalId, 'function');
      if (!source.reportBatchItemFailures) {
        // The emulator plays partial batch responses only; without them Lambda would ignore
        // the handlers' batchItemFailures and retry whole batches.
        throw new Error(`${source.logicalId} does not report batch item failures`);
      }
      const mapping = new EventSourceMapping({
        sqs,
        queueUrl: lookup(created.urls, source.queueLogicalId, 'queue'),
        handler: fn.sandboxes.handler,
        functionName: fn.template.name,
        batchSize: source.batchSize,
        maxBatchingWindowMs: source.maxBatchingWindowSeconds * 1000,
        ...(source.maxConcurrency === undefined ? {} : { maxConcurrency: source.maxConcurrency }),
        functionTimeoutMs: fn.template.timeoutSeconds * 1000,
        recursiveLoop: fn.template.recursiveLoop,
        waitTimeSeconds: options.pollWaitSeconds ?? 1,
        region: pseudo['AWS::Region'] ?? '',
        ...(options.onInvocation ? { onInvocation: options.onInvocation } : {}),
      });
      // Stopped before the sandboxes (cleanup runs in reverse): in-flight invocations finish.
      cleanup.add(mapping, (started) => started.stop());
      return {
        template: source,
        queueName: lookup(queueNames, source.queueLogicalId, 'queue'),
        functionName: fn.template.name,
        mapping,
      };
    });
    for (const { mapping } of eventSources) mapping.start();

    const queueUrls = new Map(
      stage.queues.map((queue) => [queue.name, lookup(created.urls, queue.logicalId, 'queue')]),
    );
    return { server, sqs, queueUrls, functions, eventSources, stop: () => cleanup.run() };
  } catch (error) {
    await cleanup.run().catch(() => undefined);
    throw error;
  }
};

export type { DeployedEventSource, DeployedFunction, DeployedStage, DeployedStageOptions };
export { startDeployedStage };
