// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` in plain strings is the config syntax under test.
/**
 * Standard Webhooks signing: every signature is checked the way a receiver checks it, with the
 * `standardwebhooks` library (the reference implementation), not with our own HMAC code.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { ExportConfig } from '../../shared/config/types.js';
import { DEFAULTS } from '../../shared/config/types.js';
import { deliveryId } from '../../shared/pipeline/messages/index.js';
import { IDEMPOTENCY_HEADER, prepareRequest } from '../../shared/request/prepareRequest.js';
import {
  maskSignatures,
  SigningSecretError,
  secretProblem,
  signatureHeader,
  signingHeaders,
  signingKey,
  WEBHOOK_HEADERS,
} from '../../shared/request/signing.js';
import { MissingVariableError } from '../../shared/secrets/errors.js';
import { auditEvent } from '../helpers/pipeline.js';

/** A Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** A raw (non-whsec_) secret of 32 characters. */
const RAW_SECRET = 'raw-signing-secret-0123456789abcd';

const exportWith = (signing?: ExportConfig['webhook']['signing']): ExportConfig => ({
  name: 'siem',
  destination: 'webhook',
  format: 'json',
  webhook: {
    url: 'https://siem.example.com/hook',
    method: 'POST',
    headers: {},
    timeout_seconds: DEFAULTS.timeoutSeconds,
    ...(signing === undefined ? {} : { signing }),
  },
  filters: {},
  retry: { max_attempts: 3, backoff_seconds: [1] },
  delivery: { batch_size: 1, max_concurrency: 2 },
});

/** Verifies like a receiver; throws `WebhookVerificationError` when no signature matches. */
const verify = (secret: string | Uint8Array, body: string, headers: Record<string, string>) => {
  const webhook =
    typeof secret === 'string' ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
  return webhook.verify(body, headers, { jsonParse: false });
};

describe('Function: signatureHeader()', () => {
  it('matches the standardwebhooks reference signature for a whsec_ secret', () => {
    // Prepare
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const reference = new Webhook(secret).sign('msg_1', new Date(1_700_000_000_000), '{"a":1}');

    // Act
    const header = signatureHeader({
      id: 'msg_1',
      timestamp: 1_700_000_000,
      body: '{"a":1}',
      keys: [signingKey(secret)],
    });

    // Assess
    expect(header).toBe(reference);
    expect(header).toBe('v1,hVsFLpmw4Ib/Xm0eZLt3KqYBZdt0U8gdGeuz0EsGv78=');
  });

  it('signs the UTF-8 bytes of a non-ASCII body the way receivers hash it', () => {
    // Prepare
    const secret = newSecret();
    const body = '{"summary":"Politique bloquée — 🚨 naïve résumé"}';
    const id = 'dlv_unicode';
    const timestamp = Math.floor(Date.now() / 1000);

    // Act
    const signature = signatureHeader({ id, timestamp, body, keys: [signingKey(secret)] });

    // Assess
    expect(() =>
      verify(secret, body, {
        [WEBHOOK_HEADERS.id]: id,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: signature,
      }),
    ).not.toThrow();
  });

  it('writes one v1 signature per key, space-separated, each verifiable with its own secret', () => {
    // Prepare
    const current = newSecret();
    const previous = newSecret();
    const unrelated = newSecret();
    const body = '{"x":true}';
    const timestamp = Math.floor(Date.now() / 1000);

    // Act
    const signature = signatureHeader({
      id: 'dlv_rotation',
      timestamp,
      body,
      keys: [signingKey(current), signingKey(previous)],
    });

    // Assess
    const headers = {
      [WEBHOOK_HEADERS.id]: 'dlv_rotation',
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signature,
    };
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(() => verify(current, body, headers)).not.toThrow();
    expect(() => verify(previous, body, headers)).not.toThrow();
    expect(() => verify(unrelated, body, headers)).toThrow('No matching signature found');
  });
});

