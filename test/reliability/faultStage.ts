/**
 * A stage for fault injection: the project's own handler factories (delivery, dead letters)
 * on the embedded SQS server, secrets from a fake SSM endpoint through the real SSM client
 * with the production timeouts, a receiver on 127.0.0.1, and a small event source that plays
 * what Lambda's does (receive, invoke concurrently, delete what the partial batch response
 * does not name). Faults come from `injectFaults` on the functions' SQS client, from the fake
 * SSM, and from the event source's own switches (lost deletes, twin receives).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../local/lambdaContext.js';
import { createPipelineQueues } from '../../local/pipeline.js';
import { localSqsClient } from '../../local/sqsServer.js';
import { awsClientConfig } from '../../shared/awsClientSettings.js';
import { exportsByName } from '../../shared/config/exportsByName.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { createDlqHandler } from '../../shared/handlers/deadLetters.js';
import { createDeliveryHandler } from '../../shared/handlers/delivery.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import {
  createObservability,
  METRICS_NAMESPACE,
} from '../../shared/observability/observability.js';
import {
  type DeadLetter,
  deadLetterSchema,
  newDeliveryMessage,
} from '../../shared/pipeline/messages/index.js';
import { SsmSecretResolver } from '../../shared/secrets/resolvers.js';
import { exportLocator, type QueueDirectory, queueNames } from '../../shared/sqs/queueNames.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { defaultHttpClient } from '../../shared/transport/http.js';
import { type FakeSsm, startFakeSsm } from '../helpers/fakeSsm.js';
import { type FaultInjector, injectFaults } from '../helpers/faults.js';
import { configFromYaml, drainQueue, exportsYaml, queueDepth } from '../helpers/pipeline.js';
import { type Receiver, type ReceiverBehaviour, startReceiver } from '../helpers/receivers.js';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const SSM_PREFIX = '/tappass/faults';
/** The token the export's header reads from SSM; a request without it is a bug. */
const TOKEN = 'tok-faults-3f9a';
/** How long a received record stays hidden: short, so that lost deletes show in seconds. */
const VISIBILITY_SECONDS = 3;

/** Switches of the event source. */
interface EventSourceFaults {
  /** Deletes of settled records that are lost (SQS never applies them). */
  lostDeletes: number;
  /** Receives whose records are also handed to a second, concurrent invocation. */
  twinInvocations: number;
  /** Invocations that start with this little time left (out-of-time). */
  shortInvocations: number;
}

interface FaultStageOptions {
  readonly sqs: SQSClient;
  readonly endpoint: string;
  readonly stage: string;
  readonly maxAttempts: number;
  readonly receiver: (index: number) => ReceiverBehaviour;
  /** The receive on which the dead-letter step gives a failing raise up. @default 100 */
  readonly lastReceive?: number;
  /**
   * Function containers, each with handlers (and ledgers) of its own. An invocation of records
   * received for the first time goes to the first; one of records that came back (a receive
   * count above 1) to the second: the worst case, where a duplicate never meets the container
   * that settled its twin. @default 1
   */
  readonly containers?: number;
}

interface FaultStage {
  readonly config: ObservabilityConfig;
  readonly queues: QueueDirectory;
  readonly receiver: Receiver;
  readonly ssm: FakeSsm;
  /** Faults on the functions' SQS client. */
  readonly faults: FaultInjector;
  readonly eventSource: EventSourceFaults;
  readonly notices: PipelineNotice[];
  /** Enqueues one delivery message per event, as ingest does. */
  push(events: readonly AuditEvent[]): Promise<void>;
  /** Enqueues raw bodies on the export's delivery queue; returns their message ids. */
  pushRaw(bodies: readonly string[]): Promise<string[]>;
  /** Plays the event sources until every queue of the stage is empty and nothing runs. */
  settle(timeoutMs: number): Promise<void>;
  /** Drains the archive and the ingest queue (the raised webhook.dlq events). */
  collect(): Promise<Collected>;
  close(): Promise<void>;
}

