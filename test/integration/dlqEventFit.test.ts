/**
 * The alert about a dead letter always fits: the largest valid event, dead-lettered, raises a
 * `webhook.dlq` event that the ingest accepts and delivers (trimmed), instead of parking it as
 * too_large. The archived dead letter keeps the full event.
 */
import { MAX_EVENT_BYTES } from '../../shared/events/auditEvent.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { auditEvent, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import { always } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const { receiver, pipeline } = useTestStack();

describe('webhook.dlq of the largest valid event', () => {
  it('is delivered trimmed, not parked, and the dead letter keeps the event whole', async () => {
    // Prepare: an event of exactly the ingest's limit.
    const failing = await receiver(always({ status: 500, body: 'upstream down' }));
    const watcher = await receiver(always({ status: 200 }));
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'primary',
          url: `${failing.url}/hook`,
          eventKinds: ['policy_block'],
          maxAttempts: 1,
        },
        { name: 'dlq-watch', url: `${watcher.url}/dlq`, eventKinds: ['webhook.dlq'] },
      ]),
    });
    const base = auditEvent({ payload: '' });
    const event = {
      ...base,
      payload: 'p'.repeat(MAX_EVENT_BYTES - Buffer.byteLength(JSON.stringify(base))),
    };
    expect(Buffer.byteLength(JSON.stringify(event))).toBe(MAX_EVENT_BYTES);

    // Act
    await harness.pushEvents([event]);
    await waitUntil(() => watcher.requests.length >= 1, { what: 'the webhook.dlq delivery' });
    await harness.waitForIdle();

    // Assess
    expect(await harness.drainIngestDlq()).toEqual([]);
    const delivered = JSON.parse(watcher.requests[0]?.body ?? '{}') as Record<string, unknown>;
    expect(delivered).toMatchObject({
      event_kind: 'webhook.dlq',
      export: 'primary',
      truncated: true,
      original_event_bytes: MAX_EVENT_BYTES,
      original_event: { audit_id: event.audit_id, event_kind: 'policy_block' },
    });
    const archive = await harness.drainArchive();
    expect(archive).toHaveLength(1);
    expect((archive[0]?.json as DeadLetter | undefined)?.event).toEqual(event);
  });
});
