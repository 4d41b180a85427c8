/**
 * The local stack with 200 exports (issue 11): one event reaches each export exactly once, an
 * idle mapping holds one long poll rather than one per allowed invocation, and the pipeline
 * stops with no poller left. Times are measured and documented in docs/cli.md (start), not
 * asserted here.
 */
import { auditEvent, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import { always } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const EXPORTS = 200;

const stack = useTestStack();

describe('Function: the local pipeline with 200 exports', () => {
  it('delivers one event to each of 200 exports once, idles on one poller per queue and stops cleanly', async () => {
    // Prepare
    const target = await stack.receiver(always({ status: 204 }));
    const harness = await stack.pipeline({
      yaml: exportsYaml(
        Array.from({ length: EXPORTS }, (_, index) => ({
          name: `scale-${index}`,
          url: `${target.url}/scale-${index}`,
          // One process runs the SQS server, 401 pollers, 200 deliveries and the receiver: on a
          // busy machine (CI runs other suites beside it) an answer can take seconds, and a
          // timed-out attempt is retried, which this test would count as a second delivery.
          timeoutSeconds: 60,
        })),
      ),
    });
    const { mappings } = harness.pipeline;

    // Act
    await harness.pushEvents([auditEvent({ audit_id: 'ae_scale' })]);
    await waitUntil(() => target.requests.length >= EXPORTS, {
      what: `one request per export (${EXPORTS})`,
      timeoutMs: 120_000,
    });
    await harness.waitForIdle({ timeoutMs: 180_000 });
    // Pollers that joined for the backlog leave at their first empty receive.
    await waitUntil(() => mappings.every((mapping) => mapping.activePollers === 1), {
      what: 'every mapping back to its one idle poller',
      timeoutMs: 30_000,
    });
    const idlePollers = mappings.reduce((total, mapping) => total + mapping.activePollers, 0);
    await harness.stop();

    // Assess
    const paths = target.requests.map((request) => request.url).sort();
    expect(new Set(paths).size).toBe(EXPORTS);
    expect(paths).toHaveLength(EXPORTS);
    // The ingest queue, and a delivery queue and a dead-letter queue per export.
    expect(mappings).toHaveLength(1 + 2 * EXPORTS);
    expect(idlePollers).toBe(mappings.length);
    expect(mappings.map((mapping) => mapping.activePollers).filter((count) => count > 0)).toEqual(
      [],
    );
    expect(mappings.reduce((total, mapping) => total + mapping.stats.failedInvocations, 0)).toBe(0);
  }, 420_000);
});
