/**
 * Chaos: 2,000 events x 3 exports through receivers that fail 20% of requests with a 500, 5% by
 * hanging past the 1 s timeout and 5% by resetting the connection (chosen per request by a
 * seeded PRNG). Every (event, export) pair must end delivered or dead-lettered: none lost.
 * Counted by delivery id (the Idempotency-Key header) across the receivers' 2xx answers and the
 * dead-letter archive.
 *
 * Duplicates are expected and only reported: a receiver that answers 200 after the client gave
 * up (a busy event loop past the 1 s timeout) has the event, yet the pipeline retries it. That is
 * at-least-once delivery, and why the Idempotency-Key is stable.
 */
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import {
  auditEvents,
  exportsYaml,
  type PipelineHarness,
  seededRandom,
  waitUntil,
} from '../helpers/pipeline.js';
import { type Receiver, type ReceiverBehaviour, startReceiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const EVENTS = 2_000;
const EXPORTS = ['alpha', 'beta', 'gamma'] as const;
const MAX_ATTEMPTS = 4;
/** Generous: the run takes well under a minute on a laptop. */
const RUN_TIMEOUT_MS = 240_000;

/** What one chaotic receiver did, per delivery id. */
interface ChaosLog {
  /** 2xx answers per delivery id. */
  readonly delivered: Map<string, number>;
  /** Requests per delivery id, whatever the answer. */
  readonly requests: Map<string, number>;
  readonly behaviours: Record<string, number>;
}

const increment = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** A receiver that answers 200, 500, hangs or resets, per request, from a seeded PRNG. */
const chaosReceiver = async (seed: number): Promise<{ receiver: Receiver; log: ChaosLog }> => {
  const random = seededRandom(seed);
  const log: ChaosLog = { delivered: new Map(), requests: new Map(), behaviours: {} };
  const receiver = await startReceiver((_index, request) => {
    const id = String(request.headers['idempotency-key'] ?? 'missing');
    const roll = random();
    let behaviour: ReceiverBehaviour;
    let name: string;
    if (roll < 0.2) {
      behaviour = { status: 500, body: 'chaos: internal error' };
      name = '500';
    } else if (roll < 0.25) {
      behaviour = 'hang';
      name = 'hang';
    } else if (roll < 0.3) {
      behaviour = 'reset';
      name = 'reset';
    } else {
      behaviour = { status: 200 };
      name = '200';
      increment(log.delivered, id);
    }
    increment(log.requests, id);
    log.behaviours[name] = (log.behaviours[name] ?? 0) + 1;
    return behaviour;
  });
  return { receiver, log };
};

const stack = useTestStack();

describe('Function: the whole pipeline under chaos', () => {
  it(
    'delivers or dead-letters every (event, export) pair, none lost',
    async () => {
      // Prepare
      const chaos = await Promise.all(EXPORTS.map((_, index) => chaosReceiver(20_260_417 + index)));
      for (const { receiver } of chaos) stack.add(receiver, (started) => started.close());
      const harness: PipelineHarness = await stack.pipeline({
        yaml: exportsYaml(
          EXPORTS.map((name, index) => ({
            name,
            url: `${chaos[index]?.receiver.url}/${name}`,
            // Originals only: the webhook.dlq events raised meanwhile go nowhere.
            eventKinds: ['policy_block', 'auth_fail'],
            timeoutSeconds: 1,
            maxAttempts: MAX_ATTEMPTS,
            backoffSeconds: [0],
            batchSize: 10,
            // Under test is the attempt and dead-letter accounting: a loaded machine's
            // client-side timeouts could push the failed share to where the breaker rightly
            // pauses the export (test/integration/breaker.test.ts covers that).
            breaker: false,
          })),
        ),
        deliveryConcurrency: 10,
        pollWaitSeconds: 1,
      });
      const events = auditEvents(EVENTS, (index) => ({
        event_kind: index % 2 === 0 ? 'policy_block' : 'auth_fail',
      }));
      const expected = new Map<string, string>();
      for (const event of events) {
        for (const name of EXPORTS) {
          expected.set(deliveryId(event.audit_id, name), `${event.audit_id} -> ${name}`);
        }
      }
      const settled = () =>
        chaos.reduce((total, { log }) => total + log.delivered.size, 0) +
        harness.noticesOf('dead_lettered').length;

      // Act
      await harness.pushEvents(events, { perMessage: 50 });
      await waitUntil(() => settled() >= expected.size, {
        timeoutMs: RUN_TIMEOUT_MS - 60_000,
        intervalMs: 500,
        what: `${expected.size} pairs delivered or dead-lettered`,
      }).catch((error: unknown) => {
        const stats = harness.pipeline.mappings.map((mapping) => JSON.stringify(mapping.stats));
        throw new Error(
          `${String(error)}; ${settled()} settled; event sources: ${stats.join(' ')}`,
        );
      });
      await harness.waitForIdle({ timeoutMs: 30_000 });
      const archive = await harness.drainArchive();
      const parked = await harness.drainIngestDlq();

      // Assess
      const deadLettered = new Map<string, number>();
      const originals = archive
        .map((message) => message.json as DeadLetter)
        .filter((letter) => letter.event.event_kind !== 'webhook.dlq');
      for (const letter of originals) increment(deadLettered, letter.delivery_id);
      const delivered = new Map<string, number>();
      for (const { log } of chaos) {
        for (const [id, count] of log.delivered)
          delivered.set(id, (delivered.get(id) ?? 0) + count);
      }
      const lost = [...expected.keys()].filter((id) => !delivered.has(id) && !deadLettered.has(id));
      const unknown = [...delivered.keys(), ...deadLettered.keys()].filter(
        (id) => !expected.has(id),
      );
      const both = [...deadLettered.keys()].filter((id) => delivered.has(id));
      const duplicates =
        [...delivered.values(), ...deadLettered.values()].reduce((sum, n) => sum + n - 1, 0) +
        both.length;
      const mostRequests = Math.max(...chaos.flatMap(({ log }) => [...log.requests.values()]));
      console.log(
        [
          `chaos: ${EVENTS} events x ${EXPORTS.length} exports = ${expected.size} pairs`,
          `delivered: ${delivered.size}`,
          `dead-lettered: ${deadLettered.size}`,
          `duplicates: ${duplicates}`,
          `lost: ${lost.length}`,
          `receiver answers: ${chaos.map(({ log }) => JSON.stringify(log.behaviours)).join(' ')}`,
          `parked: ${parked.length}, most requests for one pair: ${mostRequests}`,
        ].join('\n'),
      );
      expect(lost.map((id) => expected.get(id))).toEqual([]);
      expect(unknown).toEqual([]);
      expect(delivered.size + deadLettered.size - both.length).toBe(expected.size);
      expect(parked).toHaveLength(0);
      // A failing pair is dead-lettered after exactly its attempts, never more requests.
      expect(mostRequests).toBeLessThanOrEqual(MAX_ATTEMPTS);
      for (const letter of originals) {
        expect([letter.reason, letter.attempts]).toEqual(['exhausted', MAX_ATTEMPTS]);
      }
      expect(harness.noticesOf('dlq_event_raised')).toHaveLength(originals.length);
    },
    RUN_TIMEOUT_MS,
  );
});
