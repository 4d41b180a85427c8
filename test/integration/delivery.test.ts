/**
 * The delivery function end to end: the real handlers on the embedded SQS server, driven by the
 * event source emulator, sending to real HTTP receivers on 127.0.0.1. Attempt counts come from
 * the receivers and the SQS calls; only the backoff schedule is measured in time, from the
 * receivers' timestamps, with a tolerant lower bound.
 */
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import { SecretStoreError } from '../../shared/secrets/errors.js';
import type { SecretResolver } from '../../shared/secrets/resolvers.js';
import {
  auditEvent,
  exportsYaml,
  isSend,
  type PipelineHarness,
  waitUntil,
} from '../helpers/pipeline.js';
import { always, type Receiver, sequence } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

/** Slack for timer granularity when checking that a delay of n seconds was waited. */
const TOLERANCE_MS = 100;

/**
 * The kinds the tests send. Exports filter on them, so that the `webhook.dlq` event raised for a
 * dead letter does not reach (and add requests to) the receiver under test.
 */
const ORIGINAL_KINDS = ['policy_block'];

const stack = useTestStack();
const { receiver, pipeline } = stack;

/** Waits until `count` dead letters are archived and every queue is drained. */
const settle = async (harness: PipelineHarness, archived: number): Promise<void> => {
  await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= archived, {
    what: `${archived} archived dead letter(s)`,
  });
  await harness.waitForIdle();
};

/** The dead letters in the archive, with the attributes the CLI lists them by. */
const archived = async (harness: PipelineHarness) =>
  (await harness.drainArchive()).map((message) => ({
    letter: message.json as DeadLetter,
    attributes: message.attributes,
  }));

/** Gaps between consecutive requests, in ms, from the receiver's own timestamps. */
const gapsMs = (target: Receiver): number[] =>
  target.requests
    .slice(1)
    .map((request, i) => request.receivedAt - (target.requests[i]?.receivedAt ?? 0));

/**
 * The delays of the copies re-enqueued for a retry to the export's own delivery queue (written
 * alone or in a batch; the ingest's fan-out, attempt 0, is not one).
 */
const reEnqueues = (harness: PipelineHarness, exportName: string) =>
  harness.calls
    .filter((call) => isSend(call) && call.queueUrl === harness.queues.delivery(exportName))
    .flatMap((call) =>
      (call.bodies ?? []).map((body, index) => ({
        attempts: (JSON.parse(body) as { attempts?: number }).attempts ?? 0,
        delay: call.entryDelays?.[index] ?? call.delaySeconds,
      })),
    )
    .filter((copy) => copy.attempts > 0)
    .map((copy) => copy.delay);

/** A resolver whose store fails `failures` times (retryable) before it answers. */
class FlakySecretStore implements SecretResolver {
  calls = 0;

  constructor(private readonly failures: number) {}

  async resolve(_names: readonly string[], exportName: string): Promise<Record<string, string>> {
    this.calls += 1;
    if (this.calls <= this.failures) {
      throw new SecretStoreError(
        `could not read SSM parameters for export "${exportName}" (ThrottlingException)`,
        exportName,
      );
    }
    return {};
  }
}

