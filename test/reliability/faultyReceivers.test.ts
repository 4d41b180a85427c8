/**
 * Faulty receivers: one pipeline, one export per kind of misbehaving webhook (500s, 429 with
 * Retry-After, hangs past the timeout, connection resets, an endless streamed body, a slow
 * drip, a redirect), every event sent to every export. Each receiver follows a script per
 * delivery id: a quarter of the events ("doomed") fail on every attempt, the rest fail once and
 * then succeed. Afterwards every (event, export) pair must be delivered (a 2xx answer at the
 * receiver) or dead-lettered (in the dead-letter archive) exactly as the script implies: none
 * lost. Counts are printed per export. A second run streams endless bodies (1 GB and beyond)
 * at one export and checks that each response is cut at the body cap and that the delivering
 * process's memory stays bounded.
 */
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { deliveryId, RESPONSE_SNIPPET_BYTES } from '../../shared/pipeline/messages/index.js';
import {
  type ExportSpec,
  exportsYaml,
  type PipelineHarness,
  waitUntil,
} from '../helpers/pipeline.js';
import type { ReceiverBehaviour } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';
import {
  type DeliveryScript,
  MIB,
  mib,
  reliabilityScale,
  type ScriptedReceiver,
  sampleRss,
  startScriptedReceiver,
  tallyPairs,
} from './helpers.js';

const SCALE = reliabilityScale();
const MAX_ATTEMPTS = 3;
/** Growth of the delivering process's RSS allowed while endless bodies stream at it. */
const RSS_GROWTH_LIMIT = 256 * MIB;
/**
 * Bytes the endless-body receiver may hand to one connection before the client hangs up: the
 * client reads 64 KiB, the rest is what the loopback socket buffers absorb meanwhile. An
 * uncapped reader would pull a gigabyte within a second.
 */
const BYTES_PER_ENDLESS_RESPONSE_LIMIT = 16 * MIB;

const reliabilityEvent = (auditId: string): AuditEvent => ({
  audit_id: auditId,
  timestamp: '2026-04-17T10:15:03Z',
  event_kind: 'policy_block',
  severity: 'error',
  agent_id: 'reliability',
});

const indexOf = (event: AuditEvent | undefined): number =>
  Number(event?.audit_id.split('_').at(-1) ?? Number.NaN);

/** A quarter of the events fail on every attempt at every faulty export. */
const doomed = (event: AuditEvent | undefined): boolean => indexOf(event) % 4 === 0;

/** What the pipeline must make of a pair: delivered, or a dead letter with these fields. */
type Expected =
  | 'delivered'
  | {
      readonly reason: 'exhausted' | 'permanent';
      readonly attempts: number;
      readonly last_status?: number;
      readonly error_class?: string;
    };

interface FaultyExport {
  readonly name: string;
  readonly timeoutSeconds?: number;
  readonly script: DeliveryScript;
  readonly expected: (index: number) => Expected;
}

const failOnceThen = (
  failure: (attempt: number) => ReceiverBehaviour,
  success: ReceiverBehaviour = { status: 200 },
): DeliveryScript => {
  return (attempt, event) => (doomed(event) || attempt === 1 ? failure(attempt) : success);
};

const exhausted =
  (fields: { last_status?: number; error_class?: string }) =>
  (index: number): Expected =>
    index % 4 === 0 ? { reason: 'exhausted', attempts: MAX_ATTEMPTS, ...fields } : 'delivered';

/** The receiver the redirect points at; it must never see the redirected request. */
const REDIRECT_PATH = '/redirected';

const faultyExports = (healthyUrl: string): FaultyExport[] => [
  { name: 'healthy', script: () => ({ status: 200 }), expected: () => 'delivered' },
  {
    name: 'server-errors',
    script: failOnceThen(() => ({ status: 500, body: 'internal error' })),
    expected: exhausted({ last_status: 500, error_class: 'http_status' }),
  },
  {
    name: 'rate-limited',
    script: failOnceThen(() => ({ status: 429, headers: { 'retry-after': '1' } })),
    expected: exhausted({ last_status: 429, error_class: 'http_status' }),
  },
  {
    name: 'hanging',
    timeoutSeconds: 1,
    script: failOnceThen(() => 'hang'),
    expected: exhausted({ error_class: 'timeout' }),
  },
  {
    name: 'resetting',
    script: failOnceThen((attempt) => (attempt % 2 === 1 ? 'reset' : 'close')),
    expected: exhausted({ error_class: 'connection_reset' }),
  },
  {
    name: 'endless-body',
    script: (_attempt, event) => ({ hugeBody: { status: doomed(event) ? 503 : 200 } }),
    expected: exhausted({ last_status: 503, error_class: 'http_status' }),
  },
  {
    name: 'slow-drip',
    // The status arrives at once; the body drips until the 2 s timeout cuts it.
    timeoutSeconds: 2,
    script: () => ({ slowDrip: { status: 200, intervalMs: 100 } }),
    expected: () => 'delivered',
  },
  {
    name: 'redirecting',
    script: () => ({ status: 302, headers: { location: `${healthyUrl}${REDIRECT_PATH}` } }),
    expected: () => ({ reason: 'permanent', attempts: 1, last_status: 302 }),
  },
];

