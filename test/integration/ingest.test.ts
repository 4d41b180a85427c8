/**
 * The ingest function end to end: invalid events parked with their reason while the rest of
 * the batch proceeds, and the fan-out's SQS calls counted on the client (full
 * `SendMessageBatch` requests, never one `SendMessage` per event).
 */
import { MAX_EVENT_BYTES } from '../../shared/events/auditEvent.js';
import {
  auditEvent,
  auditEvents,
  exportsYaml,
  type PipelineHarness,
  type SqsCall,
  sendBodies,
  waitUntil,
} from '../helpers/pipeline.js';
import { always } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();
const { receiver, pipeline } = stack;

/** SQS calls of one command to one queue. */
const callsTo = (harness: PipelineHarness, command: string, queueUrl: string): SqsCall[] =>
  harness.calls.filter((call) => call.command === command && call.queueUrl === queueUrl);

const entriesOf = (calls: readonly SqsCall[]): number[] => calls.map((call) => call.entries ?? 0);

const sum = (values: readonly number[]): number =>
  values.reduce((total, value) => total + value, 0);

describe('Function: ingest handler (invalid events)', () => {
  it('parks each invalid event with its reason and delivers the valid ones of the same batch', async () => {
    // Prepare
    const target = await receiver(always({ status: 200 }));
    const harness = await pipeline({
      yaml: exportsYaml([{ name: 'all', url: target.url, eventKinds: ['policy_block'] }]),
    });
    const good = auditEvent();
    const bad = { audit_id: 'ae_bad_fields', timestamp: 'yesterday', event_kind: 'x' };
    const huge = auditEvent({ blob: 'x'.repeat(MAX_EVENT_BYTES + 10 * 1024) });
    const bodies = [
      'this is {not json',
      JSON.stringify({ audit_id: 'ae_missing', event_kind: 'policy_block' }),
      JSON.stringify(huge),
      JSON.stringify([bad, good]),
      '42',
    ];

    // Act
    const [notJsonId, missingId, hugeId, arrayId, scalarId] = await harness.pushBodies(bodies);
    await waitUntil(() => target.requests.length >= 1, { what: 'the valid event delivered' });
    await harness.waitForIdle();
    const parked = await harness.drainIngestDlq();

    // Assess
    expect(target.requests).toHaveLength(1);
    expect(JSON.parse(target.requests[0]?.body ?? '{}')).toEqual(good);
    expect(parked).toHaveLength(5);
    const bySource = new Map(
      parked.map((message) => [message.attributes.source_message_id, message]),
    );
    expect(bySource.get(notJsonId)?.attributes).toMatchObject({ reason: 'not_json' });
    expect(bySource.get(notJsonId)?.body).toBe('this is {not json');
    expect(bySource.get(missingId)?.attributes).toMatchObject({
      reason: 'invalid_event',
      audit_id: 'ae_missing',
    });
    expect(bySource.get(missingId)?.attributes.detail).toContain('timestamp');
    expect(bySource.get(missingId)?.attributes.detail).toContain('severity');
    expect(bySource.get(hugeId)?.attributes).toMatchObject({
      reason: 'too_large',
      audit_id: huge.audit_id,
    });
    expect(bySource.get(hugeId)?.attributes.detail).toContain(`${MAX_EVENT_BYTES}`);
    expect(bySource.get(hugeId)?.body).toBe(JSON.stringify(huge));
    expect(bySource.get(arrayId)?.attributes).toMatchObject({
      reason: 'invalid_event',
      audit_id: 'ae_bad_fields',
    });
    expect(JSON.parse(bySource.get(arrayId)?.body ?? '{}')).toEqual(bad);
    expect(bySource.get(scalarId)?.attributes).toMatchObject({ reason: 'invalid_event' });
    expect(harness.noticesOf('event_parked')).toHaveLength(5);
    // Parked, not retried: every ingest record succeeded once (the ingest mapping comes first).
    expect(harness.pipeline.mappings[0]?.stats).toMatchObject({
      records: 5,
      deleted: 5,
      failedRecords: 0,
    });
  });
});

describe('Function: ingest handler (fan-out batching)', () => {
  it('sends 60 events of one array body to an export in 6 full SendMessageBatch requests', async () => {
    // Prepare
    const target = await receiver(always({ status: 200 }));
    const harness = await pipeline({
      yaml: exportsYaml([{ name: 'bulk', url: target.url, eventKinds: ['policy_block'] }]),
    });
    const events = auditEvents(60);

    // Act
    await harness.pushEvents(events, { perMessage: 60 });
    await waitUntil(() => target.requests.length >= 60, { what: '60 deliveries' });
    await harness.waitForIdle();

    // Assess
    const queueUrl = harness.queues.delivery('bulk');
    expect(callsTo(harness, 'SendMessageCommand', queueUrl)).toHaveLength(0);
    expect(harness.calls.filter((call) => call.command === 'SendMessageCommand')).toHaveLength(0);
    expect(entriesOf(callsTo(harness, 'SendMessageBatchCommand', queueUrl))).toEqual([
      10, 10, 10, 10, 10, 10,
    ]);
    expect(target.requests).toHaveLength(60);
  });

  it('shares full batches between the records of one invocation, per export queue', async () => {
    // Prepare: the events wait on the ingest queue before polling starts, so that each
    // receive takes 10 records, like Lambda's poller under load.
    const first = await receiver(always({ status: 200 }));
    const second = await receiver(always({ status: 200 }));
    const events = auditEvents(60);
    const harness = await pipeline({
      yaml: exportsYaml([
        { name: 'first', url: first.url, eventKinds: ['policy_block'] },
        { name: 'second', url: second.url, eventKinds: ['policy_block'] },
      ]),
      beforeStart: async (sqs, queues) => {
        await sendBodies(
          sqs,
          queues.ingest,
          events.map((event) => JSON.stringify(event)),
        );
      },
    });

    // Act
    await waitUntil(() => first.requests.length >= 60 && second.requests.length >= 60, {
      what: '60 deliveries per export',
    });
    await harness.waitForIdle();

    // Assess
    for (const name of ['first', 'second']) {
      const queueUrl = harness.queues.delivery(name);
      const batches = entriesOf(callsTo(harness, 'SendMessageBatchCommand', queueUrl));
      expect(sum(batches)).toBe(60);
      expect(sum(batches) / batches.length).toBeGreaterThanOrEqual(9);
      expect(callsTo(harness, 'SendMessageCommand', queueUrl)).toHaveLength(0);
    }
    expect(first.requests).toHaveLength(60);
    expect(second.requests).toHaveLength(60);
  });
});
