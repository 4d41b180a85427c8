/**
 * `push`: events are validated, invalid ones reported by line and not sent, valid ones packed
 * into JSON arrays and sent to the ingest queue of an embedded SQS server the test starts on a
 * free port.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { parseEventInput, runPush } from '../../cli/push.js';
import { closedPortUrl } from '../../local/receivers.js';
import { localSqsClient } from '../../local/sqsServer.js';
import { EVENTS_PER_PACKED_MESSAGE } from '../../shared/events/auditEvent.js';
import { queueNames } from '../../shared/sqs/queueNames.js';
import { runCli } from '../helpers/cli.js';
import { auditEvent, auditEvents, drainQueue, recordSqsCalls } from '../helpers/pipeline.js';
import { useTestStack } from '../helpers/testStack.js';

let dir: string;
const stack = useTestStack({ sqs: true });
let queueCounter = 0;

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

const createQueue = async (
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> =>
  (await stack.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
    .QueueUrl ?? '';

/** A fresh queue for one in-process test. */
const freshQueue = (attributes: Record<string, string> = {}) => {
  queueCounter += 1;
  return createQueue(`push-test-${queueCounter}`, attributes);
};

type PushedEvent = { readonly audit_id: string };

/** The events of each message on the queue: a JSON array, or one event alone. */
const messagesIn = async (queueUrl: string): Promise<PushedEvent[][]> =>
  (await drainQueue(stack.sqs, queueUrl)).map((message) =>
    Array.isArray(message.json) ? (message.json as PushedEvent[]) : [message.json as PushedEvent],
  );

const auditIdsIn = async (queueUrl: string): Promise<string[]> =>
  (await messagesIn(queueUrl))
    .flat()
    .map((event) => event.audit_id)
    .sort();

beforeAll(async () => {
  dir = await stack.tempDir('cli-push-');
});

describe('Command: push', () => {
  it('reports an invalid line by number, sends the valid ones, and exits 1', async () => {
    // Prepare
    const ingestUrl = await createQueue(queueNames('local').ingest);
    const file = join(dir, 'events.ndjson');
    const lines = [
      JSON.stringify(auditEvent({ audit_id: 'ae_push_1' })),
      JSON.stringify(auditEvent({ audit_id: 'ae_push_2' })),
      JSON.stringify({ audit_id: 'ae_push_3', event_kind: 'detection', severity: 'urgent' }),
      '',
      JSON.stringify(auditEvent({ audit_id: 'ae_push_5' })),
    ];
    await writeFile(file, `${lines.join('\n')}\n`);

    // Act
    const { code, stdout, stderr } = await runCli(
      ['push', file, '--endpoint', stack.server.endpoint],
      {
        timeoutMs: 30_000,
      },
    );

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain(
      `${file}: line 3: timestamp: is required; severity: must be one of debug, info, warn, error, critical, got "urgent"`,
    );
    expect(stdout).toContain(`pushed 3 of 4 events to ${ingestUrl} (1 invalid, 0 refused)`);
    expect(await auditIdsIn(ingestUrl)).toEqual(['ae_push_1', 'ae_push_2', 'ae_push_5']);
  });
});

describe('Function: parseEventInput()', () => {
  it('reads a line that is not JSON as invalid, with its line number', () => {
    // Act
    const parsed = parseEventInput(`${JSON.stringify(auditEvent())}\n{oops\n`, 'ndjson');

    // Assess
    expect(parsed.events.map((found) => found.where)).toEqual(['line 1']);
    expect(parsed.invalid).toEqual([
      { where: 'line 2', problem: expect.stringMatching(/^not JSON/) },
    ]);
  });

  it('reads a pretty-printed single event as one event when the format is auto', () => {
    // Act
    const parsed = parseEventInput(JSON.stringify(auditEvent(), null, 2), 'auto');

    // Assess
    expect(parsed.events).toHaveLength(1);
    expect(parsed.invalid).toEqual([]);
  });

  it('reports an invalid item of a JSON array by its position', () => {
    // Act
    const parsed = parseEventInput(JSON.stringify([auditEvent(), { audit_id: 'x' }]), 'json');

    // Assess
    expect(parsed.events.map((found) => found.where)).toEqual(['item 1']);
    expect(parsed.invalid.map((entry) => entry.where)).toEqual(['item 2']);
  });
});

