/**
 * The "prepare" phase of a delivery: from an export, an event and the resolved variables to
 * the exact HTTP request to send. Shared by the delivery function, `test-export` and `render`,
 * so what the CLI shows is what the pipeline sends.
 */
import type { ExportConfig } from '../config/types.js';
import type { AuditEvent } from '../events/auditEvent.js';
import { deliveryId } from '../pipeline/messages/index.js';
import type { OutgoingRequest } from '../transport/http.js';
import { HeaderValueError, headerValueProblem } from './headerValue.js';
import { exportWithPreset, type PresetOptions } from './presets/index.js';
import { signingHeaders, WEBHOOK_HEADERS } from './signing.js';
import { bodyForExport } from './template.js';
import { substituteUrlVariables, substituteVariables } from './variables.js';

/** Sent with every request so receivers can tell where it came from. */
const USER_AGENT = 'tappass-webhooks/0.1';

/**
 * Header carrying the delivery id: the same on every attempt of an (event, export) pair, so a
 * receiver can de-duplicate what at-least-once delivery sends twice.
 */
const IDEMPOTENCY_HEADER = 'Idempotency-Key';

const CONTENT_TYPES = { json: 'application/json', text: 'text/plain; charset=utf-8' } as const;

/** Options of {@link prepareRequest}. */
interface PrepareRequestOptions {
  /** How presets are chosen (tests pass their own Slack hosts). */
  readonly presets?: PresetOptions;
  /**
   * The delivery id, when the caller has it (a delivery message carries it); otherwise it is
   * derived from the event's audit_id and the export, which gives the same value.
   */
  readonly deliveryId?: string;
}

const hasHeader = (headers: Readonly<Record<string, string>>, name: string): boolean =>
  Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());

/** What a request of an export is, whatever the event: its URL, preset and headers. */
interface ExportRequestParts {
  readonly url: string;
  readonly exportConfig: ExportConfig;
  /** The export's headers resolved, with Content-Type and User-Agent when it set none. */
  readonly headers: Readonly<Record<string, string>>;
  readonly hasIdempotencyKey: boolean;
  readonly hasWebhookId: boolean;
}

/**
 * The parts of an export's request that do not depend on the event, resolved once per set of
 * variable values: the delivery engine resolves an export's variables once per invocation and
 * prepares every record with that same object, so the URL, the preset and the headers are
 * worked out once, not per record (docs/performance.md, "Where a delivery's time goes").
 * Errors are not kept: each record meets them again.
 */
const partsByVariables = new WeakMap<
  Readonly<Record<string, string>>,
  Map<ExportConfig, { readonly presets?: PresetOptions; readonly parts: ExportRequestParts }>
>();

const exportRequestParts = (
  configured: ExportConfig,
  variables: Readonly<Record<string, string>>,
  presets: PresetOptions | undefined,
): ExportRequestParts => {
  let byExport = partsByVariables.get(variables);
  const known = byExport?.get(configured);
  if (known !== undefined && known.presets === presets) return known.parts;
  // The URL first: resolved, its host may imply the slack preset (see shared/request/presets/).
  // A `${VAR}` in a query value is percent-encoded there (see substituteUrlVariables).
  const url = substituteUrlVariables(configured.webhook.url, variables, configured.name);
  const exportConfig = exportWithPreset(configured, url, presets);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(exportConfig.webhook.headers)) {
    const resolved = substituteVariables(value, variables, exportConfig.name);
    // validate checked the value as written; a resolved ${VAR} is first seen here.
    const problem = headerValueProblem(resolved);
    if (problem !== undefined) {
      throw new HeaderValueError(exportConfig.name, name, value, problem.kind);
    }
    headers[name] = resolved;
  }
  if (!hasHeader(headers, 'content-type'))
    headers['Content-Type'] = CONTENT_TYPES[exportConfig.format];
  if (!hasHeader(headers, 'user-agent')) headers['User-Agent'] = USER_AGENT;
  const parts: ExportRequestParts = {
    url,
    exportConfig,
    headers,
    hasIdempotencyKey: hasHeader(headers, IDEMPOTENCY_HEADER),
    hasWebhookId: hasHeader(headers, WEBHOOK_HEADERS.id),
  };
  if (byExport === undefined) {
    byExport = new Map();
    partsByVariables.set(variables, byExport);
  }
  byExport.set(configured, { ...(presets === undefined ? {} : { presets }), parts });
  return parts;
};

/**
 * Builds the request for one event. Throws `TemplateError` (render, invalid JSON),
 * `MissingVariableError`, `SigningSecretError` (a signing secret's value cannot be a key) and
 * `HeaderValueError` (a resolved header value HTTP cannot carry);
 * all are permanent for this event.
 *
 * The export's preset (named, or `slack` detected from the resolved URL) supplies the body
 * template and headers the export does not set itself.
 *
 * Every request carries the delivery id twice, as `Idempotency-Key` and `webhook-id`; with
 * `webhook.signing` also `webhook-timestamp` and `webhook-signature` (Standard Webhooks).
 *
 * @example
 * const request = await prepareRequest(exportConfig, event, { PD_ROUTING_KEY: 'abc' });
 */
const prepareRequest = async (
  configured: ExportConfig,
  event: AuditEvent,
  variables: Readonly<Record<string, string>>,
  options: PrepareRequestOptions = {},
): Promise<OutgoingRequest> => {
  const parts = exportRequestParts(configured, variables, options.presets);
  const { url, exportConfig } = parts;
  const { webhook } = exportConfig;
  const body = await bodyForExport(exportConfig).render(event, variables);
  const headers: Record<string, string> = { ...parts.headers };
  const id = options.deliveryId ?? deliveryId(event.audit_id, exportConfig.name);
  if (!parts.hasIdempotencyKey) headers[IDEMPOTENCY_HEADER] = id;
  // Sent signed or not: the Standard Webhooks name of the same id (see shared/request/signing.ts).
  if (!parts.hasWebhookId) headers[WEBHOOK_HEADERS.id] = id;
  // Signed last, over the body exactly as it will be sent.
  if (webhook.signing !== undefined) {
    const signed = signingHeaders(webhook.signing, {
      exportName: exportConfig.name,
      id,
      body,
      variables,
    });
    Object.assign(headers, signed);
  }
  return {
    method: webhook.method,
    url,
    headers,
    body,
    timeoutMs: webhook.timeout_seconds * 1000,
  };
};

export type { PrepareRequestOptions };
export { IDEMPOTENCY_HEADER, prepareRequest, USER_AGENT };
