/**
 * What a stage deploys, counted on the CDK stack itself rather than by hand: the stack is
 * synthesized (bundling skipped) for one and for two exports, and the difference is what each
 * export adds. A third synth (three exports) checks that the template is linear in exports.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { stackNameFor, TapPassWebhooksStack } from '../../infra/stack.js';
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import { COUNT_KEYS, countsFor, type Inventory, type StackCounts } from './model.js';

const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

const STAGE = 'scale';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The literal text of a template value (`Fn::Join` flattened, references dropped). */
const literalText = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(literalText).join('');
  if (value !== null && typeof value === 'object') {
    const join = (value as Record<string, unknown>)['Fn::Join'];
    if (Array.isArray(join)) return literalText(join[1]);
  }
  return '';
};

const configYaml = (exports: number): string =>
  [
    'exports:',
    ...Array.from({ length: exports }, (_, index) =>
      [
        `  - name: export-${index + 1}`,
        '    destination: webhook',
        `    webhook: { url: "https://hooks.example.com/${index + 1}" }`,
      ].join('\n'),
    ),
  ].join('\n');

/** What the counts of one template are, plus the per-export `paused` alarm (it stays per export when queues are shared). */
interface TemplateCounts extends StackCounts {
  readonly pausedAlarms: number;
}

const countTemplate = async (exports: number): Promise<TemplateCounts> => {
  const { config, issues } = await parseConfig(configYaml(exports), 'scale.yaml');
  if (!config) throw new Error(issues.map(formatIssue).join('\n'));
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new TapPassWebhooksStack(app, stackNameFor(STAGE), { stage: STAGE, config });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, Resource>;
  };
  const resources = Object.values(template.Resources);
  const ofType = (type: string) => resources.filter((resource) => resource.Type === type);
  const alarms = ofType('AWS::CloudWatch::Alarm');
  // A metric alarm names one metric; a math alarm lists its metrics, each billed.
  const alarmMetrics = alarms
    .map((alarm) => {
      const metrics = alarm.Properties?.Metrics;
      return Array.isArray(metrics)
        ? metrics.filter((metric) => (metric as Record<string, unknown>).MetricStat).length
        : 1;
    })
    .reduce((sum, n) => sum + n, 0);
  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  const dashboardWidgets = dashboards
    .map((dashboard) => {
      const body = JSON.parse(literalText(dashboard.Properties?.DashboardBody)) as {
        widgets?: unknown[];
      };
      return body.widgets?.length ?? 0;
    })
    .reduce((sum, n) => sum + n, 0);
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const withMax = mappings.filter(
    (mapping) =>
      (mapping.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)
        ?.MaximumConcurrency !== undefined,
  ).length;
  return {
    resources: resources.length,
    alarms: alarms.length,
    alarmMetrics,
    dashboards: dashboards.length,
    dashboardWidgets,
    mappingsWithMaxConcurrency: withMax,
    mappingsWithoutMaxConcurrency: mappings.length - withMax,
    pausedAlarms: alarms.filter((alarm) => String(alarm.Properties?.AlarmName).endsWith('-paused'))
      .length,
  };
};

/** The inventory, and the one alarm per export that sharing queues would not remove. */
interface StackInventory {
  readonly inventory: Inventory;
  /** Resources, alarms and alarm metrics of each export's `paused` alarm. */
  readonly perExportAlarm: { resources: number; alarms: number; alarmMetrics: number };
  /** The three-export template, as counted (the linearity check). */
  readonly threeExports: StackCounts;
}

/**
 * Synthesizes the stack three times and derives the per-stage and per-export counts.
 *
 * @throws Error when the template is not linear in exports (the model would be wrong).
 */
const stackInventory = async (): Promise<StackInventory> => {
  const one = await countTemplate(1);
  const two = await countTemplate(2);
  const three = await countTemplate(3);
  const pick = (counts: TemplateCounts): StackCounts =>
    Object.fromEntries(COUNT_KEYS.map((key) => [key, counts[key]])) as unknown as StackCounts;
  const perExport = Object.fromEntries(
    COUNT_KEYS.map((key) => [key, two[key] - one[key]]),
  ) as unknown as StackCounts;
  const perStage = Object.fromEntries(
    COUNT_KEYS.map((key) => [key, one[key] - perExport[key]]),
  ) as unknown as StackCounts;
  const inventory = { perStage, perExport };
  const predicted = countsFor(inventory, 3);
  const off = COUNT_KEYS.filter((key) => predicted[key] !== three[key]);
  if (off.length > 0) {
    throw new Error(`the template is not linear in exports for: ${off.join(', ')}`);
  }
  const paused = two.pausedAlarms - one.pausedAlarms;
  return {
    inventory,
    perExportAlarm: { resources: paused, alarms: paused, alarmMetrics: paused },
    threeExports: pick(three),
  };
};

export type { StackInventory };
export { stackInventory };
