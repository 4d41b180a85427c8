/**
 * `dlq list | show | redrive` after a real dead letter: the local pipeline runs on an embedded
 * SQS server, a receiver answers 500 until the test switches it to 200, and the CLI runs as a
 * child process against the server's endpoint.
 */
import { runDlq } from '../../cli/dlq.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import { runCli } from '../helpers/cli.js';
import {
  auditEvent,
  exportsYaml,
  type PipelineHarness,
  queueDepth,
  waitUntil,
} from '../helpers/pipeline.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const CLI_TIMEOUT_MS = 30_000;

const collectingOutput = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    output: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

const stack = useTestStack();
let status = 500;
let receiver: Receiver;
let harness: PipelineHarness;

/** Requests that carried this audit event. */
const requestsFor = (event: AuditEvent) =>
  receiver.requests.filter(
    (request) => (JSON.parse(request.body) as AuditEvent).audit_id === event.audit_id,
  );

/** Pushes one event and waits until its dead letter is in the archive. */
const deadLetter = async (event: AuditEvent): Promise<void> => {
  const before = harness.noticesOf('dead_letter_archived').length;
  await harness.pushEvents([event]);
  await waitUntil(() => harness.noticesOf('dead_letter_archived').length > before, {
    what: `the dead letter of ${event.audit_id}`,
  });
};

beforeAll(async () => {
  receiver = await stack.receiver(() => ({ status, body: `status ${status}` }));
  harness = await stack.pipeline({
    // Only policy_block reaches the export: the webhook.dlq event raised for the dead letter
    // must not become a second dead letter.
    yaml: exportsYaml([
      { name: 'alerts', url: receiver.url, maxAttempts: 1, eventKinds: ['policy_block'] },
    ]),
  });
});

describe('Command: dlq', () => {
  it('lists a forced dead letter, then redrives it to the receiver once it answers 200', async () => {
    // Prepare
    status = 500;
    const event = auditEvent({ event_kind: 'policy_block' });
    await deadLetter(event);
    const endpoint = harness.server.endpoint;

    // Act
    const listed = await runCli(['dlq', 'list', '--endpoint', endpoint], {
      timeoutMs: CLI_TIMEOUT_MS,
    });

    // Assess
    expect(listed.code).toBe(0);
    const lines = listed.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^EXPORT\s+AUDIT_ID\s+ATTEMPTS\s+LAST STATUS\s+REASON\s+ALERT\s+DEAD-LETTERED AT$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^alerts\\s+${event.audit_id}\\s+1\\s+500\\s+exhausted\\s+raised\\s+\\d{4}-\\d{2}-\\d{2}T`,
      ),
    );
    expect(listed.stdout).toContain(`1 dead letter in ${harness.queues.deadLetters}`);
    expect(await queueDepth(harness.sqs, harness.queues.deadLetters)).toBe(1);

    // Act
    status = 200;
    const redriven = await runCli(['dlq', 'redrive', '--endpoint', endpoint], {
      timeoutMs: CLI_TIMEOUT_MS,
    });

    // Assess
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toContain(
      'redriven 1 dead letter to their delivery queues (alerts: 1), attempts reset to 0',
    );
    await waitUntil(() => requestsFor(event).length === 2, { what: 'the redriven delivery' });
    const replay = requestsFor(event)[1];
    expect(replay?.headers['idempotency-key']).toBe(deliveryId(event.audit_id, 'alerts'));
    await harness.waitForIdle();
    expect(await queueDepth(harness.sqs, harness.queues.deadLetters)).toBe(0);
  });
});

describe('Function: runDlq()', () => {
  it('shows a dead letter as JSON by its audit_id, leaving it in the archive', async () => {
    // Prepare
    status = 503;
    const event = auditEvent({ event_kind: 'policy_block' });
    await deadLetter(event);
    const { out, output } = collectingOutput();

    // Act
    const code = await runDlq(
      { action: 'show', id: event.audit_id, endpoint: harness.server.endpoint },
      output,
      { sqs: harness.sqs },
    );

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      kind: 'dead_letter',
      export: 'alerts',
      reason: 'exhausted',
      attempts: 1,
      last_status: 503,
      response_snippet: 'status 503',
      event,
      // The archive's attribute: the dead-letter function raised its webhook.dlq event.
      alert: 'raised',
    });
    expect(await queueDepth(harness.sqs, harness.queues.deadLetters)).toBe(1);
  });

  it('returns 1 when no dead letter has the id', async () => {
    // Prepare
    const { err, output } = collectingOutput();

    // Act
    const code = await runDlq(
      { action: 'show', id: 'ae_never_seen', endpoint: harness.server.endpoint },
      output,
      { sqs: harness.sqs },
    );

    // Assess
    expect(code).toBe(1);
    expect(err[0]).toContain(
      'no dead letter with delivery_id, audit_id or message id "ae_never_seen"',
    );
  });

  it('lists nothing for another export', async () => {
    // Prepare
    const { out, output } = collectingOutput();

    // Act
    const code = await runDlq(
      { action: 'list', export: 'slack', endpoint: harness.server.endpoint },
      output,
      { sqs: harness.sqs },
    );

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([`no dead letters for export slack in ${harness.queues.deadLetters}`]);
  });

  it('says the archive queue is missing on another stage, and returns 2', async () => {
    // Prepare
    const { err, output } = collectingOutput();

    // Act
    const code = await runDlq(
      { action: 'list', stage: 'prod', endpoint: harness.server.endpoint },
      output,
      { sqs: harness.sqs },
    );

    // Assess
    expect(code).toBe(2);
    expect(err[0]).toContain('queue tappass-prod-dead-letters does not exist');
  });
});
