/**
 * The failure-rate breaker end to end, on the real pipeline with one delivery at a time (so
 * that every request's place relative to the breaker's notices is exact): a failing receiver
 * gets no requests while its export is paused, one `webhook.export_paused` event reaches the
 * other export, probes decide, and no event is lost or charged an attempt for waiting.
 */
import type { RecordedRequest } from '../../local/receivers.js';
import { withExportKeys } from '../helpers/flowControl.js';
import { auditEvents, exportsYaml, type PipelineHarness } from '../helpers/pipeline.js';
import type { Receiver, ReceiverHandler } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();

const receiver = (handler: ReceiverHandler): Promise<Receiver> => stack.receiver(handler);

const { pipeline } = stack;

/** Where the breaker stood when a request arrived: notices counted at that moment. */
interface Marked {
  readonly request: RecordedRequest;
  readonly pauses: number;
  readonly resumes: number;
  readonly status: number;
}

const BREAKER = { failure_rate: 0.5, min_attempts: 4, window_seconds: 60, cooldown_seconds: 2 };

describe('Function: delivery handler (failure-rate breaker)', () => {
  it('pauses a failing export, raises one webhook.export_paused, probes, and resumes with nothing lost', async () => {
    // Prepare
    let harness: PipelineHarness | undefined;
    const marked: Marked[] = [];
    const count = (type: 'export_paused' | 'export_resumed') =>
      harness?.noticesOf(type).filter((notice) => notice.export === 'flaky').length ?? 0;
    // Fails until the breaker has paused twice (the first probe fails too), then recovers.
    const flaky = await receiver((_index, request) => {
      const pauses = count('export_paused');
      const status = pauses >= 2 ? 200 : 500;
      marked.push({ request, pauses, resumes: count('export_resumed'), status });
      return { status };
    });
    const ops = await receiver(() => ({ status: 200 }));
    harness = await pipeline({
      yaml: withExportKeys(
        exportsYaml([
          // No filter: flaky is also sent its own webhook.export_paused event.
          {
            name: 'flaky',
            url: `${flaky.url}/hook`,
            maxAttempts: 10,
            backoffSeconds: [0],
            batchSize: 1,
          },
          { name: 'ops', url: `${ops.url}/paused`, eventKinds: ['webhook.export_paused'] },
        ]),
        { flaky: { breaker: BREAKER } },
      ),
      deliveryConcurrency: 1,
    });
    const events = auditEvents(6);

    // Act
    await harness.pushEvents(events);
    await ops.waitForRequests(1);
    await flaky.waitForRequests(4 + 1 + 7, 30_000);
    await harness.waitForIdle();

    // Assess: 4 failures open it; nothing during the cooldown but one (failed) probe.
    const during = (pauses: number, resumes: number) =>
      marked.filter((mark) => mark.pauses === pauses && mark.resumes === resumes);
    expect(during(0, 0).map((mark) => mark.status)).toEqual([500, 500, 500, 500]);
    expect(during(1, 0).map((mark) => mark.status)).toEqual([500]);
    expect(during(2, 0).map((mark) => mark.status)).toEqual([200]);
    expect(during(2, 1).every((mark) => mark.status === 200)).toBe(true);
    const pauses = harness.noticesOf('export_paused');
    expect(pauses.map((notice) => notice.reason)).toEqual(['failure_rate', 'probe_failed']);
    expect(pauses[0]?.raisedAuditId).toMatch(/^flaky:paused:/);
    expect(pauses[1]?.raisedAuditId).toBeUndefined();
    expect(harness.noticesOf('export_resumed')).toHaveLength(1);

    // One event raised, routed to ops by its filter.
    expect(ops.requests).toHaveLength(1);
    const raised = JSON.parse(ops.requests[0]?.body ?? '{}');
    expect(raised).toMatchObject({
      audit_id: pauses[0]?.raisedAuditId,
      event_kind: 'webhook.export_paused',
      severity: 'error',
      export: 'flaky',
      reason: 'failure_rate',
      failure_rate: 1,
      attempts: 4,
      failures: 4,
      paused_until: pauses[0]?.pausedUntil,
      last_status: 500,
    });

    // Every event delivered exactly once; flaky's own pause event waited for the resume.
    const delivered = marked
      .filter((mark) => mark.status === 200)
      .map((mark) => JSON.parse(mark.request.body));
    expect(delivered.map((event) => event.audit_id).sort()).toEqual(
      [...events.map((event) => event.audit_id), raised.audit_id].sort(),
    );
    // Its own pause event waited too: sent only after the resume, unless it happened to be the
    // one probe of the first pause (which records reach first after the cooldown is a race).
    const ownPause = marked.filter(
      (mark) => JSON.parse(mark.request.body).event_kind === 'webhook.export_paused',
    );
    expect(ownPause.at(-1)).toMatchObject({ pauses: 2, status: 200 });
    expect(ownPause.slice(0, -1).every((mark) => mark.pauses === 1 && mark.resumes === 0)).toBe(
      true,
    );
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
    // Waiting spent no attempts: each event's attempts are numbered 1, 2, ... without a gap.
    const attemptsByEvent = new Map<string, number[]>();
    for (const notice of harness.noticesOf('attempt')) {
      const key = `${notice.export} ${notice.auditId}`;
      attemptsByEvent.set(key, [...(attemptsByEvent.get(key) ?? []), notice.attempt]);
    }
    for (const numbers of attemptsByEvent.values()) {
      expect(numbers).toEqual(numbers.map((_, index) => index + 1));
    }
  });

  it('pauses at once on 410 Gone and keeps the event queued, its attempt not counted', async () => {
    // Prepare
    let answered = 0;
    const gone = await receiver(() => {
      answered += 1;
      return { status: answered === 1 ? 410 : 200 };
    });
    const harness = await pipeline({
      yaml: withExportKeys(
        exportsYaml([{ name: 'moved', url: `${gone.url}/hook`, eventKinds: ['policy_block'] }]),
        { moved: { breaker: BREAKER } },
      ),
    });
    const [event] = auditEvents(1);

    // Act
    await harness.pushEvents([event]);
    await gone.waitForRequests(2, 20_000);
    await harness.waitForIdle();

    // Assess
    const pauses = harness.noticesOf('export_paused');
    expect(pauses).toEqual([
      expect.objectContaining({
        export: 'moved',
        reason: 'gone',
        raisedAuditId: expect.any(String),
      }),
    ]);
    expect(harness.noticesOf('attempt').map((notice) => [notice.status, notice.attempt])).toEqual([
      [410, 1],
      [200, 1],
    ]);
    expect(harness.noticesOf('dead_lettered')).toEqual([]);
    expect(harness.noticesOf('export_resumed')).toHaveLength(1);
  });
});
