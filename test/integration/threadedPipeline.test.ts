/**
 * The local pipeline on several threads (local/threadedPipeline.ts): ingest on this thread,
 * delivery in worker threads with a share of the exports each, all on one embedded SQS server
 * and real receivers on 127.0.0.1.
 */
import { ThreadedLocalPipeline } from '../../local/threadedPipeline.js';
import type { PipelineNotice } from '../../shared/observability/notices.js';
import { sendPacked } from '../../shared/sqs/queues.js';
import { auditEvents, configFromYaml, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack({
  sqs: true,
  receivers: { first: { status: 202 }, second: { status: 202 }, third: { status: 503 } },
});

describe('Class: ThreadedLocalPipeline', () => {
  it('delivers every event to every export once from two delivery threads, and hears their notices', async () => {
    // Prepare
    const { first, second, third } = stack.receivers;
    const config = await configFromYaml(
      exportsYaml([
        // policy_block only: the webhook.dlq events of the third export's dead letters match none.
        { name: 'first', url: first.url, eventKinds: ['policy_block'] },
        { name: 'second', url: `${second.url}/hook?key=\${KEY}`, eventKinds: ['policy_block'] },
        { name: 'third', url: third.url, maxAttempts: 1, eventKinds: ['policy_block'] },
      ]),
    );
    const notices: PipelineNotice[] = [];
    const pipeline = stack.add(
      await ThreadedLocalPipeline.start({
        sqs: stack.sqs,
        endpoint: stack.server.endpoint,
        config,
        stage: 'threads',
        variables: { KEY: 'k-123' },
        notify: (notice) => notices.push(notice),
        pollWaitSeconds: 1,
        deliveryThreads: 2,
      }),
      (started) => started.stop(),
    );
    const events = auditEvents(20);

    // Act
    await sendPacked(
      stack.sqs,
      pipeline.queues.ingest,
      events.map((event) => ({ name: `audit_id ${event.audit_id}`, json: JSON.stringify(event) })),
    );
    await waitUntil(
      () =>
        first.requests.length >= 20 &&
        second.requests.length >= 20 &&
        notices.filter((notice) => notice.type === 'dead_lettered').length >= 20,
      { what: '20 deliveries to each export', timeoutMs: 60_000 },
    );
    const workerCalls = await pipeline.workerSqsCalls();

    // Assess: two threads, each export delivered by one of them, every event once...
    expect(pipeline.workers).toHaveLength(2);
    const ids = (requests: typeof first.requests) =>
      new Set(requests.map((request) => request.headers['idempotency-key']));
    expect(ids(first.requests).size).toBe(20);
    expect(first.requests).toHaveLength(20);
    expect(second.requests).toHaveLength(20);
    expect(second.requests[0]?.url).toBe('/hook?key=k-123');
    // ...the worker threads' notices reached this thread, with the refused export's dead letters...
    const attempts = notices.filter((notice) => notice.type === 'attempt');
    expect(new Set(attempts.map((notice) => notice.export))).toEqual(
      new Set(['first', 'second', 'third']),
    );
    expect(third.requests).toHaveLength(20);
    // ...and the workers' own SQS clients did the polling, counted.
    expect(workerCalls).toBeGreaterThan(0);
  });

  it('stops once however often it is asked', async () => {
    // Prepare
    const config = await configFromYaml(
      exportsYaml([{ name: 'only', url: stack.receivers.first.url, eventKinds: ['auth_fail'] }]),
    );
    const pipeline = stack.add(
      await ThreadedLocalPipeline.start({
        sqs: stack.sqs,
        endpoint: stack.server.endpoint,
        config,
        stage: 'threadsstop',
        variables: {},
        pollWaitSeconds: 1,
        deliveryThreads: 1,
      }),
      (started) => started.stop(),
    );
    const before = stack.receivers.first.requests.length;
    const [event] = auditEvents(1, () => ({ event_kind: 'auth_fail' }));
    await sendPacked(stack.sqs, pipeline.queues.ingest, [
      { name: 'one', json: JSON.stringify(event) },
    ]);
    await waitUntil(() => stack.receivers.first.requests.length > before, {
      what: 'one delivery',
    });

    // Act
    await Promise.all([pipeline.stop(), pipeline.stop()]);
    await pipeline.stop();

    // Assess: the thread has ended; asking it anything is refused, not left waiting.
    await expect(pipeline.workerSqsCalls()).rejects.toThrow('exited');
  });

  it('refuses to start, and leaves nothing running, when a delivery thread cannot reach SQS', async () => {
    // Prepare
    const config = await configFromYaml(
      exportsYaml([{ name: 'only', url: stack.receivers.first.url }]),
    );

    // Act
    const starting = ThreadedLocalPipeline.start({
      sqs: stack.sqs,
      endpoint: 'http://127.0.0.1:9',
      config,
      stage: 'threadsdown',
      variables: {},
      deliveryThreads: 1,
    });

    // Assess
    await expect(starting).rejects.toThrow('a delivery thread failed to start');
  });
});
