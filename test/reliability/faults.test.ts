/**
 * Faults of our own infrastructure (issue 16), injected case by case into a stage built from
 * the project's own handler factories: SSM that throttles and hangs, SQS calls that fail before
 * or after SQS applies them, deletes that are lost, records received twice, visibility that
 * ends mid-request, invocations out of time, raises refused past the redrive limit, poison
 * messages. Every case asserts that nothing is lost, and the requests, dead letters and alerts
 * that docs/reliability.md promises for it. The table there is this file's table.
 */
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { deliveryId, newDeliveryMessage } from '../../shared/pipeline/messages/index.js';
import { auditEvents } from '../helpers/pipeline.js';
import type { ReceiverBehaviour } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';
import {
  type Collected,
  EXPORT,
  type FaultStage,
  type FaultStageOptions,
  startFaultStage,
  TOKEN,
} from './faultStage.js';
import { reliabilityScale } from './helpers.js';

const scale = reliabilityScale();
const MAX_ATTEMPTS = 3;
const SETTLE_TIMEOUT_MS = 90_000;

/** What the receiver does with every request. */
type ReceiverMode = 'accepts' | 'refuses' | 'slow-then-accepts';

interface FaultCase {
  readonly name: string;
  readonly receiver: ReceiverMode;
  readonly lastReceive?: number;
  /** Whether the fault was really injected, as many times as set (not a vacuous pass). */
  readonly met: (stage: FaultStage) => boolean;
  /** Injects the fault before the events are pushed. */
  readonly inject: (stage: FaultStage) => void;
  /** What is promised per event: requests the receiver got, dead letters, raised alerts. */
  readonly expect: {
    readonly requests: number;
    readonly deadLetters: number;
    readonly alerts: number;
    /** The `alert` attribute of the dead letter, when there is one. */
    readonly alert?: 'raised' | 'not_raised';
  };
  /** The notice that shows the fault was met and handled (so a case cannot pass vacuously). */
  readonly handledBy: string;
}

const toDeliveryQueue = (stage: FaultStage) => (input: Record<string, unknown>) =>
  input.QueueUrl === stage.queues.delivery(EXPORT);
const toDeadLetterQueue = (stage: FaultStage) => (input: Record<string, unknown>) =>
  input.QueueUrl === stage.queues.deliveryDlq(EXPORT);
const toIngestQueue = (stage: FaultStage) => (input: Record<string, unknown>) =>
  input.QueueUrl === stage.queues.ingest;
const toArchive = (stage: FaultStage) => (input: Record<string, unknown>) =>
  input.QueueUrl === stage.queues.deadLetters;

const delivered = { requests: 1, deadLetters: 0, alerts: 0 } as const;

/** Calls the fake SSM answered with `fault`. */
const answered = (stage: FaultStage, fault: string): number =>
  stage.ssm.calls.filter((call) => call.answer === fault).length;

/** Whether a record was deferred for this reason. */
const deferredBecause = (stage: FaultStage, why: string): boolean =>
  stage.notices.some((notice) => notice.type === 'deferred' && notice.why.includes(why));
const exhausted = { requests: MAX_ATTEMPTS, deadLetters: 1, alerts: 1, alert: 'raised' } as const;

