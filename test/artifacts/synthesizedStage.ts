/**
 * A synthesized stage read back from `cdk.out` as CloudFormation would read it: the functions
 * (their bundled asset folder, handler, runtime, timeout, memory, recursive loop setting and
 * environment), the queues with their attributes and redrive, and the event source mappings
 * with their batching and concurrency. Nothing here comes from the topology or the config: what
 * the artifacts suite runs is what the template says.
 *
 * Values are read strictly: a property this reader does not know how to resolve (an intrinsic
 * other than `Ref` to a pseudo parameter, `Fn::Join` or `Fn::GetAtt` of a queue) throws, so a
 * template that changes shape fails the suite instead of being run half-understood.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One `AWS::Lambda::Function` of the template. */
interface SynthesizedFunction {
  readonly logicalId: string;
  /** `FunctionName`. */
  readonly name: string;
  /** The bundled asset as CDK wrote it: `<outdir>/asset.<hash>` (`aws:asset:path`). */
  readonly assetDir: string;
  /** `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  /** `Runtime`, e.g. `nodejs22.x`. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** `RecursiveLoop`: `Terminate` (Lambda's default) or `Allow`. */
  readonly recursiveLoop: 'Allow' | 'Terminate';
  /** `Environment.Variables`, intrinsics left as written (see {@link resolveValue}). */
  readonly environment: Readonly<Record<string, unknown>>;
}

/** One `AWS::SQS::Queue` of the template, with SQS's defaults for attributes it leaves out. */
interface SynthesizedQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  readonly delaySeconds: number;
  /** `RedrivePolicy`, its target named by logical id. */
  readonly redrive?: { readonly deadLetterLogicalId: string; readonly maxReceiveCount: number };
}

/** One `AWS::Lambda::EventSourceMapping` of the template, with Lambda's defaults. */
interface SynthesizedEventSource {
  readonly logicalId: string;
  /** The queue it polls (`EventSourceArn`: `Fn::GetAtt [<queue>, Arn]`). */
  readonly queueLogicalId: string;
  /** The function it invokes (`FunctionName`: `Ref <function>`). */
  readonly functionLogicalId: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`; absent: no limit. */
  readonly maxConcurrency?: number;
  /** `FunctionResponseTypes` holds `ReportBatchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
}

/** The parts of one stack's template the artifacts suite runs. */
interface SynthesizedStage {
  readonly outdir: string;
  readonly stackName: string;
  readonly functions: readonly SynthesizedFunction[];
  readonly queues: readonly SynthesizedQueue[];
  readonly eventSources: readonly SynthesizedEventSource[];
}

/** Values of the pseudo parameters (`AWS::Region`, ...) a template may `Ref`. */
type PseudoParameters = Readonly<Record<string, string>>;

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A template value this reader does not understand. */
class UnreadableTemplateError extends Error {
  constructor(where: string, value: unknown) {
    super(`${where}: cannot read ${JSON.stringify(value)} from the synthesized template`);
    this.name = 'UnreadableTemplateError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Resolves an intrinsic-free value or `Ref` (pseudo parameters) and `Fn::Join` of them, the
 * intrinsics the stack puts in a function's environment.
 *
 * @example
 * resolveValue({ 'Fn::Join': ['', ['https://sqs.', { Ref: 'AWS::Region' }, '/']] }, { 'AWS::Region': 'us-east-1' }, 'X');
 * // 'https://sqs.us-east-1/'
 */
const resolveValue = (value: unknown, pseudo: PseudoParameters, where: string): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isRecord(value)) {
    const ref = value.Ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) {
      const resolved = pseudo[ref];
      if (resolved !== undefined) return resolved;
    }
    const join = value['Fn::Join'];
    if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string') {
      const [separator, parts] = join as [string, unknown];
      if (Array.isArray(parts)) {
        return parts.map((part) => resolveValue(part, pseudo, where)).join(separator);
      }
    }
  }
  throw new UnreadableTemplateError(where, value);
};

/** The logical id of `{ 'Fn::GetAtt': [<id>, <attribute>] }`. */
const getAttTarget = (value: unknown, attribute: string, where: string): string => {
  const getAtt = isRecord(value) ? value['Fn::GetAtt'] : undefined;
  if (Array.isArray(getAtt) && getAtt[1] === attribute && typeof getAtt[0] === 'string') {
    return getAtt[0];
  }
  throw new UnreadableTemplateError(where, value);
};

/** The logical id of `{ Ref: <id> }`. */
const refTarget = (value: unknown, where: string): string => {
  const ref = isRecord(value) ? value.Ref : undefined;
  if (typeof ref === 'string') return ref;
  throw new UnreadableTemplateError(where, value);
};

const numberOr = (value: unknown, fallback: number, where: string): number => {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new UnreadableTemplateError(where, value);
};

const numberOf = (value: unknown, where: string): number => {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new UnreadableTemplateError(where, value);
};

const stringOf = (value: unknown, where: string): string => {
  if (typeof value === 'string') return value;
  throw new UnreadableTemplateError(where, value);
};

