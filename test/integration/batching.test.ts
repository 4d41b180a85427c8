/**
 * Batching for archive destinations end to end: the event source gathers a batch during its
 * window, the delivery function sends it as few requests as `max_events` and `max_bytes`
 * allow, and a failed request is retried or dead-lettered as a unit with every event
 * accounted for.
 */

import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { type DeadLetter, newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { withExportKeys } from '../helpers/flowControl.js';
import {
  auditEvents,
  exportsYaml,
  type PipelineHarnessOptions,
  waitUntil,
} from '../helpers/pipeline.js';
import { always, type Receiver, type ReceiverHandler, sequence } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

const receiver = (handler: ReceiverHandler): Promise<Receiver> => stack.receiver(handler);

const { pipeline } = stack;

/** A batched export `archive` (only the test's own event kind) on `url`. */
const archiveYaml = (
  url: string,
  batch: Record<string, unknown>,
  extra: { maxAttempts?: number; more?: Record<string, unknown> } = {},
): string =>
  withExportKeys(
    exportsYaml([
      {
        name: 'archive',
        url,
        eventKinds: ['policy_block'],
        maxAttempts: extra.maxAttempts ?? 3,
        backoffSeconds: [0],
      },
    ]),
    { archive: { batch, ...extra.more } },
  );

/** Puts the events straight onto the archive's delivery queue, before anything polls. */
const queued =
  (events: readonly AuditEvent[]): PipelineHarnessOptions['beforeStart'] =>
  async (sqs, queues) => {
    const { failed } = await sendMessages(
      sqs,
      queues.delivery('archive'),
      events.map((event, index) => ({
        id: String(index),
        body: JSON.stringify(newDeliveryMessage(event, 'archive')),
      })),
    );
    if (failed.length > 0) throw new Error('the test could not queue its events');
  };

/** The events each request carried (JSON array bodies), in order of arrival. */
const batchesOf = (target: Receiver): AuditEvent[][] =>
  target.requests.map((request) => JSON.parse(request.body) as AuditEvent[]);

const idsOf = (events: readonly AuditEvent[]): string[] =>
  events.map((event) => event.audit_id).sort();

describe('Function: delivery handler (batched export)', () => {
  it('sends 25 queued events with max_events 10 as 3 JSON-array requests carrying all 25', async () => {
    // Prepare
    const target = await receiver(always({ status: 200 }));
    const events = auditEvents(25);
    const harness = await pipeline({
      yaml: archiveYaml(`${target.url}/bulk`, { max_events: 10, max_wait_seconds: 1 }),
      deliveryConcurrency: 2,
      beforeStart: queued(events),
    });

    // Act
    await waitUntil(
      () => target.requests.flatMap((request) => JSON.parse(request.body)).length >= 25,
      {
        what: '25 events at the receiver',
      },
    );
    await harness.waitForIdle();

    // Assess
    const batches = batchesOf(target);
    expect(batches).toHaveLength(3);
    expect(batches.map((batch) => batch.length).sort((a, b) => a - b)).toEqual([5, 10, 10]);
    expect(idsOf(batches.flat())).toEqual(idsOf(events));
    // Without a template each element is the event itself.
    const byId = new Map(events.map((event) => [event.audit_id, event]));
    for (const event of batches.flat()) expect(event).toEqual(byId.get(event.audit_id));
    for (const request of target.requests) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['idempotency-key']).toMatch(/^bat_[0-9a-f]{32}$/);
    }
    expect(harness.noticesOf('batch_attempt').map((notice) => notice.outcome)).toEqual([
      'success',
      'success',
      'success',
    ]);
  });

  it('retries the events of a failed request and delivers every one (500, then 200)', async () => {
    // Prepare
    const target = await receiver(sequence({ status: 500 }, { status: 200 }));
    const events = auditEvents(25);
    const harness = await pipeline({
      yaml: archiveYaml(`${target.url}/bulk`, { max_events: 10, max_wait_seconds: 1 }),
      deliveryConcurrency: 2,
    });

    // Act
    await harness.pushEvents(events, { perMessage: 25 });
    await waitUntil(
      () =>
        target.requests.slice(1).flatMap((request) => JSON.parse(request.body) as AuditEvent[])
          .length >= 25,
      { what: '25 events accepted' },
    );
    await harness.waitForIdle();

    // Assess
    const [failed, ...accepted] = batchesOf(target);
    expect(idsOf(accepted.flat())).toEqual(idsOf(events));
    const retried = harness.noticesOf('retry_scheduled');
    expect(retried.map((notice) => notice.auditId).sort()).toEqual(idsOf(failed ?? []));
    expect(retried.every((notice) => notice.nextAttempt === 2)).toBe(true);
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
  });

  it('dead-letters every event of an always-500 receiver after its attempts: 25 dead letters', async () => {
    // Prepare
    const target = await receiver(always({ status: 500, body: 'bucket unavailable' }));
    const events = auditEvents(25);
    const harness = await pipeline({
      yaml: archiveYaml(
        `${target.url}/bulk`,
        { max_events: 10, max_wait_seconds: 1 },
        { maxAttempts: 2, more: { breaker: false } },
      ),
      deliveryConcurrency: 2,
    });

    // Act
    await harness.pushEvents(events, { perMessage: 25 });
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 25, {
      what: '25 archived dead letters',
    });
    await harness.waitForIdle();

    // Assess
    const letters = (await harness.drainArchive()).map((message) => message.json as DeadLetter);
    expect(letters).toHaveLength(25);
    expect(idsOf(letters.map((letter) => letter.event))).toEqual(idsOf(events));
    for (const letter of letters) {
      expect(letter).toMatchObject({
        export: 'archive',
        reason: 'exhausted',
        attempts: 2,
        last_status: 500,
        response_snippet: 'bucket unavailable',
      });
      expect(letter.detail).toMatch(/gave up after 2 of 2 attempts \(sent in a batch of \d+\)/);
    }
    // Each event travelled in exactly two requests.
    const carried = batchesOf(target).flat();
    expect(carried).toHaveLength(50);
  });

  it('splits by max_bytes and joins rendered bodies as NDJSON lines', async () => {
    // Prepare
    const target = await receiver(always({ status: 200 }));
    const events = auditEvents(12, () => ({ note: 'x'.repeat(300) }));
    const maxBytes = 1024;
    const harness = await pipeline({
      yaml: archiveYaml(
        `${target.url}/bulk`,
        { max_events: 20, max_bytes: maxBytes, max_wait_seconds: 1, encoding: 'ndjson' },
        {
          more: {
            webhook: {
              body_template: '{"id": "{{audit_id}}", "kind": "{{event_kind}}", "note": "{{note}}"}',
            },
          },
        },
      ),
      deliveryConcurrency: 2,
      beforeStart: queued(events),
    });

    // Act
    await waitUntil(
      () =>
        target.requests.flatMap((request) => request.body.split('\n').filter(Boolean)).length >= 12,
      { what: '12 lines at the receiver' },
    );
    await harness.waitForIdle();

    // Assess
    expect(target.requests.length).toBeGreaterThanOrEqual(4);
    for (const request of target.requests) {
      expect(Buffer.byteLength(request.body)).toBeLessThanOrEqual(maxBytes);
      expect(request.headers['content-type']).toBe('application/x-ndjson');
      expect(request.body.endsWith('\n')).toBe(true);
    }
    const lines = target.requests.flatMap((request) =>
      request.body
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
    expect(lines.map((line) => line.id).sort()).toEqual(idsOf(events));
    expect(lines[0]).toEqual({
      id: expect.any(String),
      kind: 'policy_block',
      note: 'x'.repeat(300),
    });
  });
});
