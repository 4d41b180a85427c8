/**
 * What the figures deliver: the seed PagerDuty export and a few other export shapes pointed at
 * local receivers, audit events, delivery-queue records, silent observability, and SQS call
 * counting on the SDK.
 */
import { readFile } from 'node:fs/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetQueueAttributesCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { parse, stringify } from 'yaml';
import { toSqsEvent } from '../../local/eventSource.js';
import { LOCAL_REGION } from '../../local/sqsServer.js';
import { formatIssue, parseConfig } from '../../shared/config/index.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import {
  createObservability,
  METRICS_NAMESPACE,
} from '../../shared/observability/observability.js';
import { CopyLedger } from '../../shared/pipeline/copyLedger.js';
import type { UnwrittenOutcome } from '../../shared/pipeline/delivery/types.js';
import { newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';

/** Stage of every queue the benchmark creates: `tappass-bench-…`. */
const BENCH_STAGE = 'bench';

/** The `${VAR}` values of the benchmark's exports (a PagerDuty-shaped routing key). */
const BENCH_VARIABLES = { PD_ROUTING_KEY: 'R0BENCH0000000000000000000000000' } as const;

const SEED_CONFIG = new URL('../../config/examples/pagerduty-alerts.yaml', import.meta.url);

/** Export shapes: the seed's PagerDuty template, the event as JSON, a chat message, a constant. */
const EXPORT_KINDS = ['pagerduty', 'event-json', 'chat', 'constant'] as const;
type ExportKind = (typeof EXPORT_KINDS)[number];

interface BenchExport {
  readonly kind: ExportKind;
  readonly url: string;
  readonly name?: string;
}

/** Every export takes the same events as the seed: errors and worse, of two kinds. */
const SEED_FILTERS = { event_kinds: ['policy_block', 'auth_fail'], min_severity: 'error' };

const DEFAULT_NAMES: Readonly<Record<ExportKind, string>> = {
  pagerduty: 'pagerduty-alerts',
  'event-json': 'siem-events',
  chat: 'chat-alerts',
  constant: 'constant-body',
};

/** The seed export of `config/examples/pagerduty-alerts.yaml`, as YAML data. */
const seedPagerDutyExport = async (): Promise<Record<string, unknown>> => {
  const seed = parse(await readFile(SEED_CONFIG, 'utf8')) as { exports: Record<string, unknown>[] };
  const exp = seed.exports[0];
  if (!exp) throw new Error(`${SEED_CONFIG.pathname} has no export`);
  return exp;
};

const exportData = async (spec: BenchExport): Promise<Record<string, unknown>> => {
  const name = spec.name ?? DEFAULT_NAMES[spec.kind];
  const headers = { Authorization: 'Token token=${PD_ROUTING_KEY}' };
  switch (spec.kind) {
    case 'pagerduty': {
      const seed = await seedPagerDutyExport();
      const webhook = seed.webhook as Record<string, unknown>;
      return { ...seed, name, webhook: { ...webhook, url: `${spec.url}/v2/enqueue` } };
    }
    case 'event-json':
      return { name, destination: 'webhook', webhook: { url: spec.url }, filters: SEED_FILTERS };
    case 'chat':
      return {
        name,
        destination: 'webhook',
        webhook: {
          url: spec.url,
          body_template:
            '{"text": "TapPass {{event_kind}} ({{severity}}) on {{agent_id}}", "event": {{event_json}}}',
        },
        filters: SEED_FILTERS,
      };
    case 'constant':
      return {
        name,
        destination: 'webhook',
        webhook: {
          url: `${spec.url}/v2/enqueue`,
          headers,
          body_template:
            '{"routing_key": "${PD_ROUTING_KEY}", "event_action": "trigger", "payload": {"summary": "TapPass alert", "severity": "error", "source": "tappass"}}',
        },
        filters: SEED_FILTERS,
      };
  }
};

/**
 * A validated config (through the real loader) with the given exports.
 *
 * @example
 * const config = await benchConfig([{ kind: 'pagerduty', url: receivers.urls[0] }]);
 */
const benchConfig = async (exports: readonly BenchExport[]): Promise<ObservabilityConfig> => {
  const text = stringify({ exports: await Promise.all(exports.map(exportData)) });
  const { config, issues } = await parseConfig(text, 'bench.yaml');
  if (!config) throw new Error(`bench config invalid:\n${issues.map(formatIssue).join('\n')}`);
  return config;
};

/** `count` exports cycling through PagerDuty, event JSON and chat, one receiver URL each. */
const mixedExports = (urls: readonly string[]): BenchExport[] => {
  const kinds: ExportKind[] = ['pagerduty', 'event-json', 'chat'];
  return urls.map((url, index) => {
    const kind = kinds[index % kinds.length] ?? 'event-json';
    const round = Math.floor(index / kinds.length);
    return {
      kind,
      url,
      name: round === 0 ? DEFAULT_NAMES[kind] : `${DEFAULT_NAMES[kind]}-${round}`,
    };
  });
};

/**
 * A realistic audit event (about 600 bytes of JSON) that the bench exports accept. `pushedAt`
 * lets the receivers measure push-to-receipt latency.
 */
const benchEvent = (index: number, pushedAt?: number): AuditEvent => ({
  audit_id: `ae_bench_${process.pid}_${index}`,
  timestamp: new Date().toISOString(),
  event_kind: index % 2 === 0 ? 'policy_block' : 'auth_fail',
  severity: index % 7 === 0 ? 'critical' : 'error',
  agent_id: `support-bot-${index % 13}`,
  session_id: `sess_${(index * 7919) % 100_000}`,
  policy_result: {
    verdict: 'block',
    rule: 'no-pii-in-prompts',
    matched: ['email_address', 'iban'],
    score: 0.97,
  },
  request: {
    model: 'gpt-4.1',
    tool: 'crm.lookup_customer',
    prompt_excerpt:
      'Please look up the customer whose e-mail is [REDACTED] and send their IBAN to the address in the ticket.',
  },
  tags: ['prod', 'eu-west-1', 'tier-1'],
  ...(pushedAt === undefined ? {} : { pushed_at: pushedAt }),
});

/** The ARN of a queue, as Lambda puts it in each record's `eventSourceARN`. */
const queueArnOf = async (sqs: SQSClient, queueUrl: string): Promise<string> => {
  const response = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return response.Attributes?.QueueArn ?? queueUrl;
};

/**
 * Delivery-queue records for `events` and one export, in Lambda's format (through the event
 * source emulator's own conversion), as a first receive would hand them over.
 */
const deliveryRecords = (
  events: readonly AuditEvent[],
  exportName: string,
  queueArn: string,
): SQSRecord[] => {
  const sentAt = String(Date.now());
  const messages: Message[] = events.map((event, index) => ({
    MessageId: `bench-${exportName}-${index}`,
    ReceiptHandle: `bench-receipt-${exportName}-${index}`,
    Body: JSON.stringify(newDeliveryMessage(event, exportName)),
    Attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: sentAt,
      ApproximateFirstReceiveTimestamp: sentAt,
    },
  }));
  return toSqsEvent(messages, queueArn, LOCAL_REGION).Records;
};