const readFunction = (
  outdir: string,
  logicalId: string,
  resource: TemplateResource,
): SynthesizedFunction => {
  const props = resource.Properties ?? {};
  const where = (key: string) => `${logicalId}.${key}`;
  const assetPath = resource.Metadata?.['aws:asset:path'];
  const environment = isRecord(props.Environment) ? props.Environment.Variables : undefined;
  const recursiveLoop = props.RecursiveLoop ?? 'Terminate';
  if (recursiveLoop !== 'Allow' && recursiveLoop !== 'Terminate') {
    throw new UnreadableTemplateError(where('RecursiveLoop'), recursiveLoop);
  }
  return {
    logicalId,
    name: stringOf(props.FunctionName, where('FunctionName')),
    assetDir: join(outdir, stringOf(assetPath, `${logicalId} Metadata.aws:asset:path`)),
    handler: stringOf(props.Handler, where('Handler')),
    runtime: stringOf(props.Runtime, where('Runtime')),
    // CloudFormation's defaults for AWS::Lambda::Function.
    timeoutSeconds: numberOr(props.Timeout, 3, where('Timeout')),
    memoryMb: numberOr(props.MemorySize, 128, where('MemorySize')),
    recursiveLoop,
    environment: isRecord(environment) ? environment : {},
  };
};

const readQueue = (logicalId: string, resource: TemplateResource): SynthesizedQueue => {
  const props = resource.Properties ?? {};
  const where = (key: string) => `${logicalId}.${key}`;
  const redrive = props.RedrivePolicy;
  if (redrive !== undefined && !isRecord(redrive)) {
    throw new UnreadableTemplateError(where('RedrivePolicy'), redrive);
  }
  return {
    logicalId,
    name: stringOf(props.QueueName, where('QueueName')),
    // SQS's defaults for the attributes a template leaves out.
    visibilityTimeoutSeconds: numberOr(props.VisibilityTimeout, 30, where('VisibilityTimeout')),
    retentionSeconds: numberOr(props.MessageRetentionPeriod, 345_600, where('MessageRetention')),
    delaySeconds: numberOr(props.DelaySeconds, 0, where('DelaySeconds')),
    ...(redrive === undefined
      ? {}
      : {
          redrive: {
            deadLetterLogicalId: getAttTarget(
              redrive.deadLetterTargetArn,
              'Arn',
              where('RedrivePolicy'),
            ),
            maxReceiveCount: numberOf(redrive.maxReceiveCount, where('RedrivePolicy')),
          },
        }),
  };
};

const readEventSource = (logicalId: string, resource: TemplateResource): SynthesizedEventSource => {
  const props = resource.Properties ?? {};
  const where = (key: string) => `${logicalId}.${key}`;
  const scaling = props.ScalingConfig;
  const maxConcurrency = isRecord(scaling)
    ? numberOf(scaling.MaximumConcurrency, where('ScalingConfig'))
    : undefined;
  const responseTypes = props.FunctionResponseTypes;
  return {
    logicalId,
    queueLogicalId: getAttTarget(props.EventSourceArn, 'Arn', where('EventSourceArn')),
    functionLogicalId: refTarget(props.FunctionName, where('FunctionName')),
    // Lambda's defaults for an SQS event source mapping.
    batchSize: numberOr(props.BatchSize, 10, where('BatchSize')),
    maxBatchingWindowSeconds: numberOr(
      props.MaximumBatchingWindowInSeconds,
      0,
      where('MaximumBatchingWindowInSeconds'),
    ),
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    reportBatchItemFailures:
      Array.isArray(responseTypes) && responseTypes.includes('ReportBatchItemFailures'),
  };
};

/**
 * Reads `<outdir>/<stackName>.template.json`. A split stage (nested stacks) is not read: its
 * export queues and mappings live in other templates.
 *
 * @example
 * const stage = readSynthesizedStage(outdir, 'TapPassWebhooks-artifacts');
 * stage.functions.map((fn) => fn.assetDir); // three asset.<hash> folders
 */
const readSynthesizedStage = (outdir: string, stackName: string): SynthesizedStage => {
  const template = JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8')) as {
    Resources?: Record<string, TemplateResource>;
  };
  const functions: SynthesizedFunction[] = [];
  const queues: SynthesizedQueue[] = [];
  const eventSources: SynthesizedEventSource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type === 'AWS::CloudFormation::Stack') {
      throw new UnreadableTemplateError(logicalId, 'a nested stack (split stage)');
    }
    if (resource.Type === 'AWS::Lambda::Function') {
      functions.push(readFunction(outdir, logicalId, resource));
    } else if (resource.Type === 'AWS::SQS::Queue') {
      queues.push(readQueue(logicalId, resource));
    } else if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      eventSources.push(readEventSource(logicalId, resource));
    }
  }
  return { outdir, stackName, functions, queues, eventSources };
};

export type {
  PseudoParameters,
  SynthesizedEventSource,
  SynthesizedFunction,
  SynthesizedQueue,
  SynthesizedStage,
};
export { readSynthesizedStage, resolveValue, UnreadableTemplateError };
