/**
 * Factories for infra tests: configs built through the real loader (so every default is
 * applied as at synth), stacks synthesized with the context of cdk.json, and readers for the
 * parts of a template the tests look at (queues, event sources, IAM per role, the settings a
 * stage deploys).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { stackNameFor, TapPassWebhooksStack } from '../../infra/stack.js';
import type { TapPassWebhooksStackProps } from '../../infra/stackProps.js';
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The feature flags and defaults of cdk.json, so test stacks match what `cdk synth` builds. */
const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8'),
).context;

/** A config from YAML text, through the loader; throws with the loader's messages. */
const configFromYaml = async (yaml: string, file = 'test.yaml'): Promise<ObservabilityConfig> => {
  const { config, issues } = await parseConfig(yaml, file);
  if (!config) throw new Error(issues.map(formatIssue).join('\n'));
  return config;
};

/** Options of {@link exportYaml}. */
interface ExportYamlOptions {
  readonly url?: string;
  readonly headers?: Record<string, string>;
  readonly maxAttempts?: number;
  readonly timeoutSeconds?: number;
  readonly batchSize?: number;
  readonly maxConcurrency?: number;
}

/** One export as YAML list item text. */
const exportYaml = (name: string, options: ExportYamlOptions = {}): string => {
  const lines = [
    `  - name: ${name}`,
    '    destination: webhook',
    '    webhook:',
    `      url: "${options.url ?? `https://hooks.example.com/${name}`}"`,
  ];
  if (options.timeoutSeconds !== undefined) {
    lines.push(`      timeout_seconds: ${options.timeoutSeconds}`);
  }
  if (options.headers) {
    lines.push('      headers:');
    for (const [header, value] of Object.entries(options.headers)) {
      lines.push(`        ${header}: "${value}"`);
    }
  }
  if (options.maxAttempts !== undefined) {
    lines.push('    retry:', `      max_attempts: ${options.maxAttempts}`);
  }
  if (options.batchSize !== undefined || options.maxConcurrency !== undefined) {
    lines.push('    delivery:');
    if (options.batchSize !== undefined) lines.push(`      batch_size: ${options.batchSize}`);
    if (options.maxConcurrency !== undefined) {
      lines.push(`      max_concurrency: ${options.maxConcurrency}`);
    }
  }
  return lines.join('\n');
};

/** A config of `count` exports `export-01`…, with varied retry and tuning settings. */
const manyExportsYaml = (count: number): string =>
  [
    'exports:',
    ...Array.from({ length: count }, (_, index) =>
      exportYaml(`export-${String(index + 1).padStart(2, '0')}`, {
        url: `https://hooks.example.com/${index}?token=\${TOKEN_${index % 3}}`,
        maxAttempts: 1 + (index % 8),
        batchSize: 1 + (index % 10),
        maxConcurrency: 2 + index,
      }),
    ),
  ].join('\n');

/** The repository's own configs: config/observability.yaml and every config/examples/*.yaml. */
const repositoryConfigFiles = (): string[] => {
  const examples = join(REPO_ROOT, 'config', 'examples');
  const files = [join(REPO_ROOT, 'config', 'observability.yaml')];
  try {
    for (const name of readdirSync(examples).sort()) {
      if (name.endsWith('.yaml') || name.endsWith('.yml')) files.push(join(examples, name));
    }
  } catch {
    // No examples directory: the main config alone.
  }
  return files;
};

/** Options of {@link synthStack}. */
interface SynthOptions extends Partial<Omit<TapPassWebhooksStackProps, 'config'>> {
  /** Run esbuild for real (slow); by default bundling is skipped. */
  readonly bundle?: boolean;
}

interface SynthResult {
  readonly app: App;
  readonly stack: TapPassWebhooksStack;
  readonly template: Template;
}

/**
 * A stack of `config`, synthesized. Bundling is skipped unless asked for: the
 * `aws:cdk:bundling-stacks` context lists the stacks whose assets are bundled.
 */
const synthStack = (config: ObservabilityConfig, options: SynthOptions = {}): SynthResult => {
  const { bundle = false, stage = 'test', ...props } = options;
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stack = new TapPassWebhooksStack(app, stackNameFor(stage), { ...props, stage, config });
  return { app, stack, template: Template.fromStack(stack) };
};

/** The logical id of a construct's CloudFormation resource. */
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** `{ 'Fn::GetAtt': [queue, 'Arn'] }`, as the template refers to a queue's ARN. */
const queueArnRef = (stack: Stack, queue: Queue) => ({
  'Fn::GetAtt': [logicalId(stack, queue), 'Arn'],
});

type Json = unknown;

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: Json;
  readonly Condition?: Json;
  readonly Sid?: string;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of the inline policies attached to a role. */
const roleStatements = (template: Template, roleLogicalId: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as Json[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);

/**
 * What a role may do: for each allowed action, the resources (as JSON text) it may act on.
 * Independent of how CDK merges statements.
 */
const rolePermissions = (template: Template, roleLogicalId: string): Map<string, Set<string>> => {
  const permissions = new Map<string, Set<string>>();
  for (const statement of roleStatements(template, roleLogicalId)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asArray(statement.Action)) {
      const resources = permissions.get(action) ?? new Set<string>();
      for (const resource of asArray(statement.Resource)) resources.add(JSON.stringify(resource));
      permissions.set(action, resources);
    }
  }
  return permissions;
};

/**
 * A template value as readable text: `Fn::Join` flattened, `Ref` as `<Name>`, `Fn::GetAtt` as
 * `<Id.Attr>` (the way cdk-nag prints them).
 *
 * @example
 * flatten({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs']] }); // 'arn:<AWS::Partition>:sqs'
 */