describe('Function: delivery handler (retries and attempt counting)', () => {
  it('sends exactly max_attempts requests to an always-500 receiver, on the backoff schedule, then dead-letters', async () => {
    // Prepare
    const errorBody = `${'é'.repeat(1500)} upstream exploded`;
    const target = await receiver(always({ status: 500, body: errorBody }));
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'flaky',
          eventKinds: ORIGINAL_KINDS,
          url: `${target.url}/hook`,
          maxAttempts: 4,
          backoffSeconds: [1, 2],
        },
      ]),
    });
    const event = auditEvent();

    // Act
    await harness.pushEvents([event]);
    await settle(harness, 1);

    // Assess
    expect(target.requests).toHaveLength(4);
    const [first, second, third] = gapsMs(target);
    // backoff_seconds [1, 2]: 1 s before attempt 2, 2 s before attempt 3, the last entry reused.
    expect(first).toBeGreaterThanOrEqual(1000 - TOLERANCE_MS);
    expect(second).toBeGreaterThanOrEqual(2000 - TOLERANCE_MS);
    expect(third).toBeGreaterThanOrEqual(2000 - TOLERANCE_MS);
    expect(reEnqueues(harness, 'flaky')).toEqual([1, 2, 2]);
    const id = deliveryId(event.audit_id, 'flaky');
    expect(new Set(target.requests.map((request) => request.headers['idempotency-key']))).toEqual(
      new Set([id]),
    );
    expect(harness.noticesOf('attempt').map((notice) => notice.attempt)).toEqual([1, 2, 3, 4]);

    const letters = await archived(harness);
    expect(letters).toHaveLength(1);
    const [{ letter, attributes }] = letters as [(typeof letters)[number]];
    expect(attributes).toEqual({
      export: 'flaky',
      audit_id: event.audit_id,
      reason: 'exhausted',
      delivery_id: id,
      alert: 'raised',
    });
    expect(letter).toMatchObject({
      kind: 'dead_letter',
      delivery_id: id,
      export: 'flaky',
      reason: 'exhausted',
      attempts: 4,
      last_status: 500,
      error_class: 'http_status',
      event,
    });
    expect(letter.detail).toContain('4 of 4 attempts');
    const snippet = letter.response_snippet ?? '';
    expect(Buffer.byteLength(snippet, 'utf8')).toBeLessThanOrEqual(1024);
    expect(snippet.length).toBeGreaterThan(0);
    expect(errorBody.startsWith(snippet)).toBe(true);
    // Attempt times bracket the receiver's view of the first and last request.
    const firstAt = Date.parse(letter.first_attempt_at ?? '');
    const lastAt = Date.parse(letter.last_attempt_at ?? '');
    expect(firstAt).toBeLessThanOrEqual(target.requests[0]?.receivedAt ?? 0);
    expect(lastAt).toBeGreaterThan(target.requests[2]?.receivedAt ?? Number.POSITIVE_INFINITY);
    expect(lastAt).toBeLessThanOrEqual(target.requests[3]?.receivedAt ?? 0);
  });

  it.each([400, 404, 422])(
    'dead-letters a %i after exactly one attempt (permanent)',
    async (status) => {
      // Prepare
      const target = await receiver(always({ status, body: 'no such route' }));
      const harness = await pipeline({
        yaml: exportsYaml([
          {
            name: 'strict',
            eventKinds: ORIGINAL_KINDS,
            url: target.url,
            maxAttempts: 5,
            backoffSeconds: [0],
          },
        ]),
      });
      const event = auditEvent();

      // Act
      await harness.pushEvents([event]);
      await settle(harness, 1);

      // Assess
      expect(target.requests).toHaveLength(1);
      expect(reEnqueues(harness, 'strict')).toHaveLength(0);
      const letters = await archived(harness);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.letter).toMatchObject({
        reason: 'permanent',
        attempts: 1,
        last_status: status,
        error_class: 'http_status',
        response_snippet: 'no such route',
      });
      expect(letters[0]?.attributes.reason).toBe('permanent');
    },
  );

  it.each([302, 307])(
    'does not follow a %i redirect and dead-letters it as permanent',
    async (status) => {
      // Prepare
      const elsewhere = await receiver(always({ status: 200 }));
      const target = await receiver(
        always({ status, headers: { location: `${elsewhere.url}/moved` } }),
      );
      const harness = await pipeline({
        yaml: exportsYaml([
          {
            name: 'moved',
            eventKinds: ORIGINAL_KINDS,
            url: target.url,
            maxAttempts: 3,
            backoffSeconds: [0],
          },
        ]),
      });

      // Act
      await harness.pushEvents([auditEvent()]);
      await settle(harness, 1);

      // Assess
      expect(target.requests).toHaveLength(1);
      expect(elsewhere.requests).toHaveLength(0);
      const letters = await archived(harness);
      expect(
        letters.map(({ letter }) => [letter.reason, letter.attempts, letter.last_status]),
      ).toEqual([['permanent', 1, status]]);
    },
  );

  it('waits for Retry-After on a 429 even when the backoff is 0, then delivers', async () => {
    // Prepare
    const target = await receiver(
      sequence(
        { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' },
        { status: 200 },
      ),
    );
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'limited',
          eventKinds: ORIGINAL_KINDS,
          url: target.url,
          maxAttempts: 3,
          backoffSeconds: [0],
        },
      ]),
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await waitUntil(() => harness.noticesOf('attempt').some((n) => n.outcome === 'success'), {
      what: 'a successful attempt',
    });
    await harness.waitForIdle();

    // Assess
    expect(target.requests).toHaveLength(2);
    expect(gapsMs(target)[0]).toBeGreaterThanOrEqual(1000 - TOLERANCE_MS);
    expect(harness.noticesOf('retry_scheduled').map((n) => n.delaySeconds)).toEqual([1]);
    expect(reEnqueues(harness, 'limited')).toEqual([1]);
    expect(harness.noticesOf('attempt').map((n) => [n.status, n.outcome])).toEqual([
      [429, 'retry'],
      [200, 'success'],
    ]);
    expect(harness.noticesOf('dead_lettered')).toHaveLength(0);
    expect(await harness.drainArchive()).toHaveLength(0);
  });

  it('times out a hanging receiver, retries, and delivers on the next attempt', async () => {
    // Prepare
    const target = await receiver(sequence('hang', { status: 200 }));
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'sleepy',
          eventKinds: ORIGINAL_KINDS,
          url: target.url,
          timeoutSeconds: 1,
          maxAttempts: 3,
          backoffSeconds: [0],
        },
      ]),
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await waitUntil(() => harness.noticesOf('attempt').some((n) => n.outcome === 'success'), {
      what: 'a successful attempt',
    });
    await harness.waitForIdle();

    // Assess
    expect(target.requests).toHaveLength(2);
    expect(harness.noticesOf('attempt').map((n) => [n.attempt, n.errorClass, n.outcome])).toEqual([
      [1, 'timeout', 'retry'],
      [2, undefined, 'success'],
    ]);
    expect(await harness.drainArchive()).toHaveLength(0);
  });

  it('dead-letters an always-hanging receiver with error class timeout after max_attempts', async () => {
    // Prepare
    const target = await receiver(always('hang'));
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'stuck',
          eventKinds: ORIGINAL_KINDS,
          url: target.url,
          timeoutSeconds: 1,
          maxAttempts: 2,
          backoffSeconds: [0],
        },
      ]),
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await settle(harness, 1);

    // Assess
    expect(target.requests).toHaveLength(2);
    const letters = await archived(harness);
    expect(letters).toHaveLength(1);
    expect(letters[0]?.letter).toMatchObject({
      reason: 'exhausted',
      attempts: 2,
      error_class: 'timeout',
    });
    expect(letters[0]?.letter.last_status).toBeUndefined();
  });
});