const stack = useTestStack();

describe('Function: the pipeline against faulty receivers', () => {
  it(`delivers or dead-letters every (event, export) pair as the receivers dictate, none lost (${SCALE.name}: ${SCALE.faultyEvents} events x 8 exports)`, async () => {
    // Prepare
    const receivers = new Map<string, ScriptedReceiver>();
    const healthy = await startScriptedReceiver(() => ({ status: 200 }));
    stack.add(healthy.receiver, (started) => started.close());
    const exports = faultyExports(healthy.receiver.url);
    receivers.set('healthy', healthy);
    for (const spec of exports.slice(1)) {
      const scripted = await startScriptedReceiver(spec.script);
      stack.add(scripted.receiver, (started) => started.close());
      receivers.set(spec.name, scripted);
    }
    const exportSpecs: ExportSpec[] = exports.map((spec) => ({
      name: spec.name,
      url: `${receivers.get(spec.name)?.receiver.url}/hook`,
      // Originals only: the webhook.dlq events raised meanwhile go nowhere.
      eventKinds: ['policy_block'],
      maxAttempts: MAX_ATTEMPTS,
      backoffSeconds: [0],
      // Under test is what becomes of each delivery; with most requests failing on purpose,
      // the failure-rate breaker would rightly pause these exports for its cooldown
      // (test/integration/breaker.test.ts covers that).
      breaker: false,
      ...(spec.timeoutSeconds === undefined ? {} : { timeoutSeconds: spec.timeoutSeconds }),
    }));
    const harness: PipelineHarness = await stack.pipeline({
      yaml: exportsYaml(exportSpecs),
      deliveryConcurrency: SCALE.faultyConcurrency,
      visibilityTimeoutSeconds: 30,
    });
    const events = Array.from({ length: SCALE.faultyEvents }, (_, index) =>
      reliabilityEvent(`ae_faulty_${index}`),
    );
    const expected = new Map<string, string>();
    const outcomes = new Map<string, Expected>();
    for (const [index, event] of events.entries()) {
      for (const spec of exports) {
        const id = deliveryId(event.audit_id, spec.name);
        expected.set(id, `${event.audit_id} -> ${spec.name}`);
        outcomes.set(id, spec.expected(index));
      }
    }
    const delivered = () =>
      [...receivers.values()].reduce((total, scripted) => total + scripted.delivered.size, 0);

    // Act
    await harness.pushEvents(events, { perMessage: 10 });
    await waitUntil(
      () => delivered() + harness.noticesOf('dead_lettered').length >= expected.size,
      {
        timeoutMs: 240_000,
        intervalMs: 250,
        what: `${expected.size} pairs delivered or dead-lettered`,
      },
    );
    await harness.waitForIdle({ timeoutMs: 60_000 });
    const letters = (await harness.drainArchive())
      .map((message) => message.json as DeadLetter)
      .filter((letter) => letter.event.event_kind === 'policy_block');
    const parked = await harness.drainIngestDlq();

    // Assess
    const lines = [`faulty receivers (${SCALE.name}): ${events.length} events pushed`];
    for (const spec of exports) {
      const scripted = receivers.get(spec.name);
      if (!scripted) throw new Error(`no receiver for ${spec.name}`);
      const ids = new Map(
        events.map((event) => [deliveryId(event.audit_id, spec.name), event.audit_id]),
      );
      const tally = tallyPairs(
        ids,
        [scripted.delivered],
        letters.filter((letter) => letter.export === spec.name),
      );
      lines.push(
        `${spec.name.padEnd(14)} pushed ${String(tally.pairs).padStart(4)}  delivered ${String(tally.delivered).padStart(4)}  dead-lettered ${String(tally.deadLettered).padStart(4)}  duplicates ${tally.duplicates}  lost ${tally.lost.length}  requests ${[...scripted.requests.values()].reduce((sum, n) => sum + n, 0)}  answers ${JSON.stringify(scripted.answers)}`,
      );
    }
    console.log(lines.join('\n'));

    const tally = tallyPairs(
      expected,
      [...receivers.values()].map((scripted) => scripted.delivered),
      letters,
    );
    expect(tally.lost).toEqual([]);
    expect(tally.unknown).toEqual([]);
    expect(parked).toHaveLength(0);
    // Each pair ends as its receiver's script implies. (On a loaded machine a 2xx can reach
    // a client that has already timed out: that pair is retried, a duplicate, never lost.)
    const deliveredIds = new Set(
      [...receivers.values()].flatMap((scripted) => [...scripted.delivered.keys()]),
    );
    const letterOf = new Map(letters.map((letter) => [letter.delivery_id, letter]));
    const mismatches = [...outcomes].flatMap(([id, outcome]) => {
      const letter = letterOf.get(id);
      if (outcome === 'delivered') {
        return deliveredIds.has(id) ? [] : [`${expected.get(id)}: not delivered`];
      }
      const actual = letter && {
        reason: letter.reason,
        attempts: letter.attempts,
        ...(outcome.last_status === undefined ? {} : { last_status: letter.last_status }),
        ...(outcome.error_class === undefined ? {} : { error_class: letter.error_class }),
      };
      return JSON.stringify(actual) === JSON.stringify(outcome)
        ? []
        : [`${expected.get(id)}: ${JSON.stringify(actual)} instead of ${JSON.stringify(outcome)}`];
    });
    expect(mismatches).toEqual([]);
    // A receiver that keeps failing gets exactly its attempts, never more.
    const mostRequests = Math.max(
      ...[...receivers.values()].flatMap((scripted) => [...scripted.requests.values()]),
    );
    expect(mostRequests).toBeLessThanOrEqual(MAX_ATTEMPTS);
    // Retry-After: 1 raised the 0 s backoff of every 429 retry.
    const throttledRetries = harness
      .noticesOf('retry_scheduled')
      .filter((notice) => notice.export === 'rate-limited');
    expect(throttledRetries.length).toBeGreaterThan(0);
    expect(throttledRetries.every((notice) => notice.delaySeconds === 1)).toBe(true);
    // Redirects are not followed: the target never saw a request.
    expect(
      healthy.receiver.requests.filter((request) => request.url === REDIRECT_PATH),
    ).toHaveLength(0);
  }, 300_000);

  it(`cuts every endless body at the cap and keeps the delivering process's memory bounded (${SCALE.name}: ${SCALE.endlessEvents} events)`, async () => {
    // Prepare
    const endless = await startScriptedReceiver((_attempt, event) => ({
      hugeBody: { status: doomed(event) ? 503 : 200 },
    }));
    stack.add(endless.receiver, (started) => started.close());
    const harness: PipelineHarness = await stack.pipeline({
      yaml: exportsYaml([
        {
          name: 'endless-body',
          url: `${endless.receiver.url}/hook`,
          eventKinds: ['policy_block'],
          maxAttempts: MAX_ATTEMPTS,
          backoffSeconds: [0],
          breaker: false,
        },
      ]),
      deliveryConcurrency: SCALE.faultyConcurrency,
    });
    const events = Array.from({ length: SCALE.endlessEvents }, (_, index) =>
      reliabilityEvent(`ae_endless_${index}`),
    );
    const expected = new Map(
      events.map((event) => [deliveryId(event.audit_id, 'endless-body'), event.audit_id]),
    );
    const rss = sampleRss();

    // Act
    await harness.pushEvents(events, { perMessage: 10 });
    await waitUntil(
      () => endless.delivered.size + harness.noticesOf('dead_lettered').length >= expected.size,
      { timeoutMs: 240_000, intervalMs: 250, what: `${expected.size} endless responses settled` },
    );
    await harness.waitForIdle({ timeoutMs: 60_000 });
    const peakRss = rss.stop();
    const letters = (await harness.drainArchive())
      .map((message) => message.json as DeadLetter)
      .filter((letter) => letter.event.event_kind === 'policy_block');

    // Assess
    const responses = endless.receiver.requests.length;
    const bytes = endless.receiver.bodyBytesSent;
    const tally = tallyPairs(expected, [endless.delivered], letters);
    console.log(
      [
        `endless bodies (${SCALE.name}): ${events.length} events, ${responses} responses, delivered ${tally.delivered}, dead-lettered ${tally.deadLettered}, lost ${tally.lost.length}`,
        `bytes handed to the client's sockets: ${mib(bytes)} in total, ${mib(bytes / Math.max(1, responses))} per response (each endless)`,
        `RSS of the delivering process: ${mib(rss.baseline)} before, ${mib(peakRss)} peak (+${mib(peakRss - rss.baseline)})`,
      ].join('\n'),
    );
    expect(tally.lost).toEqual([]);
    expect(responses).toBeGreaterThanOrEqual(events.length);
    expect(bytes / responses).toBeLessThan(BYTES_PER_ENDLESS_RESPONSE_LIMIT);
    expect(letters.length).toBeGreaterThan(0);
    const snippets = letters.map((letter) => Buffer.byteLength(letter.response_snippet ?? ''));
    expect(Math.max(...snippets)).toBeLessThanOrEqual(RESPONSE_SNIPPET_BYTES);
    expect(peakRss - rss.baseline).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 300_000);
});
