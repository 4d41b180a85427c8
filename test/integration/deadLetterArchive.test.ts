/**
 * The dead-letter archive against the embedded SQS server: listing consumes nothing, ids find
 * dead letters, redrive replays fresh delivery messages and removes what it replayed.
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type EmbeddedSqsServer, localSqsClient, startEmbeddedSqs } from '../../local/sqsServer.js';
import {
  listDeadLetters,
  redriveDeadLetters,
  showDeadLetter,
} from '../../shared/pipeline/deadLetters/archive.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  deliveryId,
  MESSAGE_VERSION,
  newDeliveryMessage,
} from '../../shared/pipeline/messages/index.js';
import { type OutgoingMessage, sendMessages } from '../../shared/sqs/queues.js';
import { auditEvent, drainQueue, queueDepth } from '../helpers/pipeline.js';

/** Reads without waiting: the embedded server answers a short poll with everything visible. */
const FAST = { waitSeconds: 0, visibilitySeconds: 30 } as const;

const deadLetterFor = (
  exportName: string,
  overrides: Partial<DeadLetter> = {},
  event = auditEvent(),
): DeadLetter => ({
  v: MESSAGE_VERSION,
  kind: 'dead_letter',
  delivery_id: deliveryId(event.audit_id, exportName),
  export: exportName,
  reason: 'exhausted',
  detail: 'HTTP 503 from receiver after 3 attempts',
  attempts: 3,
  last_status: 503,
  dead_lettered_at: '2026-04-17T10:20:00.000Z',
  event,
  ...overrides,
});

/** Archives bodies the way the dead-letter step does: with their attributes. */
const archive = async (
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly (DeadLetter | string)[],
): Promise<void> => {
  const outcome = await sendMessages(
    sqs,
    queueUrl,
    entries.map(
      (entry, index): OutgoingMessage =>
        typeof entry === 'string'
          ? {
              id: String(index),
              body: entry,
              attributes: { export: 'alerts', reason: 'malformed' },
            }
          : {
              id: String(index),
              body: JSON.stringify(entry),
              attributes: {
                export: entry.export,
                audit_id: entry.event.audit_id,
                reason: entry.reason,
                delivery_id: entry.delivery_id,
              },
            },
    ),
  );
  expect(outcome.failed).toEqual([]);
};

let server: EmbeddedSqsServer;
let sqs: SQSClient;
let queueCounter = 0;

const createQueue = async (name: string): Promise<string> => {
  const response = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return response.QueueUrl ?? '';
};

/** A fresh archive and two delivery queues per test. */
const queues = async () => {
  queueCounter += 1;
  return {
    archive: await createQueue(`archive-${queueCounter}`),
    alerts: await createQueue(`deliver-alerts-${queueCounter}`),
    slack: await createQueue(`deliver-slack-${queueCounter}`),
  };
};