describe('Function: runPush()', () => {
  it('sends every event of a .json array to --queue-url and returns 0', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();
    const queueUrl = await freshQueue();
    const file = join(dir, 'events.json');
    await writeFile(
      file,
      JSON.stringify(
        Array.from({ length: 12 }, (_, index) => auditEvent({ audit_id: `ae_arr_${index + 10}` })),
      ),
    );

    // Act
    const code = await runPush({ file, queueUrl, endpoint: stack.server.endpoint }, output);

    // Assess
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([`pushed 12 of 12 events to ${queueUrl} (0 invalid, 0 refused)`]);
    expect(await auditIdsIn(queueUrl)).toHaveLength(12);
  });

  it('packs events into JSON arrays of at most 100, in order, sent with SendMessageBatch', async () => {
    // Prepare
    const { out, err, output } = collectingOutput();
    const queueUrl = await freshQueue();
    const file = join(dir, 'many.ndjson');
    const events = auditEvents(EVENTS_PER_PACKED_MESSAGE + 20);
    await writeFile(file, events.map((event) => JSON.stringify(event)).join('\n'));
    const sqs = localSqsClient(stack.server.endpoint);
    const calls = recordSqsCalls(sqs);

    // Act
    const code = await runPush({ file, queueUrl }, output, { sqs });
    sqs.destroy();

    // Assess: two messages, small enough together for one request.
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toEqual([`pushed 120 of 120 events to ${queueUrl} (0 invalid, 0 refused)`]);
    const messages = await messagesIn(queueUrl);
    expect(messages.map((message) => message.length)).toEqual([EVENTS_PER_PACKED_MESSAGE, 20]);
    expect(messages.flat().map((event) => event.audit_id)).toEqual(
      events.map((event) => event.audit_id),
    );
    const sends = calls.filter((call) => call.command.startsWith('SendMessage'));
    expect(sends.map((call) => [call.command, call.entries])).toEqual([
      ['SendMessageBatchCommand', 2],
    ]);
  });

  it('names the events of a message SQS refuses, by their first and last line', async () => {
    // Prepare: a queue that takes messages of 1 KiB at most; 10 events are about 2 KiB.
    const { out, err, output } = collectingOutput();
    const queueUrl = await freshQueue({ MaximumMessageSize: '1024' });
    const file = join(dir, 'refused.ndjson');
    await writeFile(
      file,
      auditEvents(10)
        .map((event) => JSON.stringify(event))
        .join('\n'),
    );

    // Act
    const code = await runPush({ file, queueUrl, endpoint: stack.server.endpoint }, output);

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file}: line 1 to line 10 \\(10 events\\): refused by SQS \\(InvalidParameterValue\\): .*shorter than 1024 bytes`,
        ),
      ),
    ]);
    expect(out).toEqual([`pushed 0 of 10 events to ${queueUrl} (0 invalid, 10 refused)`]);
    expect(await auditIdsIn(queueUrl)).toEqual([]);
  });

  it('reads events from stdin, one per line', async () => {
    // Prepare
    const { output } = collectingOutput();
    const queueUrl = await freshQueue();
    const text = [auditEvent({ audit_id: 'ae_in_1' }), auditEvent({ audit_id: 'ae_in_2' })]
      .map((event) => JSON.stringify(event))
      .join('\n');

    // Act
    const code = await runPush({ file: '-', queueUrl, endpoint: stack.server.endpoint }, output, {
      stdin: Readable.from([text]),
    });

    // Assess
    expect(code).toBe(0);
    expect(await auditIdsIn(queueUrl)).toEqual(['ae_in_1', 'ae_in_2']);
  });

  it('sends nothing when no event is valid, and returns 1', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const queueUrl = await freshQueue();
    const file = join(dir, 'bad.ndjson');
    await writeFile(file, '{"audit_id": "only"}\n');

    // Act
    const code = await runPush({ file, queueUrl, endpoint: stack.server.endpoint }, output);

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}: line 1: event_kind: is required; timestamp: is required; severity: is required; nothing sent`,
    ]);
    expect(await auditIdsIn(queueUrl)).toEqual([]);
  });

  it('sends a .json and an .ndjson file that start with a UTF-8 byte order mark', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const queueUrl = await freshQueue();
    const json = join(dir, 'bom.json');
    const ndjson = join(dir, 'bom.ndjson');
    await writeFile(json, `\uFEFF${JSON.stringify(auditEvent({ audit_id: 'ae_bom_json' }))}`);
    await writeFile(
      ndjson,
      `\uFEFF${JSON.stringify(auditEvent({ audit_id: 'ae_bom_1' }))}\n${JSON.stringify(auditEvent({ audit_id: 'ae_bom_2' }))}\n`,
    );

    // Act
    const codes = [
      await runPush({ file: json, queueUrl, endpoint: stack.server.endpoint }, output),
      await runPush({ file: ndjson, queueUrl, endpoint: stack.server.endpoint }, output),
    ];

    // Assess
    expect(codes).toEqual([0, 0]);
    expect(err).toEqual([]);
    expect(await auditIdsIn(queueUrl)).toEqual(['ae_bom_1', 'ae_bom_2', 'ae_bom_json']);
  });

  it('sends no event holding a number it cannot keep exactly, and says which on its line', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const queueUrl = await freshQueue();
    const file = join(dir, 'numbers.ndjson');
    const exact = JSON.stringify(auditEvent({ audit_id: 'ae_exact', n: 9007199254740992 }));
    const lossy = JSON.stringify(auditEvent({ audit_id: 'ae_lossy', n: 0 })).replace(
      '"n":0',
      '"n":{"ids":[1,-9007199254740993]}',
    );
    await writeFile(file, `${exact}\n${lossy}\n`);

    // Act
    const code = await runPush({ file, queueUrl, endpoint: stack.server.endpoint }, output);

    // Assess
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}: line 2: n.ids[1]: the event holds the number -9007199254740993, which cannot be kept exactly (it would arrive as -9007199254740992); send it as a string`,
    ]);
    expect(await auditIdsIn(queueUrl)).toEqual(['ae_exact']);
  });

  it('returns 2 for a file that cannot be read', async () => {
    // Prepare
    const { err, output } = collectingOutput();

    // Act
    const code = await runPush({ file: join(dir, 'missing.ndjson') }, output);

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([`${join(dir, 'missing.ndjson')}: cannot read (no such file)`]);
  });

  it('says how to start the local stack when nothing listens at the endpoint, and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();
    const endpoint = await closedPortUrl();
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify(auditEvent()));

    // Act
    const code = await runPush({ file, endpoint }, output);

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      `no SQS server answers at ${endpoint}: start the local stack with \`npm start\`, or pass --endpoint <url>`,
    ]);
  });
});