const flatten = (value: Json): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, Json>;
    const join = record['Fn::Join'] as [string, Json[]] | undefined;
    if (join) return join[1].map(flatten).join(join[0]);
    if (typeof record.Ref === 'string') return `<${record.Ref}>`;
    const getAtt = record['Fn::GetAtt'] as string[] | undefined;
    if (getAtt) return `<${getAtt.join('.')}>`;
  }
  return JSON.stringify(value);
};

/** Resources of one type, by logical id. */
const resourcesOfType = (template: Template, type: string) =>
  template.findResources(type) as Record<string, { Properties: Record<string, Json> }>;

/** The properties of one resource; throws when the template has no such resource. */
const propertiesOf = (template: Template, type: string, id: string): Record<string, Json> => {
  const resource = resourcesOfType(template, type)[id];
  if (!resource) throw new Error(`the template has no ${type} ${id}`);
  return resource.Properties;
};

/** A setting's value: a number, a name, a flag, or {@link NONE} when it is not set at all. */
type SettingValue = number | string | boolean;

/** The settings of one queue or event source mapping, by setting name. */
type Settings = Readonly<Record<string, SettingValue>>;

/** What a stage runs with, in the terms of SQS attributes and event source mapping fields. */
interface StageSettings {
  /** By queue name. */
  readonly queues: ReadonlyMap<string, Settings>;
  /** By the name of the queue the mapping consumes (one mapping per queue). */
  readonly eventSources: ReadonlyMap<string, Settings>;
}

/** The value of a setting that is not set (no redrive, no concurrency limit). */
const NONE = 'none';

/** What SQS and Lambda use for a property the template leaves out. */
const AWS_DEFAULTS = {
  visibilityTimeout: 30,
  messageRetentionPeriod: 345_600,
  delaySeconds: 0,
  maximumBatchingWindowInSeconds: 0,
} as const;

const numberOr = (value: Json, fallback: number): number =>
  value === undefined ? fallback : Number(value);

/** The logical id a `Fn::GetAtt` or `Ref` points at. */
const referencedId = (value: Json): string | undefined => {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, Json>;
  const getAtt = record['Fn::GetAtt'] as string[] | undefined;
  if (getAtt) return getAtt[0];
  return typeof record.Ref === 'string' ? record.Ref : undefined;
};

/**
 * The settings a template deploys: every queue's attributes and every event source mapping's
 * fields, references resolved to queue and function names and AWS's defaults filled in where
 * the template leaves a property out.
 *
 * @example
 * deployedSettings(template).queues.get('tappass-test-ingest')?.VisibilityTimeout; // 180
 */
const deployedSettings = (template: Template): StageSettings => {
  const queueResources = resourcesOfType(template, 'AWS::SQS::Queue');
  const functionResources = resourcesOfType(template, 'AWS::Lambda::Function');
  const queueName = (reference: Json): string =>
    String(
      queueResources[referencedId(reference) ?? '']?.Properties.QueueName ?? flatten(reference),
    );
  const queues = new Map<string, Settings>();
  for (const { Properties: queue } of Object.values(queueResources)) {
    const redrive = queue.RedrivePolicy as
      | { deadLetterTargetArn: Json; maxReceiveCount: number }
      | undefined;
    queues.set(String(queue.QueueName), {
      VisibilityTimeout: numberOr(queue.VisibilityTimeout, AWS_DEFAULTS.visibilityTimeout),
      MessageRetentionPeriod: numberOr(
        queue.MessageRetentionPeriod,
        AWS_DEFAULTS.messageRetentionPeriod,
      ),
      DelaySeconds: numberOr(queue.DelaySeconds, AWS_DEFAULTS.delaySeconds),
      'RedrivePolicy.deadLetterTarget': redrive ? queueName(redrive.deadLetterTargetArn) : NONE,
      'RedrivePolicy.maxReceiveCount': redrive ? Number(redrive.maxReceiveCount) : NONE,
    });
  }
  const eventSources = new Map<string, Settings>();
  for (const { Properties: mapping } of Object.values(
    resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'),
  )) {
    const fn = functionResources[referencedId(mapping.FunctionName) ?? '']?.Properties;
    const scaling = mapping.ScalingConfig as { MaximumConcurrency?: number } | undefined;
    const responseTypes = (mapping.FunctionResponseTypes as string[] | undefined) ?? [];
    eventSources.set(queueName(mapping.EventSourceArn), {
      Function: String(fn?.FunctionName ?? flatten(mapping.FunctionName)),
      FunctionTimeout: numberOr(fn?.Timeout, Number.NaN),
      BatchSize: Number(mapping.BatchSize),
      MaximumBatchingWindowInSeconds: numberOr(
        mapping.MaximumBatchingWindowInSeconds,
        AWS_DEFAULTS.maximumBatchingWindowInSeconds,
      ),
      MaximumConcurrency: scaling?.MaximumConcurrency ?? NONE,
      ReportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    });
  }
  return { queues, eventSources };
};

export type {
  ExportYamlOptions,
  Settings,
  SettingValue,
  StageSettings,
  Statement,
  SynthOptions,
  SynthResult,
};
export {
  AWS_DEFAULTS,
  CDK_JSON_CONTEXT,
  configFromYaml,
  deployedSettings,
  exportYaml,
  flatten,
  logicalId,
  manyExportsYaml,
  NONE,
  propertiesOf,
  queueArnRef,
  REPO_ROOT,
  repositoryConfigFiles,
  resourcesOfType,
  rolePermissions,
  roleStatements,
  synthStack,
};