beforeAll(async () => {
  server = await startEmbeddedSqs();
  sqs = localSqsClient(server.endpoint);
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

describe('Function: listDeadLetters()', () => {
  it('lists every dead letter, oldest first, and leaves them all in the archive', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    const newer = deadLetterFor('alerts', { dead_lettered_at: '2026-04-17T11:00:00.000Z' });
    const older = deadLetterFor('slack', { dead_lettered_at: '2026-04-17T09:00:00.000Z' });
    await archive(sqs, archiveUrl, [newer, older]);

    // Act
    const first = await listDeadLetters(sqs, archiveUrl, FAST);
    const second = await listDeadLetters(sqs, archiveUrl, FAST);

    // Assess
    expect(first.complete).toBe(true);
    expect(first.deadLetters.map((entry) => entry.auditId)).toEqual([
      older.event.audit_id,
      newer.event.audit_id,
    ]);
    expect(first.deadLetters[1]).toMatchObject({
      export: 'alerts',
      reason: 'exhausted',
      deliveryId: newer.delivery_id,
      deadLetter: newer,
    });
    expect(second.deadLetters).toHaveLength(2);
    expect(await queueDepth(sqs, archiveUrl)).toBe(2);
  });

  it('keeps only the dead letters of the export asked for', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    await archive(sqs, archiveUrl, [deadLetterFor('alerts'), deadLetterFor('slack')]);

    // Act
    const { deadLetters } = await listDeadLetters(sqs, archiveUrl, { ...FAST, export: 'slack' });

    // Assess
    expect(deadLetters.map((entry) => entry.export)).toEqual(['slack']);
  });

  it('lists a body that holds no dead letter as malformed, with its export attribute', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    await archive(sqs, archiveUrl, ['not json at all']);

    // Act
    const { deadLetters } = await listDeadLetters(sqs, archiveUrl, FAST);

    // Assess
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      export: 'alerts',
      reason: 'malformed',
      body: 'not json at all',
    });
    expect(deadLetters[0]?.deadLetter).toBeUndefined();
    expect(deadLetters[0]?.archivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('reads a delivery message moved by SQS itself as a dead letter with reason redrive', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    const message: DeliveryMessage = { ...newDeliveryMessage(auditEvent(), 'alerts'), attempts: 2 };
    await archive(sqs, archiveUrl, [JSON.stringify(message)]);

    // Act
    const { deadLetters } = await listDeadLetters(sqs, archiveUrl, FAST);

    // Assess
    expect(deadLetters[0]).toMatchObject({
      export: 'alerts',
      reason: 'redrive',
      deliveryId: message.delivery_id,
      deadLetter: { attempts: 2, event: message.event },
    });
  });

  it('reads more than one receive batch (10 messages) without listing any twice', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    await archive(
      sqs,
      archiveUrl,
      Array.from({ length: 23 }, () => deadLetterFor('alerts')),
    );

    // Act
    const { deadLetters } = await listDeadLetters(sqs, archiveUrl, FAST);

    // Assess
    expect(deadLetters).toHaveLength(23);
    expect(new Set(deadLetters.map((entry) => entry.messageId)).size).toBe(23);
  });
});

describe('Function: showDeadLetter()', () => {
  it('finds a dead letter by delivery_id, audit_id or message id', async () => {
    // Prepare
    const { archive: archiveUrl } = await queues();
    const letter = deadLetterFor('alerts');
    await archive(sqs, archiveUrl, [letter, deadLetterFor('slack')]);
    const { deadLetters } = await listDeadLetters(sqs, archiveUrl, FAST);
    const messageId = deadLetters.find((entry) => entry.export === 'alerts')?.messageId ?? '';

    // Act
    const byDelivery = await showDeadLetter(sqs, archiveUrl, letter.delivery_id, FAST);
    const byAudit = await showDeadLetter(sqs, archiveUrl, letter.event.audit_id, FAST);
    const byMessage = await showDeadLetter(sqs, archiveUrl, messageId, FAST);
    const none = await showDeadLetter(sqs, archiveUrl, 'ae_nothing', FAST);

    // Assess
    for (const found of [byDelivery, byAudit, byMessage]) {
      expect(found.map((entry) => entry.deadLetter)).toEqual([letter]);
    }
    expect(none).toEqual([]);
  });
});