/** The table of docs/reliability.md, "Faults of our own infrastructure". */
const CASES: readonly FaultCase[] = [
  {
    name: 'SSM throttles the first lookups',
    met: (stage) => answered(stage, 'throttle') === 4,
    receiver: 'accepts',
    inject: (stage) => stage.ssm.failNext('throttle', 4),
    expect: delivered,
    handledBy: 'deferred',
  },
  {
    name: 'SSM hangs (no answer at all)',
    met: (stage) => answered(stage, 'hang') === 2,
    receiver: 'accepts',
    inject: (stage) => stage.ssm.failNext('hang', 2),
    expect: delivered,
    handledBy: 'deferred',
  },
  {
    name: 'SSM fails with an internal error',
    met: (stage) => answered(stage, 'internal-error') === 4,
    receiver: 'accepts',
    inject: (stage) => stage.ssm.failNext('internal-error', 4),
    expect: delivered,
    handledBy: 'deferred',
  },
  {
    name: 'the retry write is refused (not applied)',
    met: (stage) => stage.faults.failed.get('SendMessageBatchCommand') === 1,
    receiver: 'refuses',
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageBatchCommand',
        when: toDeliveryQueue(stage),
        timing: 'before',
        times: 1,
      }),
    expect: exhausted,
    handledBy: 'retry_scheduled',
  },
  {
    name: 'the retry write is applied but reported as failed',
    met: (stage) => stage.faults.failed.get('SendMessageBatchCommand') === 1,
    receiver: 'refuses',
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageBatchCommand',
        when: toDeliveryQueue(stage),
        timing: 'after',
        times: 1,
      }),
    expect: exhausted,
    handledBy: 'duplicate_dropped',
  },
  {
    name: 'the dead-letter write is applied but reported as failed',
    met: (stage) => stage.faults.failed.get('SendMessageBatchCommand') === 1,
    receiver: 'refuses',
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageBatchCommand',
        when: toDeadLetterQueue(stage),
        timing: 'after',
        times: 1,
      }),
    expect: exhausted,
    handledBy: 'duplicate_dropped',
  },
  {
    name: 'deletes of settled records are lost (delivered)',
    met: (stage) => stage.eventSource.lostDeletes === 0,
    receiver: 'accepts',
    inject: (stage) => {
      stage.eventSource.lostDeletes = scale.faultEvents;
    },
    expect: delivered,
    handledBy: 'duplicate_dropped',
  },
  {
    name: 'deletes of settled records are lost (retried)',
    met: (stage) => stage.eventSource.lostDeletes === 0,
    receiver: 'refuses',
    inject: (stage) => {
      stage.eventSource.lostDeletes = scale.faultEvents * 2;
    },
    expect: exhausted,
    handledBy: 'duplicate_dropped',
  },
  {
    name: 'the same records are received twice at once',
    met: (stage) => stage.eventSource.twinInvocations === 0,
    receiver: 'refuses',
    inject: (stage) => {
      stage.eventSource.twinInvocations = 2;
    },
    expect: exhausted,
    // The twin waits while the first is in flight; the first's delete then removes both.
    handledBy: 'deferred',
  },
  {
    name: 'visibility ends while the request is in flight',
    met: (stage) => deferredBecause(stage, 'is being delivered now'),
    receiver: 'slow-then-accepts',
    inject: () => undefined,
    expect: delivered,
    handledBy: 'duplicate_dropped',
  },
  {
    name: 'an invocation starts with too little time left',
    met: (stage) =>
      stage.eventSource.shortInvocations === 0 && deferredBecause(stage, 'no time left'),
    receiver: 'accepts',
    inject: (stage) => {
      stage.eventSource.shortInvocations = 1;
    },
    expect: delivered,
    handledBy: 'deferred',
  },
  {
    name: 'the webhook.dlq raise is refused a few times',
    met: (stage) => stage.faults.failed.get('SendMessageCommand') === 2,
    receiver: 'refuses',
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageCommand',
        when: toIngestQueue(stage),
        timing: 'before',
        times: 2,
      }),
    expect: exhausted,
    handledBy: 'dlq_event_raised',
  },
  {
    name: 'the webhook.dlq raise is refused past the redrive limit',
    met: (stage) => (stage.faults.failed.get('SendMessageCommand') ?? 0) >= 3 * scale.faultEvents,
    receiver: 'refuses',
    lastReceive: 3,
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageCommand',
        when: toIngestQueue(stage),
        timing: 'before',
      }),
    expect: { requests: MAX_ATTEMPTS, deadLetters: 1, alerts: 0, alert: 'not_raised' },
    handledBy: 'alert_not_raised',
  },
  {
    name: 'the archive write fails after the raise',
    met: (stage) => stage.faults.failed.get('SendMessageCommand') === 1,
    receiver: 'refuses',
    inject: (stage) =>
      stage.faults.add({
        command: 'SendMessageCommand',
        when: toArchive(stage),
        timing: 'before',
        times: 1,
      }),
    expect: exhausted,
    handledBy: 'dead_letter_archived',
  },
];

