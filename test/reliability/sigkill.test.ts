/**
 * The local stack (`start`, a real subprocess) killed with SIGKILL mid-stream, then restarted
 * on the same port.
 *
 * - With `--data-dir`, the embedded SQS server (fauxqs) writes every queue mutation to SQLite
 *   as it happens, so what was queued, delayed or in flight survives the kill; records that
 *   were in flight come back once their visibility timeout passes (`--visibility-timeout`
 *   shortens it for the test). Every pushed (event, export) pair ends delivered or
 *   dead-lettered; the kill only costs duplicates, which share an Idempotency-Key.
 * - Without it, queues live in memory: the kill loses everything queued. The test shows what
 *   a producer must send again (every event not yet delivered) and that re-sending it is
 *   enough.
 *
 * The receivers answer a fixed number of requests before the kill and hold every later one
 * open, so the kill always lands with deliveries done, in flight and still queued.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_STAGE } from '../../local/constants.js';
import { localSqsClient } from '../../local/sqsServer.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import { queueNames } from '../../shared/sqs/queueNames.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { type CliRun, startCli } from '../helpers/cli.js';
import {
  drainQueue,
  exportsYaml,
  type QueuedMessage,
  queueDepth,
  waitUntil,
} from '../helpers/pipeline.js';
import type { ReceiverBehaviour } from '../helpers/receivers.js';
import {
  type DeliveryScript,
  freePort,
  reliabilityScale,
  type ScriptedReceiver,
  startScriptedReceiver,
  tallyPairs,
} from './helpers.js';

const SCALE = reliabilityScale();
/** Short, so records in flight at the kill come back within seconds of the restart. */
const VISIBILITY_TIMEOUT_SECONDS = 5;
const NAMES = queueNames(LOCAL_STAGE);

/** Which side of the kill the receivers are on. */
interface Phase {
  killed: boolean;
}

/**
 * Before the kill, answers the first `answered` requests with `script` and holds every later
 * one open (in flight when the kill comes); after it, always answers with `script`.
 */
const gated =
  (phase: Phase, answered: number, script: DeliveryScript): DeliveryScript =>
  (attempt, event, request): ReceiverBehaviour =>
    !phase.killed && request.index >= answered ? 'hang' : script(attempt, event, request);

const indexOf = (event: AuditEvent | undefined): number =>
  Number(event?.audit_id.split('_').at(-1) ?? Number.NaN);

const eventsFor = (count: number, prefix: string): AuditEvent[] =>
  Array.from({ length: count }, (_, index) => ({
    audit_id: `${prefix}_${index}`,
    timestamp: '2026-04-17T10:15:03Z',
    event_kind: 'policy_block',
    severity: 'error',
    agent_id: 'reliability',
  }));

/** Pushes events as a producer does: one per message, SendMessageBatch. */
const produce = async (sqs: SQSClient, queueUrl: string, events: readonly AuditEvent[]) => {
  const outcome = await sendMessages(
    sqs,
    queueUrl,
    events.map((event) => ({ id: event.audit_id, body: JSON.stringify(event) })),
  );
  if (outcome.failed.length > 0) throw new Error(`SQS refused ${outcome.failed.length} events`);
};

/** The endpoint and ingest queue a `start` process prints. */
const started = async (run: CliRun) => {
  const endpoint = (await run.waitForLine(/^SQS endpoint: /, 60_000)).slice(14).trim();
  const ingest = (await run.waitForLine(/^ingest queue: /, 60_000)).slice(14).trim();
  const queueUrl = (name: string) => ingest.slice(0, -NAMES.ingest.length) + name;
  return { endpoint, sqs: localSqsClient(endpoint), queueUrl };
};

/** Every pipeline queue of the stage, for depth checks. */
const allQueues = (exportNames: readonly string[]): string[] => [
  NAMES.ingest,
  NAMES.ingestDlq,
  NAMES.deadLetters,
  ...exportNames.flatMap((name) => [NAMES.delivery(name), NAMES.deliveryDlq(name)]),
];

const pairsOf = (events: readonly AuditEvent[], exportNames: readonly string[]) =>
  new Map(
    events.flatMap((event) =>
      exportNames.map((name) => [deliveryId(event.audit_id, name), `${event.audit_id} -> ${name}`]),
    ),
  );

