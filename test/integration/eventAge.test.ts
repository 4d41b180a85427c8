/**
 * `max_event_age_seconds` end to end: an event whose turn comes too late is dead-lettered with
 * reason `expired`, no request sent, and raises `webhook.dlq` like any dead letter.
 */
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { withExportKeys } from '../helpers/flowControl.js';
import { auditEvent, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

const receiver = (): Promise<Receiver> => stack.receiver({ status: 202 });

const { pipeline } = stack;

describe('Function: delivery handler (max_event_age_seconds)', () => {
  it('dead-letters an event older than the maximum age as expired, without a request, and delivers a fresh one', async () => {
    // Prepare
    const pager = await receiver();
    const ops = await receiver();
    const harness = await pipeline({
      yaml: withExportKeys(
        exportsYaml([
          { name: 'pager', url: `${pager.url}/page`, eventKinds: ['policy_block'] },
          { name: 'ops', url: `${ops.url}/dlq`, eventKinds: ['webhook.dlq'] },
        ]),
        { pager: { max_event_age_seconds: 3600 } },
      ),
    });
    const stale = auditEvent({ timestamp: new Date(Date.now() - 3 * 3_600_000).toISOString() });
    const fresh = auditEvent({ timestamp: new Date().toISOString() });

    // Act
    await harness.pushEvents([stale, fresh]);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 1, {
      what: 'the expired event archived',
    });
    await ops.waitForRequests(1);
    await harness.waitForIdle();

    // Assess
    expect(pager.requests.map((request) => JSON.parse(request.body).audit_id)).toEqual([
      fresh.audit_id,
    ]);
    const letters = (await harness.drainArchive()).map((message) => message.json as DeadLetter);
    expect(letters).toEqual([
      expect.objectContaining({
        export: 'pager',
        reason: 'expired',
        attempts: 0,
        detail: expect.stringContaining('max_event_age_seconds is 3600, so it was not sent'),
        event: stale,
      }),
    ]);
    const raised = JSON.parse(ops.requests[0]?.body ?? '{}');
    expect(raised).toMatchObject({
      event_kind: 'webhook.dlq',
      export: 'pager',
      reason: 'expired',
      original_event: { audit_id: stale.audit_id },
    });
  });
});
