/**
 * The delivery handler under test, set up as on Lambda but fed pre-built batches: the real
 * `createDeliveryHandler` with its queues on the embedded SQS server (so a retry or a dead
 * letter would be real SQS calls), and the bare loop it is compared with.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../local/lambdaContext.js';
import { createPipelineQueues } from '../../local/pipeline.js';
import { localSqsClient } from '../../local/sqsServer.js';
import { exportsByName } from '../../shared/config/exportsByName.js';
import type { ExportConfig, ObservabilityConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { createDeliveryHandler } from '../../shared/handlers/delivery.js';
import type { Observability } from '../../shared/observability/observability.js';
import { prepareRequest } from '../../shared/request/prepareRequest.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { exportLocator } from '../../shared/sqs/queueNames.js';
import { deliveryFunctionTimeoutSeconds } from '../../shared/sqs/queueSettings.js';
import type { HttpClient, OutgoingRequest } from '../../shared/transport/http.js';
import { chunk } from '../format.js';
import {
  BENCH_STAGE,
  BENCH_VARIABLES,
  benchSecrets,
  type CommandCounts,
  countSqsCommands,
  deliveryRecords,
  queueArnOf,
  RoundLedger,
  silentObservability,
} from './fixtures.js';

/** Records a Lambda batch holds, and the concurrency of the bare loop. */
const BATCH_SIZE = 10;

type DeliveryHandler = ReturnType<typeof createDeliveryHandler>;

interface DeliveryRig {
  readonly config: ObservabilityConfig;
  readonly queues: QueueDirectory;
  readonly sqs: SQSClient;
  /** SQS commands the handler has sent. */
  readonly sqsCommands: CommandCounts;
  readonly handler: DeliveryHandler;
  exportConfig(name: string): ExportConfig;
  /** Batches of 10 delivery records of `events` for one export. */
  batches(exportName: string, events: readonly AuditEvent[]): Promise<SQSRecord[][]>;
  /** Invokes the handler once per batch, one after the other; returns the failed records. */
  run(batches: readonly SQSRecord[][]): Promise<number>;
}

/**
 * Creates the stage's queues on `endpoint` and the delivery handler with `http`.
 *
 * @example
 * const rig = await deliveryRig({ endpoint, config, http: createHttpClient() });
 * const failed = await rig.run(await rig.batches('pagerduty-alerts', events));
 */
const deliveryRig = async (options: {
  readonly endpoint: string;
  readonly config: ObservabilityConfig;
  readonly http: HttpClient;
  /** @default {@link silentObservability} */
  readonly observability?: Observability;
}): Promise<DeliveryRig> => {
  const { config, http } = options;
  // Set-up calls (queues, ARNs) go through their own client: only the handler's are counted.
  const setup = localSqsClient(options.endpoint);
  const queues = await createPipelineQueues(setup, config, BENCH_STAGE);
  const sqs = localSqsClient(options.endpoint);
  const sqsCommands = countSqsCommands(sqs);
  const exports = exportsByName(config);
  const ledger = new RoundLedger();
  const handler = createDeliveryHandler({
    sqs,
    queues,
    exports,
    http,
    secrets: benchSecrets(),
    exportOfQueueArn: exportLocator(config, BENCH_STAGE),
    observability: options.observability ?? silentObservability('delivery'),
    ledger,
  });
  const timeoutMs = deliveryFunctionTimeoutSeconds(config) * 1000;
  const rig: DeliveryRig = {
    config,
    queues,
    sqs,
    sqsCommands,
    handler,
    exportConfig: (name) => {
      const found = exports.get(name);
      if (!found) throw new Error(`no export ${name}`);
      return found;
    },
    batches: async (exportName, events) => {
      const arn = await queueArnOf(setup, queues.delivery(exportName));
      return chunk(deliveryRecords(events, exportName, arn), BATCH_SIZE);
    },
    run: async (batches) => {
      // Each run replays the same records: new deliveries to the ledger, as fresh events are.
      ledger.forget();
      let failed = 0;
      for (const batch of batches) {
        const context = lambdaContext({ functionName: 'delivery', timeoutMs });
        const response = await handler({ Records: batch }, context);
        failed += response.batchItemFailures.length;
      }
      return failed;
    },
  };
  return rig;
};

/**
 * The exact requests the handler sends for `events` (rendered once, outside any timing), for
 * the bare loop to send.
 */
const preparedRequests = (
  exportConfig: ExportConfig,
  events: readonly AuditEvent[],
): Promise<OutgoingRequest[]> =>
  Promise.all(events.map((event) => prepareRequest(exportConfig, event, BENCH_VARIABLES)));

/**
 * The baseline: `concurrency` workers sending prepared requests with the same client, each
 * starting its next request as soon as the last one is answered. Returns the non-2xx count.
 */
const bareLoop = async (
  http: HttpClient,
  requests: readonly OutgoingRequest[],
  concurrency = BATCH_SIZE,
): Promise<number> => {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      if (!request) break;
      const result = await http.send(request);
      if (result.errorClass !== undefined) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
};

export type { DeliveryHandler, DeliveryRig };
export { BATCH_SIZE, bareLoop, deliveryRig, preparedRequests };
