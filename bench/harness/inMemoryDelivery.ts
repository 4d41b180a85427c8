/**
 * The delivery step on in-memory I/O, for measuring its CPU alone: the seed PagerDuty export, an
 * HTTP client that answers 202 at once, an SQS client whose `send` does nothing (no command is
 * expected at steady state), and pre-built batches of 10 records. Figure 7 wraps it two ways;
 * `npm run bench:profile` profiles the handler on it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { exportsByName } from '../../shared/config/exportsByName.js';
import type { DeliveryDeps } from '../../shared/pipeline/delivery/types.js';
import { exportLocator, queueDirectory } from '../../shared/sqs/queueNames.js';
import { deliveryFunctionTimeoutSeconds } from '../../shared/sqs/queueSettings.js';
import type { HttpClient } from '../../shared/transport/http.js';
import { chunk } from '../format.js';
import {
  BENCH_STAGE,
  benchConfig,
  benchEvent,
  benchSecrets,
  deliveryRecords,
  RoundLedger,
} from './fixtures.js';

const EXPORT = 'pagerduty-alerts';

/** Answers every request with 202 at once. */
const instantHttp: HttpClient = {
  send: async () => ({ status: 202, latencyMs: 0, bodySnippet: '', bodyTruncated: false }),
  close: async () => undefined,
};

/** Accepts every SQS command and does nothing. */
const nullSqs = { send: async () => ({}) } as unknown as SQSClient;

/** What a measurement of the delivery step on in-memory I/O needs. */
interface InMemoryDelivery {
  /** The handler's dependencies but its notice sink; the ledger is `ledger`. */
  readonly deps: Omit<DeliveryDeps, 'notify'>;
  /** Emptied when the same records are to count as new deliveries again (`forget()`). */
  readonly ledger: RoundLedger;
  /** `events / 10` batches of 10 records of the export's delivery queue. */
  readonly batches: readonly SQSRecord[][];
  /** The delivery function's timeout for this config, for the invocation contexts. */
  readonly timeoutMs: number;
}

/**
 * The delivery step on in-memory I/O, with `events` distinct records.
 *
 * @example
 * const { deps, batches } = await inMemoryDelivery(1_000);
 */
const inMemoryDelivery = async (events: number): Promise<InMemoryDelivery> => {
  const config = await benchConfig([{ kind: 'pagerduty', url: 'http://127.0.0.1:9' }]);
  const ledger = new RoundLedger();
  const arn = `arn:aws:sqs:us-east-1:000000000000:tappass-${BENCH_STAGE}-deliver-${EXPORT}`;
  const records = deliveryRecords(
    Array.from({ length: events }, (_, index) => benchEvent(index)),
    EXPORT,
    arn,
  );
  return {
    deps: {
      ledger,
      sqs: nullSqs,
      queues: queueDirectory('http://127.0.0.1:9/000000000000/', BENCH_STAGE),
      exports: exportsByName(config),
      http: instantHttp,
      secrets: benchSecrets(),
      exportOfQueueArn: exportLocator(config, BENCH_STAGE),
    },
    ledger,
    batches: chunk(records, 10),
    timeoutMs: deliveryFunctionTimeoutSeconds(config) * 1000,
  };
};

export type { InMemoryDelivery };
export { inMemoryDelivery };
