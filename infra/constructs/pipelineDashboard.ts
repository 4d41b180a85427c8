/**
 * The dashboard of one stage, so operators look rather than query: alarm states at the top,
 * then the ingest queue, then one row per export (outcomes, latency, queue depth, oldest age).
 */
import { Aws, CfnMapping, Duration, Stack } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import { METRIC_NAMES } from '../../shared/observability/observability.js';
import { APP_PREFIX, queueNames } from '../../shared/sqs/queueNames.js';
import {
  exportMetric,
  ingestMetric,
  MONITORING_PERIOD,
  stuckDeliveryAgeSeconds,
} from '../monitoring.js';
import type { PipelineAlarms } from './pipelineAlarms.js';
import type { PipelineQueues } from './pipelineQueues.js';

/** Props of {@link PipelineDashboard}. */
interface PipelineDashboardProps {
  readonly stage: string;
  readonly config: ObservabilityConfig;
  readonly queues: PipelineQueues;
  readonly alarms: PipelineAlarms;
  /**
   * The part of a split stage this dashboard shows (`shared/sqs/stageLayout.ts`): `stage` is
   * the header, the stage's own alarms and the ingest row, without export rows; `group` is the
   * rows and alarms of one export group, named `tappass-<stage>-exports-<group>`.
   * @default the whole stage on one dashboard
   */
  readonly part?:
    | { readonly kind: 'stage'; readonly groupDashboards: readonly string[] }
    | { readonly kind: 'group'; readonly group: number; readonly exportNames: readonly string[] };
}

const WIDTH = 6;
/** An alarm status widget lists 1 to 100 alarms (CloudWatch's dashboard body structure). */
const ALARMS_PER_WIDGET = 100;
const HEIGHT = 6;
const period = MONITORING_PERIOD;

const sum = { statistic: 'Sum', period } as const;
const max = { statistic: 'Maximum', period } as const;

/**
 * The console domain of each partition: the stack is environment-agnostic, so the partition is
 * known at deploy time only (`AWS::Partition`) and a mapping picks the domain then.
 * https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-endpoints.html and
 * https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html
 */
const CONSOLE_DOMAINS = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
} as const;

const consoleDomain = (scope: Construct): string => {
  const stack = Stack.of(scope);
  const id = 'ConsoleDomains';
  const mapping =
    (stack.node.tryFindChild(id) as CfnMapping | undefined) ??
    new CfnMapping(stack, id, {
      mapping: Object.fromEntries(
        Object.entries(CONSOLE_DOMAINS).map(([partition, domain]) => [partition, { domain }]),
      ),
    });
  return mapping.findInMap(Aws.PARTITION, 'domain');
};

/** The console address of a dashboard, for the stack's outputs, in the stack's partition. */
const dashboardUrl = (scope: Construct, dashboardName: string): string =>
  `https://${consoleDomain(scope)}/cloudwatch/home?region=${Stack.of(scope).region}#dashboards/dashboard/${dashboardName}`;

/**
 * The dashboard of a stage, named `tappass-<stage>`.
 *
 * @example
 * new PipelineDashboard(this, 'Dashboard', { stage, config, queues, alarms });
 */