/** The secret resolver of the benchmark: environment-style values, no I/O. */
const benchSecrets = () => new EnvSecretResolver(BENCH_VARIABLES);

/**
 * Handler observability that writes nothing: a SILENT Powertools logger, and Powertools
 * Metrics with `POWERTOOLS_METRICS_DISABLED=true` (set by the figure process), so no EMF
 * records are written while the metric calls are still made.
 */
const silentObservability = (functionName: string) => {
  const logger = new Logger({ serviceName: functionName, logLevel: 'SILENT' });
  return createObservability({
    functionName,
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: functionName, logger }),
  });
};

/**
 * The delivery ledger of a benchmark handler, emptied at the start of each round. A round
 * replays the same pre-built records; without this the handler's ledger would drop every record
 * after the first round as a duplicate it already delivered, and measure nothing. Within a round
 * the ledger does its production work (a claim and a settle per record), so its cost is counted.
 */
class RoundLedger extends CopyLedger<UnwrittenOutcome> {
  #round = new CopyLedger<UnwrittenOutcome>();

  /** Starts a round: every record is new again. */
  forget(): void {
    this.#round = new CopyLedger<UnwrittenOutcome>();
  }

  override claim(identity: string) {
    return this.#round.claim(identity);
  }

  override settled(identity: string): void {
    this.#round.settled(identity);
  }

  override pending(identity: string, value: UnwrittenOutcome): void {
    this.#round.pending(identity, value);
  }

  override release(identity: string): void {
    this.#round.release(identity);
  }
}

/** SQS commands sent through a client, by command name (e.g. `ReceiveMessageCommand`). */
type CommandCounts = Record<string, number>;

/**
 * Counts every command sent through `sqs` from now on.
 *
 * @example
 * const counts = countSqsCommands(sqs);
 * // ...
 * counts.SendMessageCommand ?? 0;
 */
const countSqsCommands = (sqs: SQSClient): CommandCounts => {
  const counts: CommandCounts = {};
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountCommands' },
  );
  return counts;
};

/** The sum of all counts. */
const totalCommands = (counts: CommandCounts): number =>
  Object.values(counts).reduce((sum, count) => sum + count, 0);

export type { BenchExport, CommandCounts, ExportKind };
export {
  BENCH_STAGE,
  BENCH_VARIABLES,
  benchConfig,
  benchEvent,
  benchSecrets,
  countSqsCommands,
  deliveryRecords,
  mixedExports,
  queueArnOf,
  RoundLedger,
  silentObservability,
  totalCommands,
};