interface Collected {
  readonly archive: readonly {
    readonly body: string;
    readonly attributes: Readonly<Record<string, string>>;
    readonly deadLetter?: DeadLetter;
  }[];
  readonly raised: readonly { readonly audit_id: string; readonly delivery_id: string }[];
}

const EXPORT = 'alerts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const recordOf = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: 'faults',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
        stringListValues: [],
        binaryListValues: [],
      },
    ]),
  ),
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: REGION,
});

const silentObservability = (functionName: string) => {
  // Powertools Metrics would print EMF records to stdout at every invocation.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const logger = new Logger({ serviceName: functionName, logLevel: 'SILENT' });
  return createObservability({
    functionName,
    logger,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: functionName, logger }),
  });
};

/**
 * Starts a fault stage with one export, `alerts`, whose `Authorization` header reads a token
 * from the fake SSM, `max_attempts` as given and a 1 s backoff.
 *
 * @example
 * const stage = await startFaultStage({ sqs, endpoint, stage: 'f1', maxAttempts: 3, receiver: () => ({ status: 500 }) });
 */
const startFaultStage = async (options: FaultStageOptions): Promise<FaultStage> => {
  const receiver = await startReceiver((index) => options.receiver(index));
  const ssm = await startFakeSsm({ parameters: { [`${SSM_PREFIX}/TOKEN`]: TOKEN } });
  const config = await configFromYaml(
    exportsYaml([
      {
        name: EXPORT,
        url: `${receiver.url}/hook`,
        headers: { Authorization: 'Bearer ${TOKEN}' },
        maxAttempts: options.maxAttempts,
        backoffSeconds: [1],
        timeoutSeconds: 5,
        breaker: false,
      },
    ]),
  );
  const queues = await createPipelineQueues(options.sqs, config, options.stage, VISIBILITY_SECONDS);
  const names = queueNames(options.stage);
  const arnOf = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  const functionsSqs = localSqsClient(options.endpoint);
  const faults = injectFaults(functionsSqs);
  const ssmClient = new SSMClient({
    ...awsClientConfig('ssm', { region: REGION }),
    endpoint: ssm.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const notices: PipelineNotice[] = [];
  const notify = (notice: PipelineNotice) => notices.push(notice);
  const exportOfQueueArn = exportLocator(config, options.stage);
  const containers = Array.from({ length: options.containers ?? 1 }, () => ({
    delivery: createDeliveryHandler({
      sqs: functionsSqs,
      queues,
      exports: exportsByName(config),
      http: defaultHttpClient(),
      secrets: new SsmSecretResolver({
        client: ssmClient,
        parameterPrefix: SSM_PREFIX,
        ttlSeconds: 0,
      }),
      exportOfQueueArn,
      infraRetrySeconds: 1,
      observability: silentObservability('delivery'),
      notify,
    }),
    deadLetters: createDlqHandler({
      sqs: functionsSqs,
      queues,
      exportOfQueueArn,
      raiseRetrySeconds: 1,
      ...(options.lastReceive === undefined ? {} : { lastReceive: options.lastReceive }),
      observability: silentObservability('dlq'),
      notify,
    }),
  }));
  /** The container of an invocation: by how often its first record was received. */
  const containerFor = (records: readonly SQSRecord[]) => {
    const receives = Number(records[0]?.attributes.ApproximateReceiveCount ?? 1);
    const index = Math.min(Math.max(receives - 1, 0), containers.length - 1);
    return containers[index] as (typeof containers)[number];
  };
  const eventSource: EventSourceFaults = {
    lostDeletes: 0,
    twinInvocations: 0,
    shortInvocations: 0,
  };
  const running = new Set<Promise<unknown>>();

  const invoke = (
    handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
    functionName: string,
    queueUrl: string,
    records: SQSRecord[],
  ) => {
    const short = eventSource.shortInvocations > 0;
    if (short) eventSource.shortInvocations -= 1;
    const context = lambdaContext({ functionName, timeoutMs: short ? 2_000 : 30_000 });
    const run = handler({ Records: records }, context).then(async (response) => {
      const failed = new Set(response.batchItemFailures.map((item) => item.itemIdentifier));
      for (const record of records) {
        if (failed.has(record.messageId)) continue;
        if (eventSource.lostDeletes > 0) {
          eventSource.lostDeletes -= 1;
          continue;
        }
        await options.sqs
          .send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }),
          )
          .catch(() => undefined);
      }
    });
    running.add(run);
    void run.finally(() => running.delete(run));
  };

  const poll = async (
    queueUrl: string,
    queueArn: string,
    handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>,
    functionName: string,
  ): Promise<boolean> => {
    const response = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = response.Messages ?? [];
    if (messages.length === 0) return false;
    const records = messages.map((message) => recordOf(message, queueArn));
    invoke(handler, functionName, queueUrl, records);
    if (eventSource.twinInvocations > 0) {
      // The same records, received twice (SQS is at least once): a second invocation at once.
      eventSource.twinInvocations -= 1;
      invoke(handler, functionName, queueUrl, records);
    }
    return true;
  };

  const depth = (queueUrl: string): Promise<number> => queueDepth(options.sqs, queueUrl);

  return {
    config,
    queues,
    receiver,
    ssm,
    faults,
    eventSource,
    notices,
    push: async (events) => {
      await sendMessages(
        options.sqs,
        queues.delivery(EXPORT),
        events.map((event, index) => ({
          id: String(index),
          body: JSON.stringify(newDeliveryMessage(event, EXPORT)),
        })),
      );
    },
    pushRaw: async (bodies) => {
      const ids: string[] = [];
      for (const body of bodies) {
        const sent = await options.sqs.send(
          new SendMessageCommand({ QueueUrl: queues.delivery(EXPORT), MessageBody: body }),
        );
        ids.push(sent.MessageId ?? '');
      }
      return ids;
    },
    settle: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let quietRounds = 0;
      while (quietRounds < 3) {
        if (Date.now() > deadline) {
          throw new Error(`the fault stage did not settle within ${timeoutMs} ms`);
        }
        const busy = [
          await poll(
            queues.delivery(EXPORT),
            arnOf(names.delivery(EXPORT)),
            (event, context) => containerFor(event.Records).delivery(event, context),
            'delivery',
          ),
          await poll(
            queues.deliveryDlq(EXPORT),
            arnOf(names.deliveryDlq(EXPORT)),
            (event, context) => containerFor(event.Records).deadLetters(event, context),
            'dlq',
          ),
        ].some(Boolean);
        const waiting =
          running.size +
          (await depth(queues.delivery(EXPORT))) +
          (await depth(queues.deliveryDlq(EXPORT)));
        quietRounds = busy || waiting > 0 ? 0 : quietRounds + 1;
        await sleep(busy ? 20 : 150);
      }
    },
    collect: async () => {
      const archive = (await drainQueue(options.sqs, queues.deadLetters)).map((message) => {
        const parsed = deadLetterSchema.safeParse(message.json);
        return {
          body: message.body,
          attributes: message.attributes,
          ...(parsed.success ? { deadLetter: parsed.data } : {}),
        };
      });
      const raised = (await drainQueue(options.sqs, queues.ingest)).map(
        (message) => message.json as { audit_id: string; delivery_id: string },
      );
      return { archive, raised };
    },
    close: async () => {
      await Promise.allSettled([...running]);
      functionsSqs.destroy();
      ssmClient.destroy();
      await receiver.close();
      await ssm.close();
    },
  };
};

export type { Collected, FaultStage, FaultStageOptions };
export { EXPORT, startFaultStage, TOKEN, VISIBILITY_SECONDS };