describe('Function: delivery handler (failures of our own infrastructure)', () => {
  it('does not spend an attempt when the secret store fails: one request to an always-200 receiver', async () => {
    // Prepare
    const target = await receiver(always({ status: 200 }));
    const secrets = new FlakySecretStore(2);
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'steady',
          eventKinds: ORIGINAL_KINDS,
          url: target.url,
          maxAttempts: 3,
          backoffSeconds: [0],
        },
      ]),
      secrets,
      infraRetrySeconds: 1,
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await waitUntil(() => harness.noticesOf('attempt').length >= 1, { what: 'an attempt' });
    await harness.waitForIdle();

    // Assess
    expect(target.requests).toHaveLength(1);
    expect(secrets.calls).toBe(3);
    // The copy was hidden twice, for 1 s then 2 s (doubling with its receive count).
    expect(harness.noticesOf('deferred').map((n) => n.visibleAgainInSeconds)).toEqual([1, 2]);
    const hidden = harness.calls.filter(
      (call) => call.command === 'ChangeMessageVisibilityCommand',
    );
    expect(hidden.map((call) => call.visibilityTimeout)).toEqual([1, 2]);
    expect(reEnqueues(harness, 'steady')).toHaveLength(0);
    expect(harness.noticesOf('attempt').map((n) => [n.attempt, n.outcome])).toEqual([
      [1, 'success'],
    ]);
  });

  it('still sends exactly max_attempts requests to an always-500 receiver after secret store failures', async () => {
    // Prepare
    const target = await receiver(always({ status: 500 }));
    const secrets = new FlakySecretStore(2);
    const harness = await pipeline({
      yaml: exportsYaml([
        {
          name: 'down',
          eventKinds: ORIGINAL_KINDS,
          url: target.url,
          maxAttempts: 3,
          backoffSeconds: [0],
        },
      ]),
      secrets,
      infraRetrySeconds: 1,
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await settle(harness, 1);

    // Assess
    expect(target.requests).toHaveLength(3);
    expect(harness.noticesOf('deferred')).toHaveLength(2);
    const letters = await archived(harness);
    expect(letters.map(({ letter }) => [letter.reason, letter.attempts])).toEqual([
      ['exhausted', 3],
    ]);
  });
});
