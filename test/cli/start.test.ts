import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { localSqsClient } from '../../local/sqsServer.js';
import type { AuditEvent } from '../../shared/events/auditEvent.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { runCli, startCli } from '../helpers/cli.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

const eventsFor = (count: number, prefix: string): AuditEvent[] =>
  Array.from({ length: count }, (_, index) => ({
    audit_id: `${prefix}_${index}`,
    timestamp: '2026-11-28T10:00:00Z',
    event_kind: 'policy_block',
    severity: 'error',
    agent_id: 'test-agent',
  }));

const endpointAndQueue = async (run: ReturnType<typeof startCli>) => {
  const endpoint = (await run.waitForLine(/^SQS endpoint: /)).replace('SQS endpoint: ', '').trim();
  const queueUrl = (await run.waitForLine(/^ingest queue: /)).replace('ingest queue: ', '').trim();
  return { endpoint, queueUrl };
};

const push = async (endpoint: string, queueUrl: string, events: readonly AuditEvent[]) => {
  const outcome = await sendMessages(
    localSqsClient(endpoint),
    queueUrl,
    events.map((event) => ({ id: event.audit_id, body: JSON.stringify(event) })),
  );
  expect(outcome.failed).toEqual([]);
};

const distinctAuditIds = (receiver: Receiver): Set<string> =>
  new Set(receiver.requests.map((request) => (JSON.parse(request.body) as AuditEvent).audit_id));

describe('Command: start', () => {
  const stack = useTestStack();
  let dir: string;
  let receiver: Receiver;

  beforeEach(async () => {
    dir = await stack.tempDir('tappass-start-');
  });

  const writeConfig = async (url: string): Promise<string> => {
    const file = join(dir, 'observability.yaml');
    await writeFile(
      file,
      `exports:\n  - name: local-hook\n    destination: webhook\n    webhook:\n      url: "${url}"\n      headers:\n        Authorization: "Bearer \${HOOK_TOKEN}"\n`,
    );
    return file;
  };

  it('runs the demo to its end without an AWS account, showing a delivery, a retry, a dead letter and its webhook.dlq event', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(['start', '--port', '0', '--exit-after-demo'], {
      timeoutMs: 90_000,
    });

    // Assess
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^ingest queue: http:\/\/\S+tappass-local-ingest$/m);
    expect(stdout).toMatch(/pagerduty-alerts\s+ae_demo_\S+\s+202\s+attempt 1\/5/);
    expect(stdout).toMatch(/flaky-archive\s+\S+\s+retry: attempt 2 in 1 s/);
    expect(stdout).toMatch(/broken-bus\s+\S+\s+DEAD LETTER \(exhausted\)/);
    expect(stdout).toMatch(/dlq-alerts\s+\S+:dlq:broken-bus\s+200/);
    expect(stdout).toMatch(/^demo complete: /m);
    expect(stdout).not.toContain('demo-routing-key-0123456789');
  }, 120_000);

  it('prints a push hint that works as printed on a port other than the default', async () => {
    // Prepare
    receiver = await stack.receiver({ status: 204 });
    const config = await writeConfig(`${receiver.url}/hook`);
    const run = startCli(['start', '--config', config, '--port', String(await freePort())], {
      env: { HOOK_TOKEN: 'tok-hint' },
    });
    const hint = await run.waitForLine(/^push events with: /);
    // `npm run push -- <args>`: the arguments as printed, the file name aside (a placeholder).
    const printed = /npm run push -- (\S+) (.*?),/.exec(hint);
    const events = join(dir, 'events.ndjson');
    await writeFile(
      events,
      `${eventsFor(2, 'ae_hint')
        .map((event) => JSON.stringify(event))
        .join('\n')}\n`,
    );

    // Act
    const pushed = await runCli(['push', events, ...(printed?.[2] ?? '').split(' ')]);
    await receiver.waitForRequests(2, 30_000);
    run.child.kill('SIGTERM');

    // Assess
    expect(printed?.[1]).toBe('events.ndjson');
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(distinctAuditIds(receiver)).toEqual(new Set(['ae_hint_0', 'ae_hint_1']));
    expect(await run.exited).toBe(0);
  }, 60_000);

  it('runs a user config with ${VAR}s from the environment and delivers what a producer pushes', async () => {
    // Prepare
    receiver = await stack.receiver({ status: 204 });
    const config = await writeConfig(`${receiver.url}/hook`);
    const run = startCli(['start', '--config', config, '--port', '0'], {
      env: { HOOK_TOKEN: 'tok-secret-42' },
    });
    const { endpoint, queueUrl } = await endpointAndQueue(run);

    // Act
    await push(endpoint, queueUrl, eventsFor(5, 'ae_user'));
    await receiver.waitForRequests(5, 30_000);
    run.child.kill('SIGTERM');

    // Assess
    expect(await run.exited).toBe(0);
    expect(distinctAuditIds(receiver).size).toBe(5);
    expect(receiver.requests[0]?.headers.authorization).toBe('Bearer tok-secret-42');
    expect(run.stdout()).toMatch(/local-hook\s+ae_user_\d\s+204\s+attempt 1\/5/);
    expect(run.stdout()).toContain('stopped');
    expect(run.stdout() + run.stderr()).not.toContain('tok-secret-42');
  }, 60_000);

  it('exits 2 with the validate errors for an invalid config, and for a missing variable', async () => {
    // Prepare
    const invalid = join(dir, 'bad.yaml');
    await writeFile(invalid, 'exports:\n  - name: x\n    destination: webhok\n');
    const missingVariable = await writeConfig('http://127.0.0.1:9/hook');

    // Act
    const bad = await runCli(['start', '--config', invalid, '--port', '0']);
    const missing = await runCli(['start', '--config', missingVariable, '--port', '0'], {
      env: { HOOK_TOKEN: '' },
    });

    // Assess
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:3:\d+ exports\[0\]\.destination/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('export "local-hook" needs ${HOOK_TOKEN}');
  }, 60_000);

  it('loses nothing when stopped with SIGTERM mid-stream: after a restart every pushed event is delivered', async () => {
    // Prepare
    receiver = await stack.receiver({ status: 200, delayMs: 20 });
    const config = await writeConfig(`${receiver.url}/hook`);
    const port = String(await freePort());
    const args = ['start', '--config', config, '--port', port, '--data-dir', join(dir, 'sqs')];
    const env = { HOOK_TOKEN: 'x' };
    const first = startCli(args, { env });
    const { endpoint, queueUrl } = await endpointAndQueue(first);
    const events = eventsFor(300, 'ae_term');

    // Act
    await push(endpoint, queueUrl, events);
    await receiver.waitForRequests(20, 30_000);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const deliveredBeforeRestart = distinctAuditIds(receiver).size;
    const second = startCli(args, { env });
    await endpointAndQueue(second);
    const deadline = Date.now() + 60_000;
    while (distinctAuditIds(receiver).size < events.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    second.child.kill('SIGTERM');
    await second.exited;

    // Assess
    expect(deliveredBeforeRestart).toBeLessThan(events.length);
    expect(distinctAuditIds(receiver).size).toBe(events.length);
  }, 120_000);
});
