/**
 * The fan-out step on batches of ingest records against the embedded SQS server: one message
 * per (event, matching export) with a stable delivery id, per-entry failures reported per
 * record (never the whole batch), and invalid events parked with the original text.
 */
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createPipelineQueues } from '../../local/pipeline.js';
import { SQS_WRITE_MARGIN_MS } from '../../shared/awsClientSettings.js';
import type { ObservabilityConfig } from '../../shared/config/types.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { type FanOutDeps, fanOut } from '../../shared/pipeline/ingest.js';
import { newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import type { QueueDirectory } from '../../shared/sqs/queueNames.js';
import { SQS_LIMITS } from '../../shared/sqs/queues.js';
import {
  auditEvent,
  configFromYaml,
  drainQueue,
  exportsYaml,
  sqsRecord,
} from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack({ sqs: true });
let stageCounter = 0;

const TWO_EXPORTS = exportsYaml([
  { name: 'blocks', url: 'http://127.0.0.1:9/blocks', eventKinds: ['policy_block'] },
  { name: 'everything', url: 'http://127.0.0.1:9/all' },
]);

/** Queues for `queuesYaml` on a fresh stage; the step runs with `configYaml` (default: same). */
const setup = async (queuesYaml: string, configYaml = queuesYaml) => {
  stageCounter += 1;
  const stage = `fo${stageCounter}`;
  const queues: QueueDirectory = await createPipelineQueues(
    stack.sqs,
    await configFromYaml(queuesYaml),
    stage,
  );
  const config: ObservabilityConfig = await configFromYaml(configYaml);
  const notices: PipelineNotice[] = [];
  const deps: FanOutDeps = {
    sqs: stack.sqs,
    config,
    queues,
    notify: (notice) => notices.push(notice),
  };
  return { queues, notices, deps };
};

const bodiesOf = async (queueUrl: string): Promise<unknown[]> =>
  (await drainQueue(stack.sqs, queueUrl)).map((message) => message.json);

const byAuditId = (a: unknown, b: unknown): number =>
  String((a as { event: AuditEvent }).event.audit_id).localeCompare(
    String((b as { event: AuditEvent }).event.audit_id),
  );

describe('Function: fanOut()', () => {
  it('enqueues one delivery message per (event, matching export) and none for the others', async () => {
    // Prepare
    const { queues, notices, deps } = await setup(TWO_EXPORTS);
    const block = auditEvent({ event_kind: 'policy_block' });
    const login = auditEvent({ event_kind: 'auth_fail' });
    const records = [sqsRecord(JSON.stringify(block)), sqsRecord(JSON.stringify([login]))];

    // Act
    const result = await fanOut(records, deps);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await bodiesOf(queues.delivery('blocks'))).toEqual([
      newDeliveryMessage(block, 'blocks'),
    ]);
    expect((await bodiesOf(queues.delivery('everything'))).sort(byAuditId)).toEqual(
      [newDeliveryMessage(block, 'everything'), newDeliveryMessage(login, 'everything')].sort(
        byAuditId,
      ),
    );
    expect(notices).toEqual([
      expect.objectContaining({ type: 'fanned_out', events: 1, messages: 2 }),
      expect.objectContaining({ type: 'fanned_out', events: 1, messages: 1 }),
    ]);
  });

  it('stops sending when the invocation runs out of time: the first records done, the rest returned', async () => {
    // Prepare: three records of 10 events each, for two exports (six requests, the queues
    // taking turns); the clock has time for the first record's two requests only.
    const { queues, deps } = await setup(TWO_EXPORTS);
    const records = [0, 1, 2].map((record) =>
      sqsRecord(
        JSON.stringify(
          Array.from({ length: 10 }, (_, index) =>
            auditEvent({ event_kind: 'policy_block', audit_id: `ae_t${record}_${index}` }),
          ),
        ),
      ),
    );
    let asked = 0;
    const clock = {
      remainingMs: () => {
        asked += 1;
        return asked <= 2 ? 30_000 : SQS_WRITE_MARGIN_MS - 1;
      },
    };

    // Act
    const result = await fanOut(records, deps, clock);

    // Assess: record 0 went whole; records 1 and 2 go back to the queue, nothing half-reported.
    expect(result.batchItemFailures).toEqual(
      records.slice(1).map((record) => ({ itemIdentifier: record.messageId })),
    );
    const sent = (await bodiesOf(queues.delivery('blocks'))) as { event: { audit_id: string } }[];
    expect(sent.map((message) => message.event.audit_id).sort()).toEqual(
      Array.from({ length: 10 }, (_, index) => `ae_t0_${index}`).sort(),
    );
  });

  it('reports only the record whose message SQS refused, and sends the rest', async () => {
    // Prepare
    const { queues, deps } = await setup(TWO_EXPORTS);
    await stack.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queues.delivery('everything'),
        Attributes: { MaximumMessageSize: '1024' },
      }),
    );
    const small = sqsRecord(JSON.stringify(auditEvent({ event_kind: 'auth_fail' })));
    const bulky = sqsRecord(
      JSON.stringify(auditEvent({ event_kind: 'auth_fail', note: 'x'.repeat(2048) })),
    );

    // Act
    const result = await fanOut([small, bulky], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: bulky.messageId }]);
    expect(await bodiesOf(queues.delivery('everything'))).toHaveLength(1);
  });

  it('fails the records with a message for a queue that cannot be reached, and only those', async () => {
    // Prepare: the config knows an export whose queues were never created.
    const { queues, deps } = await setup(
      TWO_EXPORTS,
      exportsYaml([
        { name: 'blocks', url: 'http://127.0.0.1:9/blocks', eventKinds: ['policy_block'] },
        { name: 'ghost', url: 'http://127.0.0.1:9/ghost', eventKinds: ['auth_fail'] },
      ]),
    );
    const block = sqsRecord(JSON.stringify(auditEvent({ event_kind: 'policy_block' })));
    const login = sqsRecord(JSON.stringify(auditEvent({ event_kind: 'auth_fail' })));

    // Act
    const result = await fanOut([block, login], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: login.messageId }]);
    expect(await bodiesOf(queues.delivery('blocks'))).toHaveLength(1);
  });

  it('parks an event too large to keep whole, cut to fit with its size noted', async () => {
    // Prepare
    const { queues, notices, deps } = await setup(TWO_EXPORTS);
    const huge = JSON.stringify(auditEvent({ blob: 'x'.repeat(300 * 1024) }));
    const record = sqsRecord(huge, { messageId: 'huge-1' });

    // Act
    const result = await fanOut([record], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const parked = await drainQueue(stack.sqs, queues.ingestDlq);
    expect(parked).toHaveLength(1);
    expect(parked[0]?.attributes).toMatchObject({
      reason: 'too_large',
      source_message_id: 'huge-1',
      truncated: 'true',
      original_bytes: String(Buffer.byteLength(huge)),
    });
    expect(Buffer.byteLength(parked[0]?.body ?? '')).toBeLessThan(SQS_LIMITS.messageBytes);
    expect(huge.startsWith(parked[0]?.body ?? '-')).toBe(true);
    expect(notices.map((notice) => notice.type)).toEqual(['event_parked', 'fanned_out']);
  });
});
