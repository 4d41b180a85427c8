/**
 * Dead letters end to end: one `webhook.dlq` event per dead letter, routed by filters to a
 * second export; no loop when that export fails too; and no resolved secret in any queue
 * message, notice, delivered body or log line.
 */
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import { auditEvents, exportsYaml, waitUntil } from '../helpers/pipeline.js';
import { always, type Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const { receiver, pipeline } = useTestStack();

/** A failing export for the original events and a watcher export for `webhook.dlq` events. */
const twoExports = (failing: Receiver, watcher: Receiver, headers?: Record<string, string>) =>
  exportsYaml([
    {
      name: 'primary',
      url: `${failing.url}/hook`,
      eventKinds: ['policy_block'],
      maxAttempts: 2,
      backoffSeconds: [0],
      ...(headers ? { headers } : {}),
    },
    {
      name: 'dlq-watch',
      url: `${watcher.url}/dlq`,
      eventKinds: ['webhook.dlq'],
      maxAttempts: 2,
      backoffSeconds: [0],
    },
  ]);

const parsedBodies = (target: Receiver): Record<string, unknown>[] =>
  target.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>);

describe('Function: DLQ handler (webhook.dlq events)', () => {
  it('raises exactly one webhook.dlq per dead letter and routes it to the export that filters on it', async () => {
    // Prepare
    const failing = await receiver(always({ status: 500, body: 'upstream down' }));
    const watcher = await receiver(always({ status: 200 }));
    const harness = await pipeline({ yaml: twoExports(failing, watcher) });
    const events = auditEvents(3, (index) => ({ agent_id: `agent-${index}` }));

    // Act
    await harness.pushEvents(events);
    await waitUntil(() => watcher.requests.length >= 3, { what: '3 webhook.dlq deliveries' });
    await harness.waitForIdle();

    // Assess
    expect(failing.requests).toHaveLength(6);
    expect(watcher.requests).toHaveLength(3);
    expect(harness.noticesOf('dlq_event_raised')).toHaveLength(3);
    const archive = await harness.drainArchive();
    expect(archive).toHaveLength(3);
    expect(archive.map((message) => message.attributes.export)).toEqual([
      'primary',
      'primary',
      'primary',
    ]);

    const byOriginal = new Map(
      parsedBodies(watcher).map((body) => [(body.original_event as AuditEvent).audit_id, body]),
    );
    expect([...byOriginal.keys()].sort()).toEqual(events.map((event) => event.audit_id).sort());
    for (const event of events) {
      expect(byOriginal.get(event.audit_id)).toMatchObject({
        audit_id: `${event.audit_id}:dlq:primary`,
        event_kind: 'webhook.dlq',
        severity: 'error',
        agent_id: event.agent_id,
        export: 'primary',
        reason: 'exhausted',
        attempts: 2,
        last_status: 500,
        error_class: 'http_status',
        response_snippet: 'upstream down',
        original_event: event,
      });
    }
    // Filters route each kind to its own export only.
    expect(parsedBodies(failing).every((body) => body.event_kind === 'policy_block')).toBe(true);
  });

  it('archives a dead webhook.dlq delivery without raising a second-level webhook.dlq (no loop)', async () => {
    // Prepare
    const failing = await receiver(always({ status: 500 }));
    const watcher = await receiver(always({ status: 400, body: 'bad payload' }));
    const harness = await pipeline({ yaml: twoExports(failing, watcher) });
    const events = auditEvents(2);

    // Act
    await harness.pushEvents(events);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 4, {
      what: '4 archived dead letters',
    });
    await harness.waitForIdle();

    // Assess
    expect(watcher.requests).toHaveLength(2);
    expect(harness.noticesOf('dlq_event_raised')).toHaveLength(2);
    const archivedNotices = harness.noticesOf('dead_letter_archived');
    expect(archivedNotices.filter((notice) => notice.raised)).toHaveLength(2);
    expect(
      archivedNotices.filter((notice) => !notice.raised).map((notice) => notice.export),
    ).toEqual(['dlq-watch', 'dlq-watch']);

    const archive = await harness.drainArchive();
    expect(archive).toHaveLength(4);
    const watcherLetters = archive
      .filter((message) => message.attributes.export === 'dlq-watch')
      .map((message) => message.json as DeadLetter);
    expect(watcherLetters).toHaveLength(2);
    for (const letter of watcherLetters) {
      expect(letter.reason).toBe('permanent');
      expect(letter.event.event_kind).toBe('webhook.dlq');
    }
    // Nothing derived from a webhook.dlq event ever existed.
    const everything = JSON.stringify([harness.notices, harness.calls]);
    expect(everything).not.toContain(':dlq:dlq-watch');
    expect(harness.noticesOf('fanned_out').reduce((sum, n) => sum + n.events, 0)).toBe(4);
  });
});

describe('Function: delivery and DLQ handlers (secrets)', () => {
  const SECRET = 'sekret-XYZ';
  let captured: string[];
  let restoreOutput: () => void;

  beforeEach(() => {
    // Powertools writes JSON lines to process.stdout/stderr; keep every one of them.
    captured = [];
    const stdoutWrite = process.stdout.write;
    const stderrWrite = process.stderr.write;
    const capture = (chunk: unknown): boolean => {
      captured.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(),
      );
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    restoreOutput = () => {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
    };
  });

  afterEach(() => {
    restoreOutput();
  });

  it('keeps a resolved secret out of dead letters, webhook.dlq events, notices, SQS messages and logs', async () => {
    // Prepare
    const failing = await receiver((_index, request) => ({
      status: 500,
      body: `rejected ${request.headers.authorization} at ${request.url}`,
    }));
    const watcher = await receiver(always({ status: 200 }));
    const yaml = twoExports(failing, watcher, { Authorization: 'Bearer ${TOKEN}' }).replace(
      `${failing.url}/hook`,
      `${failing.url}/hook?key=\${TOKEN}`,
    );
    const harness = await pipeline({
      yaml,
      secrets: new EnvSecretResolver({ TOKEN: SECRET }),
      logLevel: 'DEBUG',
    });
    const events = auditEvents(2);

    // Act
    await harness.pushEvents(events);
    await waitUntil(() => watcher.requests.length >= 2, { what: '2 webhook.dlq deliveries' });
    await harness.waitForIdle();
    const archive = await harness.drainArchive();
    const parked = await harness.drainIngestDlq();

    // Assess: the secret was really used, and the failures really were reported...
    expect(failing.requests).toHaveLength(4);
    expect(failing.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(failing.requests[0]?.url).toBe(`/hook?key=${SECRET}`);
    expect(archive).toHaveLength(2);
    const letters = archive.map((message) => message.json as DeadLetter);
    expect(letters[0]?.response_snippet).toContain('rejected Bearer ***');
    const logs = captured.join('');
    expect(logs).toContain('delivery attempt');
    expect(logs).toContain('webhook.dlq event raised');
    expect(logs).toContain('"level":"DEBUG"');

    // ...and the secret is nowhere in what the pipeline wrote.
    expect(JSON.stringify(archive)).not.toContain(SECRET);
    expect(JSON.stringify(parked)).not.toContain(SECRET);
    expect(JSON.stringify(watcher.requests)).not.toContain(SECRET);
    expect(JSON.stringify(harness.notices)).not.toContain(SECRET);
    expect(JSON.stringify(harness.calls)).not.toContain(SECRET);
    const leakingLines = logs.split('\n').filter((line) => line.includes(SECRET));
    expect(leakingLines).toEqual([]);
  });
});