describe('Function: signingKey()', () => {
  it('uses the UTF-8 bytes of a raw secret, which receivers verify with format "raw"', () => {
    // Prepare
    const body = '{}';
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signatureHeader({
      id: 'dlv_raw',
      timestamp,
      body,
      keys: [signingKey(RAW_SECRET)],
    });
    const headers = {
      [WEBHOOK_HEADERS.id]: 'dlv_raw',
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signature,
    };

    // Act
    const verifyRaw = () => verify(new TextEncoder().encode(RAW_SECRET), body, headers);

    // Assess
    expect(signingKey(RAW_SECRET)).toEqual(Buffer.from(RAW_SECRET, 'utf8'));
    expect(verifyRaw).not.toThrow();
  });

  it('decodes the base64 after whsec_, including + and / characters', () => {
    // Prepare
    const bytes = Buffer.from(Array.from({ length: 33 }, (_, index) => 250 - index * 3));
    const secret = `whsec_${bytes.toString('base64')}`;

    // Act
    const key = signingKey(secret);

    // Assess
    expect(secret).toMatch(/[+/]/);
    expect(key).toEqual(bytes);
  });
});

describe('Function: secretProblem()', () => {
  it.each([
    ['a whsec_ secret of 24 bytes', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', undefined],
    ['a whsec_ secret of 32 bytes', `whsec_${Buffer.alloc(32, 7).toString('base64')}`, undefined],
    ['a raw secret of 32 characters', RAW_SECRET, undefined],
    ['a trailing newline', `${RAW_SECRET}\n`, /whitespace/],
    ['a leading space', ` whsec_${Buffer.alloc(32).toString('base64')}`, /whitespace/],
    ['URL-safe base64', `whsec_${'-_'.repeat(16)}`, /not padded standard base64/],
    [
      'missing padding',
      `whsec_${Buffer.alloc(31).toString('base64').replace(/=+$/, '')}`,
      /base64/,
    ],
    ['a 3-byte whsec_ key', 'whsec_AAAA', /fewer than 24 bytes/],
    ['a 16-byte whsec_ key', `whsec_${Buffer.alloc(16).toString('base64')}`, /fewer than 24/],
    ['a short raw secret', 'hunter2', /shorter than 24 bytes/],
  ])('%s', (_label, secret, expected) => {
    // Act
    const problem = secretProblem(secret);

    // Assess
    if (expected === undefined) {
      expect(problem).toBeUndefined();
    } else {
      expect(problem).toMatch(expected);
      expect(problem).not.toContain(secret.trim());
    }
  });
});

describe('Function: signingHeaders()', () => {
  it('sets the id, the send time in Unix seconds and the signature', () => {
    // Prepare
    const secret = newSecret();

    // Act
    const headers = signingHeaders(
      { secrets: ['${SIGNING_SECRET}'] },
      {
        exportName: 'siem',
        id: 'dlv_fixed',
        body: '{}',
        variables: { SIGNING_SECRET: secret },
        now: new Date('2026-04-17T10:15:03.900Z'),
      },
    );

    // Assess
    expect(headers).toEqual({
      'webhook-id': 'dlv_fixed',
      'webhook-timestamp': '1776420903',
      'webhook-signature': signatureHeader({
        id: 'dlv_fixed',
        timestamp: 1_776_420_903,
        body: '{}',
        keys: [signingKey(secret)],
      }),
    });
  });

  it('names the variable but never the value of an unusable secret', () => {
    // Prepare
    const value = 'whsec_not*base64*at*all*but*long*enough';

    // Act
    const act = () =>
      signingHeaders(
        { secrets: ['${SIGNING_SECRET}'] },
        { exportName: 'siem', id: 'dlv_x', body: '{}', variables: { SIGNING_SECRET: value } },
      );

    // Assess
    expect(act).toThrow(SigningSecretError);
    expect(act).toThrow('export "siem": the signing secret ${SIGNING_SECRET} starts with whsec_');
    let message = '';
    try {
      act();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('not*base64');
  });

  it('throws MissingVariableError when a secret has no value', () => {
    // Act
    const act = () =>
      signingHeaders(
        { secrets: ['${SIGNING_SECRET}', '${SIGNING_SECRET_OLD}'] },
        { exportName: 'siem', id: 'dlv_x', body: '{}', variables: { SIGNING_SECRET: RAW_SECRET } },
      );

    // Assess
    expect(act).toThrow(MissingVariableError);
    expect(act).toThrow('${SIGNING_SECRET_OLD}');
  });
});

describe('Function: maskSignatures()', () => {
  it('shows each signature as v1,*** and leaves other headers alone', () => {
    // Prepare
    const headers = {
      'Content-Type': 'application/json',
      'webhook-id': 'dlv_1',
      'webhook-signature': 'v1,abc+/= v1,def=',
    };

    // Act
    const masked = maskSignatures(headers);

    // Assess
    expect(masked).toEqual({
      'Content-Type': 'application/json',
      'webhook-id': 'dlv_1',
      'webhook-signature': 'v1,*** v1,***',
    });
  });

  it('masks a signature header in any case, and a value without a version', () => {
    // Act
    const masked = maskSignatures({ 'Webhook-Signature': 'garbage' });

    // Assess
    expect(masked).toEqual({ 'Webhook-Signature': '***' });
  });
});

describe('Function: prepareRequest() with signing', () => {
  it('sends webhook-id and Idempotency-Key, both the delivery id, on an unsigned export', async () => {
    // Prepare
    const event = auditEvent();

    // Act
    const request = await prepareRequest(exportWith(), event, {});

    // Assess
    const id = deliveryId(event.audit_id, 'siem');
    expect(request.headers[IDEMPOTENCY_HEADER]).toBe(id);
    expect(request.headers[WEBHOOK_HEADERS.id]).toBe(id);
    expect(request.headers).not.toHaveProperty(WEBHOOK_HEADERS.signature);
    expect(request.headers).not.toHaveProperty(WEBHOOK_HEADERS.timestamp);
  });

  it('signs the final body so that a receiver with the secret verifies it', async () => {
    // Prepare
    const secret = newSecret();
    const event = auditEvent({ detail: 'naïve — ✓' });

    // Act
    const request = await prepareRequest(exportWith({ secrets: ['${SIGNING_SECRET}'] }), event, {
      SIGNING_SECRET: secret,
    });

    // Assess
    const id = deliveryId(event.audit_id, 'siem');
    expect(request.headers[WEBHOOK_HEADERS.id]).toBe(id);
    expect(request.headers[IDEMPOTENCY_HEADER]).toBe(id);
    expect(verify(secret, request.body, { ...request.headers })).toBeUndefined();
    expect(JSON.stringify(request.headers)).not.toContain(secret);
  });

  it('signs with both secrets during a rotation; a receiver holding either one accepts', async () => {
    // Prepare
    const current = newSecret();

    // Act
    const request = await prepareRequest(
      exportWith({ secrets: ['${SIGNING_SECRET}', '${SIGNING_SECRET_OLD}'] }),
      auditEvent(),
      { SIGNING_SECRET: current, SIGNING_SECRET_OLD: RAW_SECRET },
    );

    // Assess
    const headers = { ...request.headers };
    expect(headers[WEBHOOK_HEADERS.signature]?.split(' ')).toHaveLength(2);
    expect(() => verify(current, request.body, headers)).not.toThrow();
    expect(() => verify(new TextEncoder().encode(RAW_SECRET), request.body, headers)).not.toThrow();
  });

  it('a changed body no longer verifies', async () => {
    // Prepare
    const secret = newSecret();
    const request = await prepareRequest(
      exportWith({ secrets: ['${SIGNING_SECRET}'] }),
      auditEvent(),
      { SIGNING_SECRET: secret },
    );

    // Act
    const tampered = () => verify(secret, `${request.body} `, { ...request.headers });

    // Assess
    expect(tampered).toThrow('No matching signature found');
  });
});