describe('Function: redriveDeadLetters()', () => {
  it('sends a fresh delivery message (attempts 0, same delivery_id and event) and deletes the dead letter', async () => {
    // Prepare
    const urls = await queues();
    const letter = deadLetterFor('alerts');
    await archive(sqs, urls.archive, [letter]);

    // Act
    const outcome = await redriveDeadLetters(
      sqs,
      urls.archive,
      (name) => (name === 'alerts' ? urls.alerts : urls.slack),
      FAST,
    );

    // Assess
    expect(outcome.redriven.map((entry) => entry.deliveryId)).toEqual([letter.delivery_id]);
    expect(outcome.failed).toEqual([]);
    const delivered = await drainQueue(sqs, urls.alerts);
    expect(delivered.map((message) => message.json)).toEqual([
      {
        v: MESSAGE_VERSION,
        delivery_id: letter.delivery_id,
        export: 'alerts',
        event: letter.event,
        attempts: 0,
        // A chain of its own: its copies are never taken for the first chain's duplicates.
        replayed_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
    expect(await queueDepth(sqs, urls.archive)).toBe(0);
  });

  it('replays only the export asked for, and leaves the others in the archive', async () => {
    // Prepare
    const urls = await queues();
    await archive(sqs, urls.archive, [deadLetterFor('alerts'), deadLetterFor('slack')]);

    // Act
    const outcome = await redriveDeadLetters(
      sqs,
      urls.archive,
      (name) => (name === 'alerts' ? urls.alerts : urls.slack),
      { ...FAST, export: 'slack' },
    );

    // Assess
    expect(outcome.redriven.map((entry) => entry.export)).toEqual(['slack']);
    expect(await queueDepth(sqs, urls.slack)).toBe(1);
    expect(await queueDepth(sqs, urls.alerts)).toBe(0);
    const left = await listDeadLetters(sqs, urls.archive, FAST);
    expect(left.deadLetters.map((entry) => entry.export)).toEqual(['alerts']);
  });

  it('replays only the dead letter an id names', async () => {
    // Prepare
    const urls = await queues();
    const wanted = deadLetterFor('alerts');
    await archive(sqs, urls.archive, [wanted, deadLetterFor('alerts')]);

    // Act
    const outcome = await redriveDeadLetters(sqs, urls.archive, () => urls.alerts, {
      ...FAST,
      id: wanted.event.audit_id,
    });

    // Assess
    expect(outcome.redriven.map((entry) => entry.auditId)).toEqual([wanted.event.audit_id]);
    expect(await queueDepth(sqs, urls.alerts)).toBe(1);
    expect(await queueDepth(sqs, urls.archive)).toBe(1);
  });

  it('skips malformed entries and leaves them in the archive', async () => {
    // Prepare
    const urls = await queues();
    await archive(sqs, urls.archive, ['{"half": "a dead letter"}', deadLetterFor('alerts')]);

    // Act
    const outcome = await redriveDeadLetters(sqs, urls.archive, () => urls.alerts, FAST);

    // Assess
    expect(outcome.redriven).toHaveLength(1);
    expect(outcome.skipped.map((entry) => entry.reason)).toEqual(['malformed']);
    const left = await listDeadLetters(sqs, urls.archive, FAST);
    expect(left.deadLetters.map((entry) => entry.body)).toEqual(['{"half": "a dead letter"}']);
  });

  it('replays several dead letters of one delivery once, and removes them all', async () => {
    // Prepare
    const urls = await queues();
    const event = auditEvent();
    await archive(sqs, urls.archive, [
      deadLetterFor('alerts', { dead_lettered_at: '2026-04-17T10:00:00.000Z' }, event),
      deadLetterFor('alerts', { dead_lettered_at: '2026-04-17T12:00:00.000Z', attempts: 5 }, event),
    ]);

    // Act
    const outcome = await redriveDeadLetters(sqs, urls.archive, () => urls.alerts, FAST);

    // Assess
    expect(outcome.redriven).toHaveLength(1);
    expect(outcome.redriven[0]?.deadLetter?.attempts).toBe(5);
    expect(await queueDepth(sqs, urls.alerts)).toBe(1);
    expect(await queueDepth(sqs, urls.archive)).toBe(0);
  });

  it('keeps a dead letter whose delivery queue cannot be found, and says why', async () => {
    // Prepare
    const urls = await queues();
    await archive(sqs, urls.archive, [deadLetterFor('removed-export')]);

    // Act
    const outcome = await redriveDeadLetters(
      sqs,
      urls.archive,
      (name) => {
        throw new Error(`queue for ${name} does not exist`);
      },
      FAST,
    );

    // Assess
    expect(outcome.redriven).toEqual([]);
    expect(outcome.failed.map((failure) => failure.why)).toEqual([
      'queue for removed-export does not exist',
    ]);
    const left = await listDeadLetters(sqs, urls.archive, FAST);
    expect(left.deadLetters).toHaveLength(1);
  });
});
