// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` in plain strings is the config syntax under test.
/**
 * Signed exports through the CLI, as a user runs it: `test-export` sends a request a
 * Standard Webhooks receiver verifies, and neither it nor `render` ever prints a secret or a
 * signature (signatures are derived from secrets: shown as `v1,***`).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { runCli } from '../helpers/cli.js';
import type { Receiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

/** Each spawned CLI gets this long; a hang fails the test rather than the suite. */
const CLI_TIMEOUT_MS = 30_000;

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OLD_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const stack = useTestStack();
let dir: string;
let receiver: Receiver;
let configFile: string;

beforeAll(async () => {
  dir = await stack.tempDir('cli-signing-');
  receiver = await stack.receiver({ status: 202 });
  configFile = join(dir, 'observability.yaml');
  await writeFile(
    configFile,
    [
      'exports:',
      '  - name: siem',
      '    destination: webhook',
      '    webhook:',
      `      url: "${receiver.url}/hook"`,
      '      signing:',
      '        secret: "${SIGNING_SECRET}"',
      '        previous_secret: "${SIGNING_SECRET_OLD}"',
      '',
    ].join('\n'),
  );
});

/** The `webhook-signature` values a receiver got, for checking the output never shows them. */
const sentSignatures = (): string[] =>
  receiver.requests.flatMap((request) =>
    String(request.headers['webhook-signature'] ?? '')
      .split(' ')
      .map((part) => part.slice(3)),
  );

describe('Command: test-export (signed export)', () => {
  it('sends a request both secrets verify, and prints the signatures masked', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(
      ['test-export', '--config', configFile, '--export', 'siem'],
      {
        env: { SIGNING_SECRET: SECRET, SIGNING_SECRET_OLD: OLD_SECRET },
        timeoutMs: CLI_TIMEOUT_MS,
      },
    );

    // Assess
    expect(code).toBe(0);
    const request = receiver.requests.at(-1);
    const headers = Object.fromEntries(
      Object.entries(request?.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    expect(() => new Webhook(SECRET).verify(request?.body ?? '', headers)).not.toThrow();
    expect(() => new Webhook(OLD_SECRET).verify(request?.body ?? '', headers)).not.toThrow();
    expect(stdout).toContain('  webhook-signature: v1,*** v1,***');
    expect(stdout).toContain(`  webhook-id: ${headers['webhook-id']}`);
    expect(stdout).toContain(`  Idempotency-Key: ${headers['webhook-id']}`);
    expect(stdout).toMatch(/^ {2}webhook-timestamp: \d+$/m);
    const printed = `${stdout}${stderr}`;
    expect(printed).not.toContain(SECRET.slice(6));
    expect(printed).not.toContain(OLD_SECRET.slice(6));
    for (const signature of sentSignatures()) expect(printed).not.toContain(signature);
  });

  it('exits 2 naming the variable, not the value, when a secret cannot be a key', async () => {
    // Prepare
    const requestsBefore = receiver.requests.length;

    // Act
    const { code, stdout, stderr } = await runCli(
      ['test-export', '--config', configFile, '--export', 'siem'],
      {
        env: { SIGNING_SECRET: 'whsec_short+', SIGNING_SECRET_OLD: OLD_SECRET },
        timeoutMs: CLI_TIMEOUT_MS,
      },
    );

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      'export "siem": the signing secret ${SIGNING_SECRET} starts with whsec_',
    );
    expect(`${stdout}${stderr}`).not.toContain('short+');
    expect(receiver.requests.length).toBe(requestsBefore);
  });
});

describe('Command: render (signed export)', () => {
  it('prints the signing headers with the signatures masked', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(
      ['render', '--config', configFile, '--export', 'siem'],
      {
        env: { SIGNING_SECRET: SECRET, SIGNING_SECRET_OLD: OLD_SECRET },
        timeoutMs: CLI_TIMEOUT_MS,
      },
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout).toMatch(/^webhook-id: dlv_[0-9a-f]{32}$/m);
    expect(stdout).toMatch(/^webhook-timestamp: \d+$/m);
    expect(stdout).toContain('webhook-signature: v1,*** v1,***');
    expect(`${stdout}${stderr}`).not.toContain(SECRET.slice(6));
  });

  it('still renders when the secrets are not set here, with a warning for each', async () => {
    // Act
    const { code, stdout, stderr } = await runCli(
      ['render', '--config', configFile, '--export', 'siem'],
      { env: { SIGNING_SECRET: '', SIGNING_SECRET_OLD: '' }, timeoutMs: CLI_TIMEOUT_MS },
    );

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('WARNING: ${SIGNING_SECRET} is not set in this environment or .env');
    expect(stderr).toContain('WARNING: ${SIGNING_SECRET_OLD} is not set');
    expect(stdout).toContain('webhook-signature: v1,*** v1,***');
  });
});