const behaviourOf =
  (mode: ReceiverMode) =>
  (index: number): ReceiverBehaviour => {
    if (mode === 'refuses') return { status: 500, body: 'receiver down' };
    // Longer than the stage's visibility timeout (3 s): the record reappears mid-request.
    if (mode === 'slow-then-accepts' && index === 0) return { status: 200, delayMs: 4_500 };
    return { status: 200 };
  };

/** Notices of a type the stage heard. */
const noticeCount = (stage: FaultStage, type: string): number =>
  stage.notices.filter((notice) => notice.type === type).length;

/** The row of docs/reliability.md, "Faults of our own infrastructure". */
const reliabilityRow = (
  name: string,
  stage: FaultStage,
  counts: { events: number; requests: number; deadLetters: number; alerts: number; lost: number },
): string =>
  `| ${name} | ${counts.events} | ${counts.requests} | ${counts.deadLetters} | ${counts.alerts} | ${noticeCount(stage, 'duplicate_dropped')} | ${noticeCount(stage, 'deferred')} | ${counts.lost} |`;

/** Per event: what reached the receiver, the archive and the ingest queue. */
const tally = (stage: FaultStage, events: readonly AuditEvent[], collected: Collected) =>
  events.map((event) => {
    const id = deliveryId(event.audit_id, EXPORT);
    const requests = stage.receiver.requests.filter(
      (request) => request.headers['idempotency-key'] === id,
    );
    const letters = collected.archive.filter((entry) => entry.deadLetter?.delivery_id === id);
    return {
      requests: requests.length,
      withToken: requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`),
      deadLetters: letters.length,
      attemptsCounted: letters[0]?.deadLetter?.attempts,
      alert: letters[0]?.attributes.alert,
      alerts: collected.raised.filter(
        (raised) => raised.audit_id === `${event.audit_id}:dlq:${EXPORT}`,
      ).length,
    };
  });

describe('Faults of our own infrastructure', () => {
  const stack = useTestStack({ sqs: true });
  let stageCounter = 0;
  /** A stage of its own for one test, on the file's SQS server. */
  const startStage = (
    receiver: ReceiverMode,
    options: Pick<FaultStageOptions, 'lastReceive' | 'containers'> = {},
  ): Promise<FaultStage> => {
    stageCounter += 1;
    return startFaultStage({
      sqs: stack.sqs,
      endpoint: stack.server.endpoint,
      stage: `fault${stageCounter}`,
      maxAttempts: MAX_ATTEMPTS,
      receiver: behaviourOf(receiver),
      ...options,
    });
  };

  it.each(CASES.map((fault) => [fault.name, fault] as const))(
    '%s: nothing lost, the promised requests, dead letters and alerts',
    async (_name, fault) => {
      // Prepare
      const stage = await startStage(
        fault.receiver,
        fault.lastReceive === undefined ? {} : { lastReceive: fault.lastReceive },
      );
      try {
        fault.inject(stage);
        const events = auditEvents(scale.faultEvents);

        // Act
        await stage.push(events);
        await stage.settle(SETTLE_TIMEOUT_MS);
        const collected = await stage.collect();

        // Assess
        const perEvent = tally(stage, events, collected);
        const lost = perEvent.filter((entry) =>
          fault.expect.deadLetters === 0 ? entry.requests === 0 : entry.deadLetters === 0,
        );
        expect(lost).toEqual([]);
        for (const entry of perEvent) {
          expect(entry).toEqual({
            requests: fault.expect.requests,
            withToken: true,
            deadLetters: fault.expect.deadLetters,
            // The dead letter counts the requests the receiver really got.
            attemptsCounted: fault.expect.deadLetters === 0 ? undefined : fault.expect.requests,
            alert: fault.expect.alert,
            alerts: fault.expect.alerts,
          });
        }
        expect(stage.notices.map((notice) => notice.type)).toContain(fault.handledBy);
        expect(fault.met(stage)).toBe(true);
        console.log(
          reliabilityRow(fault.name, stage, {
            events: events.length,
            requests: stage.receiver.requests.length,
            deadLetters: collected.archive.length,
            alerts: collected.raised.length,
            lost: lost.length,
          }),
        );
      } finally {
        await stage.close();
      }
    },
  );

  it('bounds what a duplicate costs when it reaches another container: (1 + faults) x max_attempts', async () => {
    // Prepare: two containers, each with its own ledger; deletes are lost, so settled copies
    // come back, and every copy that comes back goes to the container that did not settle it.
    const stage = await startStage('refuses', { containers: 2 });
    try {
      const faults = scale.faultEvents * 2;
      stage.eventSource.lostDeletes = faults;
      const events = auditEvents(scale.faultEvents);

      // Act
      await stage.push(events);
      await stage.settle(SETTLE_TIMEOUT_MS);
      const collected = await stage.collect();

      // Assess: nothing lost, every delivery tried at least max_attempts times, and the whole
      // run within the stated bound.
      const perEvent = tally(stage, events, collected);
      expect(stage.eventSource.lostDeletes).toBe(0);
      expect(perEvent.filter((entry) => entry.deadLetters === 0)).toEqual([]);
      for (const entry of perEvent) expect(entry.requests).toBeGreaterThanOrEqual(MAX_ATTEMPTS);
      const requests = perEvent.reduce((sum, entry) => sum + entry.requests, 0);
      const deadLetters = perEvent.reduce((sum, entry) => sum + entry.deadLetters, 0);
      const alerts = perEvent.reduce((sum, entry) => sum + entry.alerts, 0);
      expect(requests).toBeLessThanOrEqual((events.length + faults) * MAX_ATTEMPTS);
      expect(deadLetters).toBeLessThanOrEqual(events.length + faults);
      expect(alerts).toBeLessThanOrEqual(events.length + faults);
      console.log(
        reliabilityRow(`deletes lost, two containers (${faults} faults)`, stage, {
          events: events.length,
          requests,
          deadLetters,
          alerts,
          lost: 0,
        }),
      );
    } finally {
      await stage.close();
    }
  });

  it('keeps poison messages whole, with the first reader reason, detail and message id', async () => {
    // Prepare
    const stage = await startStage('accepts');
    try {
      const [event] = auditEvents(1) as [AuditEvent];
      const message = newDeliveryMessage(event, EXPORT);
      const bodies = [
        JSON.stringify({ ...message, v: 7 }),
        JSON.stringify({ ...message, attempts: undefined }),
        '{"not json',
      ];

      // Act
      const ids = await stage.pushRaw(bodies);
      await stage.settle(SETTLE_TIMEOUT_MS);
      const { archive, raised } = await stage.collect();

      // Assess
      expect(stage.receiver.requests).toHaveLength(0);
      expect(raised).toEqual([]);
      const kept = archive.map((entry) => ({ body: entry.body, ...entry.attributes }));
      expect(kept).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            body: bodies[0],
            reason: 'malformed',
            detail: 'unknown message version 7',
            source_message_id: ids[0],
            export: EXPORT,
          }),
          expect.objectContaining({
            body: bodies[1],
            reason: 'malformed',
            detail: 'the message has no attempt count',
            source_message_id: ids[1],
          }),
          expect.objectContaining({
            body: bodies[2],
            reason: 'malformed',
            detail: 'the message body is not JSON',
            source_message_id: ids[2],
          }),
        ]),
      );
      expect(kept).toHaveLength(3);
    } finally {
      await stage.close();
    }
  });
});
