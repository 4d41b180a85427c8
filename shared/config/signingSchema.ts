/**
 * The `webhook.signing` key of an export: Standard Webhooks signing secrets, each a `${VAR}`
 * reference (a secret written into the config would be committed with it). Accepts
 * `secret` (+ `previous_secret` during a rotation) or `secrets: [new, old]`, and normalizes
 * both to `{ secrets: [...] }`, newest first.
 */
import { z } from 'zod';
import { WEBHOOK_HEADERS } from '../request/signing.js';
import { findMalformedReferences } from '../request/variables.js';
import type { SigningConfig } from './types.js';

/** A whole value that is one `${NAME}` reference and nothing else. */
const SECRET_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** Secrets at once: the current one and, during a rotation, the previous one. */
const MAX_SECRETS = 2;

const PUT_IN_VARIABLE =
  'put the secret in a ${VAR}, e.g. "${WEBHOOK_SIGNING_SECRET}", and set it in SSM Parameter Store (deployed) or the environment or .env (locally): a secret written here would be committed with the config';

/** The value must be exactly one reference; it is never echoed (it may be a real secret). */
const checkSecretReference = (value: string, ctx: z.RefinementCtx<string>): void => {
  if (SECRET_REFERENCE.test(value)) return;
  const malformed = findMalformedReferences(value);
  if (malformed.length > 0) {
    for (const reference of malformed) {
      ctx.addIssue({
        code: 'custom',
        message: reference.message,
        params: { offset: reference.offset },
      });
    }
    return;
  }
  ctx.addIssue({
    code: 'custom',
    message:
      value.includes('${') || value.trim() === ''
        ? `must be exactly one \${VAR} reference and nothing else; ${PUT_IN_VARIABLE}`
        : `is not a \${VAR} reference; ${PUT_IN_VARIABLE}`,
  });
};

const SecretReferenceSchema = z
  .string()
  .superRefine(checkSecretReference)
  .meta({ pattern: SECRET_REFERENCE.source });

const SigningInputSchema = z
  .strictObject({
    secret: SecretReferenceSchema.optional().meta({
      title: 'Signing secret',
      description:
        'The ${VAR} holding the secret: "whsec_" followed by standard base64 (the Standard Webhooks form; the key is the decoded bytes), or any other text (a raw secret; the key is its UTF-8 bytes). At least 24 bytes of key either way.',
      examples: ['${WEBHOOK_SIGNING_SECRET}'],
    }),
    previous_secret: SecretReferenceSchema.optional().meta({
      title: 'Previous signing secret',
      description:
        'During a rotation: the ${VAR} of the secret being replaced. Requests then carry two signatures, so receivers holding either secret accept them. Remove it once every receiver has the new secret.',
      examples: ['${WEBHOOK_SIGNING_SECRET_OLD}'],
    }),
    secrets: z
      .array(SecretReferenceSchema)
      .min(1, { error: 'is an empty list; give the ${VAR} of the signing secret' })
      .max(MAX_SECRETS, {
        error: `has more than ${MAX_SECRETS} secrets; a rotation needs two at most, the new one and the previous one`,
      })
      .optional()
      .meta({
        title: 'Signing secrets',
        description: `Instead of secret/previous_secret: the \${VAR}s of up to ${MAX_SECRETS} secrets, newest first; one signature per secret.`,
        examples: [['${WEBHOOK_SIGNING_SECRET}', '${WEBHOOK_SIGNING_SECRET_OLD}']],
      }),
  })
  .superRefine((value, ctx) => {
    if (value.secret === undefined && value.secrets === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs a secret: write secret: "${WEBHOOK_SIGNING_SECRET}"',
      });
      return;
    }
    if (value.secret !== undefined && value.secrets !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secrets'],
        message: 'give either secret (and previous_secret) or secrets, not both',
      });
      return;
    }
    if (value.previous_secret !== undefined && value.secrets !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['previous_secret'],
        message: 'goes with secret; with secrets, list the previous secret second in secrets',
      });
      return;
    }
    const all = value.secrets ?? [value.secret, value.previous_secret];
    const given = all.filter((reference) => reference !== undefined);
    if (new Set(given).size !== given.length) {
      ctx.addIssue({
        code: 'custom',
        path: value.secrets === undefined ? ['previous_secret'] : ['secrets'],
        message: 'names the same ${VAR} twice; a rotation signs with two different secrets',
      });
    }
  })
  .meta({
    title: 'Signing',
    description:
      'Standard Webhooks signing (standardwebhooks.com): every request carries webhook-id (the stable delivery id), webhook-timestamp and webhook-signature (v1, HMAC-SHA256 over "id.timestamp.body"). Absent: requests are not signed.',
    examples: [{ secret: '${WEBHOOK_SIGNING_SECRET}' }],
  });

/** `{ secret, previous_secret }` or `{ secrets }` in, `{ secrets: [new, old?] }` out. */
const SigningSchema = SigningInputSchema.transform(
  (value): SigningConfig => ({
    secrets:
      value.secrets ??
      [value.secret, value.previous_secret].filter(
        (reference): reference is string => reference !== undefined,
      ),
  }),
);

const SIGNING_HEADER_NAMES: readonly string[] = Object.values(WEBHOOK_HEADERS);

/**
 * With signing on, the Standard Webhooks headers are computed per request; a configured one
 * would be replaced (or, for `webhook-id`, break the signature), so it is an error.
 */
const checkSigningHeaders = (
  webhook: { readonly signing?: SigningConfig; readonly headers: Readonly<Record<string, string>> },
  ctx: z.RefinementCtx<unknown>,
): void => {
  if (webhook.signing === undefined) return;
  for (const name of Object.keys(webhook.headers)) {
    if (SIGNING_HEADER_NAMES.includes(name.toLowerCase())) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers', name],
        message: `is set by signing for every request; remove "${name}" from headers`,
      });
    }
  }
};

export { checkSigningHeaders, MAX_SECRETS, SECRET_REFERENCE, SigningSchema };