class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const names = queueNames(props.stage);
    const part = props.part;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName:
        part?.kind === 'group'
          ? groupDashboardName(props.stage, part.group)
          : `${APP_PREFIX}-${props.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const exportNames =
      part?.kind === 'group'
        ? part.exportNames
        : part?.kind === 'stage'
          ? []
          : props.config.exports.map((exportConfig) => exportConfig.name);
    const alarms =
      part === undefined
        ? props.alarms.alarms
        : part.kind === 'stage'
          ? props.alarms.stageAlarms
          : props.alarms.exportAlarms(part.exportNames);
    this.dashboard.addWidgets(...headerRow(props, names.deadLetters, alarms));
    if (part?.kind !== 'group') this.dashboard.addWidgets(...ingestRow(props));
    for (const name of exportNames) this.dashboard.addWidgets(...exportRow(props, name));
  }
}

/** The dashboard of export group `group` of a split stage. */
const groupDashboardName = (stage: string, group: number): string =>
  `${APP_PREFIX}-${stage}-exports-${group}`;

const headerText = (props: PipelineDashboardProps, archiveName: string): string[] => {
  const part = props.part;
  if (part?.kind === 'group') {
    return [
      `# TapPass webhooks: stage \`${props.stage}\`, export group ${part.group}`,
      `${part.exportNames.length} of the stage's ${props.config.exports.length} exports; the ingest queue and the stage's alarms are on \`${APP_PREFIX}-${props.stage}\`.`,
      'Counts are per 5 minutes; latency is the webhook round trip of each attempt.',
    ];
  }
  return [
    `# TapPass webhooks: stage \`${props.stage}\``,
    `${props.config.exports.length} export(s). Producers send to \`${queueNames(props.stage).ingest}\`.`,
    `Dead letters are kept 14 days in \`${archiveName}\` (CLI: \`dlq list\`); invalid events in \`${queueNames(props.stage).ingestDlq}\`.`,
    ...(part?.kind === 'stage'
      ? [
          `The exports' rows and alarms are on ${part.groupDashboards.map((name) => `\`${name}\``).join(', ')}.`,
        ]
      : []),
    'Counts are per 5 minutes; latency is the webhook round trip of each attempt.',
  ];
};

const headerRow = (
  props: PipelineDashboardProps,
  archiveName: string,
  alarms: readonly Alarm[],
): IWidget[] => {
  const chunks: Alarm[][] = [];
  for (let start = 0; start < alarms.length; start += ALARMS_PER_WIDGET) {
    chunks.push(alarms.slice(start, start + ALARMS_PER_WIDGET));
  }
  return [
    new TextWidget({
      markdown: headerText(props, archiveName).join('\n\n'),
      width: 8,
      height: HEIGHT,
    }),
    ...chunks.map(
      (chunk, index) =>
        new AlarmStatusWidget({
          title: chunks.length === 1 ? 'Alarms' : `Alarms (${index + 1} of ${chunks.length})`,
          alarms: chunk,
          width: 16,
          height: HEIGHT,
        }),
    ),
  ];
};

const ingestRow = ({ queues, stage }: PipelineDashboardProps): IWidget[] => [
  new GraphWidget({
    title: 'Ingest queue throughput',
    left: [
      queues.ingest.metricNumberOfMessagesSent({ ...sum, label: 'records sent by producers' }),
      queues.ingest.metricNumberOfMessagesDeleted({ ...sum, label: 'records processed' }),
    ],
    width: WIDTH,
    height: HEIGHT,
  }),
  new GraphWidget({
    title: 'Events ingested and invalid events parked',
    left: [
      ingestMetric(stage, METRIC_NAMES.eventsIngested, 'events ingested'),
      ingestMetric(stage, METRIC_NAMES.eventsParked, 'invalid events parked'),
    ],
    width: WIDTH,
    height: HEIGHT,
  }),
  new GraphWidget({
    title: 'Ingest queue depth and parked events',
    left: [
      queues.ingest.metricApproximateNumberOfMessagesVisible({ ...max, label: 'waiting' }),
      queues.ingest.metricApproximateNumberOfMessagesNotVisible({ ...max, label: 'in flight' }),
      queues.ingestDeadLetters.metricApproximateNumberOfMessagesVisible({
        ...max,
        label: 'parked (ingest DLQ)',
      }),
    ],
    width: WIDTH,
    height: HEIGHT,
  }),
  new GraphWidget({
    title: 'Oldest message age (seconds)',
    left: [
      queues.ingest.metricApproximateAgeOfOldestMessage({ ...max, label: 'ingest queue' }),
      queues.archive.metricApproximateAgeOfOldestMessage({ ...max, label: 'dead-letter archive' }),
    ],
    width: WIDTH,
    height: HEIGHT,
  }),
];

const exportRow = (props: PipelineDashboardProps, name: string): IWidget[] => {
  const exportQueues = props.queues.byExport.get(name);
  const exportConfig = props.config.exports.find((candidate) => candidate.name === name);
  if (!exportQueues || !exportConfig) return [];
  const stuck: HorizontalAnnotation = {
    value: stuckDeliveryAgeSeconds(exportConfig),
    label: 'delivery-stuck alarm',
  };
  return [
    new GraphWidget({
      title: `${name}: delivered, retried, dead-lettered`,
      left: [
        exportMetric(props.stage, name, METRIC_NAMES.delivered, 'Sum', 'delivered'),
        exportMetric(props.stage, name, METRIC_NAMES.retried, 'Sum', 'retried'),
        exportMetric(props.stage, name, METRIC_NAMES.deadLettered, 'Sum', 'dead-lettered'),
      ],
      width: WIDTH,
      height: HEIGHT,
    }),
    new GraphWidget({
      title: `${name}: delivery latency (ms)`,
      left: [
        exportMetric(props.stage, name, METRIC_NAMES.latency, 'p50', 'p50'),
        exportMetric(props.stage, name, METRIC_NAMES.latency, 'p99', 'p99'),
      ],
      width: WIDTH,
      height: HEIGHT,
    }),
    new GraphWidget({
      title: `${name}: queue depth`,
      left: [
        exportQueues.delivery.metricApproximateNumberOfMessagesVisible({
          ...max,
          label: 'waiting',
        }),
        exportQueues.delivery.metricApproximateNumberOfMessagesNotVisible({
          ...max,
          label: 'in flight or backing off',
        }),
        exportQueues.deadLetters.metricApproximateNumberOfMessagesVisible({
          ...max,
          label: 'dead letters not yet archived',
        }),
      ],
      width: WIDTH,
      height: HEIGHT,
    }),
    new GraphWidget({
      title: `${name}: oldest message age (seconds)`,
      left: [
        exportQueues.delivery.metricApproximateAgeOfOldestMessage({
          ...max,
          label: 'delivery queue',
        }),
      ],
      leftAnnotations: [stuck],
      width: WIDTH,
      height: HEIGHT,
    }),
  ];
};

export type { PipelineDashboardProps };
export { ALARMS_PER_WIDGET, CONSOLE_DOMAINS, dashboardUrl, groupDashboardName, PipelineDashboard };