describe('Command: start, killed with SIGKILL mid-stream', () => {
  let dir: string;
  const children: CliRun[] = [];
  const receivers: ScriptedReceiver[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tappass-sigkill-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.child.exitCode === null && child.child.signalCode === null) {
        child.child.kill('SIGKILL');
        await child.exited;
      }
    }
    for (const scripted of receivers.splice(0)) await scripted.receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const receiver = async (script: DeliveryScript): Promise<ScriptedReceiver> => {
    const scripted = await startScriptedReceiver(script);
    receivers.push(scripted);
    return scripted;
  };

  const start = (args: readonly string[]): CliRun => {
    const run = startCli(args, { timeoutMs: 280_000 });
    children.push(run);
    return run;
  };

  it(`with --data-dir loses nothing: every pair is delivered or dead-lettered after a restart (${SCALE.name}: ${SCALE.killEvents} events x 2 exports)`, async () => {
    // Prepare
    const phase: Phase = { killed: false };
    const answered = SCALE.killAnsweredBeforeKill;
    const steady = await receiver(gated(phase, answered, () => ({ status: 200 })));
    // The first request of each delivery fails (a delayed retry is pending at the kill);
    // every tenth event is refused for good (a dead letter).
    const flaky = await receiver(
      gated(phase, answered, (attempt, event) => {
        if (indexOf(event) % 10 === 0) return { status: 400, body: 'rejected' };
        return attempt === 1 ? { status: 503 } : { status: 200 };
      }),
    );
    const config = join(dir, 'observability.yaml');
    await writeFile(
      config,
      exportsYaml(
        Object.entries({ steady, flaky }).map(([name, scripted]) => ({
          name,
          url: `${scripted.receiver.url}/hook`,
          eventKinds: ['policy_block'],
          timeoutSeconds: 2,
          maxAttempts: 3,
          backoffSeconds: [2],
          // The flaky export fails half its requests on purpose: keep the failure-rate breaker
          // from pausing it, so that the run does not wait out its cooldown.
          breaker: false,
        })),
      ),
    );
    const port = String(await freePort());
    const args = [
      'start',
      ...['--config', config, '--port', port, '--data-dir', join(dir, 'sqs')],
      ...['--visibility-timeout', String(VISIBILITY_TIMEOUT_SECONDS)],
    ];
    const events = eventsFor(SCALE.killEvents, 'ae_kill');
    const expected = pairsOf(events, ['steady', 'flaky']);
    const permanent = events.filter((_, index) => index % 10 === 0);

    // Act
    const first = start(args);
    const before = await started(first);
    await produce(before.sqs, before.queueUrl(NAMES.ingest), events);
    await waitUntil(
      () => steady.receiver.requests.length > answered && flaky.receiver.requests.length > answered,
      { timeoutMs: 120_000, what: 'both receivers to hold requests in flight' },
    );
    const queuedAtKill = (
      await Promise.all(
        allQueues(['steady', 'flaky'])
          .filter((name) => name !== NAMES.deadLetters)
          .map((name) => queueDepth(before.sqs, before.queueUrl(name))),
      )
    ).reduce((sum, depth) => sum + depth, 0);
    first.child.kill('SIGKILL');
    const firstExit = await first.exited;
    before.sqs.destroy();
    phase.killed = true;
    const deliveredBeforeKill = steady.delivered.size + flaky.delivered.size;
    const inFlightAtKill =
      steady.receiver.requests.length + flaky.receiver.requests.length - 2 * answered;

    const second = start(args);
    const after = await started(second);
    const letters: QueuedMessage[] = [];
    await waitUntil(
      async () => {
        letters.push(...(await drainQueue(after.sqs, after.queueUrl(NAMES.deadLetters))));
        const tally = tallyPairs(
          expected,
          [steady.delivered, flaky.delivered],
          letters.map((message) => message.json as DeadLetter),
        );
        return tally.lost.length === 0;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'every pair delivered or dead-lettered' },
    );
    second.child.kill('SIGTERM');
    const secondExit = await second.exited;
    after.sqs.destroy();

    // Assess
    const deadLetters = letters
      .map((message) => message.json as DeadLetter)
      .filter((letter) => letter.event.event_kind === 'policy_block');
    const tally = tallyPairs(expected, [steady.delivered, flaky.delivered], deadLetters);
    console.log(
      [
        `SIGKILL with --data-dir (${SCALE.name}): ${events.length} events x 2 exports = ${tally.pairs} pairs pushed`,
        `at the kill: ${deliveredBeforeKill} pairs delivered, ${inFlightAtKill} requests in flight, ${queuedAtKill} messages queued, delayed or in flight in SQS`,
        `after the restart: delivered ${tally.delivered}, dead-lettered ${tally.deadLettered}, duplicates ${tally.duplicates}, lost ${tally.lost.length}`,
      ].join('\n'),
    );
    expect(firstExit).toBe('SIGKILL');
    expect(secondExit).toBe(0);
    expect(deliveredBeforeKill).toBeLessThan(tally.pairs);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(queuedAtKill).toBeGreaterThan(0);
    expect(tally.lost).toEqual([]);
    expect(tally.unknown).toEqual([]);
    // Exactly the refused events were dead-lettered, each for good on its first answer.
    expect(new Set(deadLetters.map((letter) => letter.delivery_id))).toEqual(
      new Set(permanent.map((event) => deliveryId(event.audit_id, 'flaky'))),
    );
    expect(tally.delivered + tally.deadLettered).toBe(tally.pairs);
  }, 300_000);

  it(`in memory loses what was queued: the producer re-sends every event not yet delivered (${SCALE.name}: ${SCALE.killEvents} events)`, async () => {
    // Prepare
    const phase: Phase = { killed: false };
    const answered = SCALE.killAnsweredBeforeKill;
    const steady = await receiver(gated(phase, answered, () => ({ status: 200 })));
    const config = join(dir, 'observability.yaml');
    await writeFile(
      config,
      exportsYaml([
        {
          name: 'steady',
          url: `${steady.receiver.url}/hook`,
          eventKinds: ['policy_block'],
          timeoutSeconds: 2,
        },
      ]),
    );
    const port = String(await freePort());
    const args = ['start', '--config', config, '--port', port];
    const events = eventsFor(SCALE.killEvents, 'ae_mem');
    const expected = pairsOf(events, ['steady']);

    // Act
    const first = start(args);
    const before = await started(first);
    await produce(before.sqs, before.queueUrl(NAMES.ingest), events);
    await waitUntil(() => steady.receiver.requests.length > answered, {
      timeoutMs: 120_000,
      what: 'the receiver to hold requests in flight',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    before.sqs.destroy();
    phase.killed = true;
    const deliveredBeforeKill = steady.delivered.size;
    const second = start(args);
    const after = await started(second);
    const depthsAfterRestart = await Promise.all(
      allQueues(['steady']).map((name) => queueDepth(after.sqs, after.queueUrl(name))),
    );
    // What the producer must send again: every event whose delivery it cannot confirm.
    const toResend = events.filter(
      (event) => !steady.delivered.has(deliveryId(event.audit_id, 'steady')),
    );
    await produce(after.sqs, after.queueUrl(NAMES.ingest), toResend);
    await waitUntil(() => steady.delivered.size >= events.length, {
      timeoutMs: 180_000,
      intervalMs: 250,
      what: `${events.length} events delivered`,
    });
    second.child.kill('SIGTERM');
    await second.exited;
    after.sqs.destroy();

    // Assess
    const tally = tallyPairs(expected, [steady.delivered], []);
    console.log(
      [
        `SIGKILL in memory (${SCALE.name}): ${events.length} events pushed, ${deliveredBeforeKill} delivered before the kill`,
        `after the restart: every queue empty (${depthsAfterRestart.join(', ')}); the producer re-sent ${toResend.length} events`,
        `in the end: delivered ${tally.delivered}, duplicates ${tally.duplicates}, lost ${tally.lost.length}`,
      ].join('\n'),
    );
    expect(depthsAfterRestart.every((depth) => depth === 0)).toBe(true);
    expect(toResend.length).toBe(events.length - deliveredBeforeKill);
    expect(toResend.length).toBeGreaterThan(0);
    expect(tally.lost).toEqual([]);
    expect(tally.unknown).toEqual([]);
  }, 300_000);
});
