/**
 * `rate_limit_per_second` end to end: the receiver's own timestamps show the limit held, every
 * event arrives, and the records that waited for a slot spent no attempt. Counts only: at most
 * ceil(rate) + 1 requests in any one-second window (the +1 for the window's two ends and timer
 * granularity), never a duration.
 */
import { mostInAnyWindow, withExportKeys } from '../helpers/flowControl.js';
import { auditEvents, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

const receiver = (): Promise<Receiver> => stack.receiver({ status: 200 });

const { pipeline } = stack;

describe('Function: delivery handler (rate_limit_per_second)', () => {
  it.each([
    [2, 12],
    [5, 20],
  ])(
    'keeps %d requests per second with %d events queued at once, losing none',
    async (rate, count) => {
      // Prepare
      const target = await receiver();
      const events = auditEvents(count);
      const harness = await pipeline({
        yaml: withExportKeys(
          exportsYaml([{ name: 'slack', url: `${target.url}/hook`, eventKinds: ['policy_block'] }]),
          { slack: { rate_limit_per_second: rate } },
        ),
      });

      // Act
      await harness.pushEvents(events, { perMessage: 10 });
      await target.waitForRequests(count, 30_000);
      await harness.waitForIdle();

      // Assess
      expect(mostInAnyWindow(target.requests, 1_000)).toBeLessThanOrEqual(Math.ceil(rate) + 1);
      const delivered = target.requests.map((request) => JSON.parse(request.body).audit_id);
      expect(new Set(delivered)).toEqual(new Set(events.map((event) => event.audit_id)));
      expect(delivered).toHaveLength(count);
      const attempts = harness.noticesOf('attempt');
      expect(attempts.every((notice) => notice.attempt === 1)).toBe(true);
      // The burst was paced by deferrals (no attempt spent), not by sleeping in the worker.
      expect(
        harness.noticesOf('deferred').filter((notice) => notice.why.startsWith('rate limit'))
          .length,
      ).toBeGreaterThan(0);
      expect(harness.noticesOf('dead_lettered')).toEqual([]);
    },
  );
});

describe('Function: delivery handler (rate_limit_per_second, nothing to pace)', () => {
  it('sends without any deferral when events come slower than the limit', async () => {
    // Prepare
    const target = await receiver();
    const harness = await pipeline({
      yaml: withExportKeys(
        exportsYaml([{ name: 'pager', url: `${target.url}/hook`, eventKinds: ['policy_block'] }]),
        { pager: { rate_limit_per_second: 50 } },
      ),
    });
    const [event] = auditEvents(1);

    // Act
    await harness.pushEvents([event]);
    await waitUntil(() => target.requests.length === 1, { what: 'one request' });
    await harness.waitForIdle();

    // Assess
    expect(harness.noticesOf('deferred')).toEqual([]);
  });
});
