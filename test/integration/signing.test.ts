// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` in plain strings is the config syntax under test.
/**
 * Signing and idempotency through the real local pipeline: what a receiver gets on every
 * attempt is verified with the `standardwebhooks` library, as a receiver would verify it, and
 * the ids a receiver de-duplicates on stay the same across retries.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { DeadLetter } from '../../shared/pipeline/messages/index.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import { EnvSecretResolver } from '../../shared/secrets/resolvers.js';
import { auditEvent, waitUntil } from '../helpers/pipeline.js';
import { type RecordedRequest, sequence } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const stack = useTestStack();
const { receiver, pipeline } = stack;

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** One export's YAML; `signing` is the YAML of the `signing:` map, indented by 8. */
const exportYaml = (name: string, url: string, signing?: string): string =>
  [
    `  - name: ${name}`,
    '    destination: webhook',
    '    webhook:',
    `      url: "${url}"`,
    ...(signing === undefined ? [] : ['      signing:', signing]),
    '    retry:',
    '      max_attempts: 3',
    '      backoff_seconds: [0]',
  ].join('\n');

/** The request's headers as strings, the way a web framework hands them to a verifier. */
const headersOf = (request: RecordedRequest | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(request?.headers ?? {}).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : String(value),
    ]),
  );

/** Verifies a received request as a Standard Webhooks receiver holding `secret` does. */
const verifies = (secret: string, request: RecordedRequest | undefined): boolean => {
  try {
    new Webhook(secret).verify(request?.body ?? '', headersOf(request), { jsonParse: false });
    return true;
  } catch {
    return false;
  }
};

describe('Function: delivery step (signing and idempotency)', () => {
  it('signs every attempt with the same webhook-id; another export gets its own id, unsigned', async () => {
    // Prepare
    const secret = newSecret();
    const signed = await receiver(sequence({ status: 500 }, { status: 200 }));
    const plain = await receiver({ status: 200 });
    const harness = await pipeline({
      yaml: `exports:\n${exportYaml('siem', `${signed.url}/hook`, '        secret: "${SIGNING_SECRET}"')}\n${exportYaml('archive', `${plain.url}/hook`)}\n`,
      secrets: new EnvSecretResolver({ SIGNING_SECRET: secret }),
    });
    const event = auditEvent();

    // Act
    await harness.pushEvents([event]);
    await waitUntil(() => signed.requests.length >= 2 && plain.requests.length >= 1, {
      what: 'a retried signed delivery and an unsigned one',
    });
    await harness.waitForIdle();

    // Assess
    const siemId = deliveryId(event.audit_id, 'siem');
    expect(signed.requests).toHaveLength(2);
    for (const request of signed.requests) {
      expect(request.headers['webhook-id']).toBe(siemId);
      expect(request.headers['idempotency-key']).toBe(siemId);
      expect(request.headers['webhook-signature']).toMatch(/^v1,\S+$/);
      expect(verifies(secret, request)).toBe(true);
      expect(verifies(newSecret(), request)).toBe(false);
    }
    const archiveId = deliveryId(event.audit_id, 'archive');
    expect(archiveId).not.toBe(siemId);
    expect(plain.requests).toHaveLength(1);
    expect(plain.requests[0]?.headers['webhook-id']).toBe(archiveId);
    expect(plain.requests[0]?.headers['idempotency-key']).toBe(archiveId);
    expect(plain.requests[0]?.headers).not.toHaveProperty('webhook-signature');
    expect(plain.requests[0]?.headers).not.toHaveProperty('webhook-timestamp');
  });

  it('during a rotation, receivers holding the new or the previous secret both accept', async () => {
    // Prepare
    const current = newSecret();
    const previous = newSecret();
    const target = await receiver({ status: 204 });
    const harness = await pipeline({
      yaml: `exports:\n${exportYaml(
        'siem',
        `${target.url}/hook`,
        '        secret: "${SIGNING_SECRET}"\n        previous_secret: "${SIGNING_SECRET_OLD}"',
      )}\n`,
      secrets: new EnvSecretResolver({ SIGNING_SECRET: current, SIGNING_SECRET_OLD: previous }),
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    const [request] = await target.waitForRequests(1);
    await harness.waitForIdle();

    // Assess
    expect(request?.headers['webhook-signature']?.toString().split(' ')).toHaveLength(2);
    expect(verifies(current, request)).toBe(true);
    expect(verifies(previous, request)).toBe(true);
    expect(verifies(newSecret(), request)).toBe(false);
  });

  it('dead-letters with reason configuration, sending nothing, when a secret cannot be a key', async () => {
    // Prepare
    const badValue = 'too-short-secret';
    const target = await receiver({ status: 200 });
    const harness = await pipeline({
      yaml: `exports:\n${exportYaml('siem', `${target.url}/hook`, '        secret: "${SIGNING_SECRET}"')}\n`,
      secrets: new EnvSecretResolver({ SIGNING_SECRET: badValue }),
    });

    // Act
    await harness.pushEvents([auditEvent()]);
    await waitUntil(() => harness.noticesOf('dead_letter_archived').length >= 1, {
      what: 'the dead letter to be archived',
    });
    await harness.waitForIdle();

    // Assess
    expect(target.connectionCount).toBe(0);
    const [archived] = await harness.drainArchive();
    const letter = archived?.json as DeadLetter;
    expect(letter).toMatchObject({ reason: 'configuration', attempts: 0 });
    expect(letter.detail).toContain(
      'the signing secret ${SIGNING_SECRET} is shorter than 24 bytes',
    );
    expect(JSON.stringify(harness.notices)).not.toContain(badValue);
    expect(archived?.body).not.toContain(badValue);
  });
});
