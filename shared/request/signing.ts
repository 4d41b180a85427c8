/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers that let a receiver check that a request
 * comes from us, was not changed on the way and is not a replay.
 *
 * The signature is `v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")). With two
 * secrets (during a rotation) the header carries two signatures, space-separated, and a
 * receiver accepts the request when any of them verifies with the secret it holds.
 *
 * Written with node:crypto rather than a signing library: it is a few lines of HMAC, and the
 * delivery function keeps no runtime dependency for it. Tests verify the result with the
 * `standardwebhooks` library, as a receiver would.
 *
 * The key of a secret:
 * - `whsec_<base64>` (the Standard Webhooks form): the base64 after the prefix, decoded;
 * - anything else: the secret's UTF-8 bytes, as they are (a "raw" secret).
 * Either way the key must be at least 24 bytes long (the Standard Webhooks minimum).
 */
import { createHmac } from 'node:crypto';
import type { SigningConfig } from '../config/types.js';
import { SecretsError } from '../secrets/errors.js';
import { findVariableReferences, substituteVariables } from './variables.js';

/** The Standard Webhooks headers, lower-case as the specification writes them. */
const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Prefix of a Standard Webhooks secret; what follows is base64. */
const SECRET_PREFIX = 'whsec_';

/** Shortest key accepted, in bytes: 192 bits, the lower bound of the Standard Webhooks spec. */
const MIN_KEY_BYTES = 24;

/** Padded standard base64 (`+` and `/`, not the URL-safe alphabet), as receivers decode it. */
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const HOW_TO_GENERATE = 'generate one with: echo "whsec_$(openssl rand -base64 32)"';

/**
 * A signing secret's value cannot be used. Permanent until someone fixes the value, like a
 * missing variable. The message names the variable, never its value.
 */
class SigningSecretError extends SecretsError {
  /** The variable holding the secret. */
  readonly variable: string;
  readonly exportName: string;

  constructor(variable: string, exportName: string, problem: string) {
    super(`export "${exportName}": the signing secret \${${variable}} ${problem}`);
    this.name = 'SigningSecretError';
    this.variable = variable;
    this.exportName = exportName;
  }
}

/**
 * Why a secret's value cannot be used, or undefined when it can. Never returns (a part of) the
 * value itself.
 */
const secretProblem = (secret: string): string | undefined => {
  if (secret.trim() !== secret) {
    return 'starts or ends with whitespace (a trailing newline from a file?); remove it';
  }
  if (secret.startsWith(SECRET_PREFIX)) {
    const encoded = secret.slice(SECRET_PREFIX.length);
    if (!STANDARD_BASE64.test(encoded)) {
      return `starts with ${SECRET_PREFIX}, but what follows is not padded standard base64 (A-Z, a-z, 0-9, +, /, = padding); ${HOW_TO_GENERATE}`;
    }
    if (Buffer.from(encoded, 'base64').length < MIN_KEY_BYTES) {
      return `decodes to fewer than ${MIN_KEY_BYTES} bytes; ${HOW_TO_GENERATE}`;
    }
    return undefined;
  }
  if (Buffer.byteLength(secret, 'utf8') < MIN_KEY_BYTES) {
    return `is shorter than ${MIN_KEY_BYTES} bytes; ${HOW_TO_GENERATE}`;
  }
  return undefined;
};

/**
 * The HMAC key of a secret: the decoded base64 of a `whsec_` secret, else its UTF-8 bytes.
 * Call {@link secretProblem} first; this does not validate.
 *
 * @example
 * signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').length; // 24
 */
const signingKey = (secret: string): Buffer =>
  secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');

/** What {@link signatureHeader} signs. */
interface SignatureInput {
  /** The `webhook-id`. */
  readonly id: string;
  /** The `webhook-timestamp`: whole seconds since the Unix epoch. */
  readonly timestamp: number;
  /** The body exactly as sent. */
  readonly body: string;
  /** One key per signature, newest first. */
  readonly keys: readonly Uint8Array[];
}

/**
 * The `webhook-signature` value: one `v1,<base64 HMAC-SHA256>` per key, space-separated.
 *
 * @example
 * const key = signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
 * signatureHeader({ id: 'msg_1', timestamp: 1_700_000_000, body: '{}', keys: [key] });
 * // 'v1,x5lVgj0b/JJJaUYaa1+6I5J/EECcryrPlFN4VrkmI94='
 */
const signatureHeader = (input: SignatureInput): string => {
  const content = `${input.id}.${input.timestamp}.${input.body}`;
  return input.keys
    .map((key) => `v1,${createHmac('sha256', key).update(content, 'utf8').digest('base64')}`)
    .join(' ');
};

/** What {@link signingHeaders} needs besides the export's signing config. */
interface SigningRequest {
  readonly exportName: string;
  /** The stable delivery id: the same on every attempt. */
  readonly id: string;
  /** The final body, exactly as it will be sent. */
  readonly body: string;
  /** Resolved `${VAR}` values of the export. */
  readonly variables: Readonly<Record<string, string>>;
  /** Send time. @default new Date() */
  readonly now?: Date;
}

/**
 * The three Standard Webhooks headers for one attempt: the id, the send time and a signature
 * per configured secret. A retry gets a new timestamp and signature and the same id.
 *
 * @throws MissingVariableError when a secret's variable has no value; SigningSecretError when
 *   a value cannot be a key. Neither message holds a value.
 * @example
 * const headers = signingHeaders(
 *   { secrets: ['${WEBHOOK_SECRET}'] },
 *   { exportName: 'siem', id: 'dlv_…', body, variables: { WEBHOOK_SECRET: 'whsec_…' } },
 * );
 * // { 'webhook-id': 'dlv_…', 'webhook-timestamp': '1776420903', 'webhook-signature': 'v1,…' }
 */
const signingHeaders = (
  signing: SigningConfig,
  request: SigningRequest,
): Record<string, string> => {
  const keys = signing.secrets.map((reference) => {
    const secret = substituteVariables(reference, request.variables, request.exportName);
    const problem = secretProblem(secret);
    if (problem !== undefined) {
      const variable = findVariableReferences(reference)[0] ?? reference;
      throw new SigningSecretError(variable, request.exportName, problem);
    }
    return signingKey(secret);
  });
  const timestamp = Math.floor((request.now ?? new Date()).getTime() / 1000);
  return {
    [WEBHOOK_HEADERS.id]: request.id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: signatureHeader({
      id: request.id,
      timestamp,
      body: request.body,
      keys,
    }),
  };
};

/**
 * Headers for printing: each signature in `webhook-signature` shown as `v1,***`. A signature
 * is derived from a secret, so the CLI never prints one; the count still shows whether a
 * rotation (two signatures) is under way.
 *
 * @example
 * maskSignatures({ 'webhook-signature': 'v1,abc= v1,def=' }); // { 'webhook-signature': 'v1,*** v1,***' }
 */
const maskSignatures = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      name.toLowerCase() === WEBHOOK_HEADERS.signature
        ? value
            .split(' ')
            .map((part) => {
              const comma = part.indexOf(',');
              return comma === -1 ? '***' : `${part.slice(0, comma)},***`;
            })
            .join(' ')
        : value,
    ]),
  );

export type { SignatureInput, SigningRequest };
export {
  MIN_KEY_BYTES,
  maskSignatures,
  SECRET_PREFIX,
  SigningSecretError,
  secretProblem,
  signatureHeader,
  signingHeaders,
  signingKey,
  WEBHOOK_HEADERS,
};
