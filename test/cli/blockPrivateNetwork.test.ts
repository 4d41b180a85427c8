/**
 * `--block-private-network` on `test-export` and `start`, as a user runs them (child processes
 * of `tsx cli/main.ts`) against a real receiver on 127.0.0.1: the usual spellings of a
 * loopback address are refused without a connection, and `allow_private_network: true` opens it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localSqsClient } from '../../local/sqsServer.js';
import { sendMessages } from '../../shared/sqs/queues.js';
import { runCli, startCli } from '../helpers/cli.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

/** Each spawned CLI gets this long; a hang fails the test rather than the suite. */
const CLI_TIMEOUT_MS = 30_000;

const stack = useTestStack();
let dir: string;
let receiver: Receiver;

beforeAll(async () => {
  dir = await stack.tempDir('cli-block-private-');
  receiver = await stack.receiver({ status: 200 });
});

let configCounter = 0;

/** Writes a one-export config (`hook`) for `url` and returns its path. */
const writeConfig = async (url: string, allowPrivate = false): Promise<string> => {
  configCounter += 1;
  const file = join(dir, `observability-${configCounter}.yaml`);
  const lines = [
    'exports:',
    '  - name: hook',
    '    destination: webhook',
    '    webhook:',
    `      url: "${url}"`,
    ...(allowPrivate ? ['      allow_private_network: true'] : []),
    '',
  ];
  await writeFile(file, lines.join('\n'));
  return file;
};

const testExport = async (url: string, flags: readonly string[], allowPrivate = false) =>
  runCli(
    ['test-export', '--config', await writeConfig(url, allowPrivate), '--export', 'hook', ...flags],
    {
      timeoutMs: CLI_TIMEOUT_MS,
    },
  );

describe('Command: test-export --block-private-network', () => {
  it.each([
    'http://127.0.0.1:PORT/hook',
    'http://0x7f000001:PORT/hook',
    'http://[::ffff:127.0.0.1]:PORT/hook',
    'http://localhost:PORT/hook',
  ])('refuses %s without connecting: exit 1, blocked, not retried', async (template) => {
    // Prepare
    const url = template.replace('PORT', String(receiver.port));
    const connectionsBefore = receiver.connectionCount;

    // Act
    const { code, stdout, stderr } = await testExport(url, ['--block-private-network']);

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^no response after \d+ ms: refused: the receiver resolves to a private, loopback, link-local or metadata address \(set allow_private_network: true on the export to allow it\)/m,
    );
    expect(stderr).toContain('FAILED: refused: the receiver resolves to a private');
    expect(stderr).toContain('the pipeline would dead-letter it without retrying');
    expect(receiver.connectionCount).toBe(connectionsBefore);
  });

  it('sends to the same address without the flag (the local default)', async () => {
    // Prepare
    const url = `http://0x7f000001:${receiver.port}/hook`;
    const requestsBefore = receiver.requests.length;

    // Act
    const { code, stdout } = await testExport(url, []);

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/^HTTP 200 OK in \d+ ms$/m);
    expect(receiver.requests.length).toBe(requestsBefore + 1);
  });

  it('sends with the flag when the export sets allow_private_network: true', async () => {
    // Prepare
    const requestsBefore = receiver.requests.length;

    // Act
    const { code, stdout } = await testExport(
      `${receiver.url}/hook`,
      ['--block-private-network'],
      true,
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('OK: the receiver accepted the event');
    expect(receiver.requests.length).toBe(requestsBefore + 1);
  });
});

describe('Command: start --block-private-network', () => {
  it('dead-letters a delivery to 127.0.0.1 as permanent without connecting', async () => {
    // Prepare
    const config = await writeConfig(`${receiver.url}/hook`);
    const connectionsBefore = receiver.connectionCount;
    const run = startCli(['start', '--config', config, '--port', '0', '--block-private-network'], {
      timeoutMs: 60_000,
    });
    const endpoint = (await run.waitForLine(/^SQS endpoint: /)).replace('SQS endpoint: ', '');
    const queueUrl = (await run.waitForLine(/^ingest queue: /)).replace('ingest queue: ', '');
    const event = {
      audit_id: 'ae_block_private_1',
      timestamp: '2026-11-28T10:00:00Z',
      event_kind: 'policy_block',
      severity: 'error',
    };

    // Act
    const sqs = localSqsClient(endpoint.trim());
    const outcome = await sendMessages(sqs, queueUrl.trim(), [
      { id: '1', body: JSON.stringify(event) },
    ]);
    sqs.destroy();
    const line = await run.waitForLine(/hook\s+ae_block_private_1\s+DEAD LETTER/);
    run.child.kill('SIGTERM');

    // Assess
    expect(await run.exited).toBe(0);
    expect(outcome.failed).toEqual([]);
    expect(run.stdout()).toContain('private network blocked');
    expect(line).toContain('DEAD LETTER (permanent): refused: the receiver resolves to a private');
    expect(run.stdout()).toMatch(/hook\s+ae_block_private_1\s+blocked_address\s+attempt 1\/5/);
    expect(receiver.connectionCount).toBe(connectionsBefore);
  }, 60_000);
});
