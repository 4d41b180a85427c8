/**
 * The "prepare" phase of a delivery: from an export, an event and the resolved variables to
 * the exact HTTP request to send. Shared by the delivery function, `test-export` and `render`,
 * so what the CLI shows is what the pipeline sends.
 */
import type { ExportConfig } from './config/types.js';
import type { AuditEvent } from './events.js';
import type { OutgoingRequest } from './http.js';
import { deliveryId } from './pipeline/messages.js';
import { bodyForExport } from './template.js';
import { substituteVariables } from './variables.js';

/** Sent with every request so receivers can tell where it came from. */
const USER_AGENT = 'tappass-webhooks/0.1';

/**
 * Header carrying the delivery id: the same on every attempt of an (event, export) pair, so a
 * receiver can de-duplicate what at-least-once delivery sends twice.
 */
const IDEMPOTENCY_HEADER = 'Idempotency-Key';

const CONTENT_TYPES = { json: 'application/json', text: 'text/plain; charset=utf-8' } as const;

const hasHeader = (headers: Readonly<Record<string, string>>, name: string): boolean =>
  Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());

/**
 * Builds the request for one event. Throws `TemplateError` (render, invalid JSON) and
 * `MissingVariableError`; both are permanent for this event.
 *
 * @example
 * const request = await prepareRequest(exportConfig, event, { PD_ROUTING_KEY: 'abc' });
 */
const prepareRequest = async (
  exportConfig: ExportConfig,
  event: AuditEvent,
  variables: Readonly<Record<string, string>>,
): Promise<OutgoingRequest> => {
  const { webhook } = exportConfig;
  const body = await bodyForExport(exportConfig).render(event, variables);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(webhook.headers)) {
    headers[name] = substituteVariables(value, variables, exportConfig.name);
  }
  if (!hasHeader(headers, 'content-type'))
    headers['Content-Type'] = CONTENT_TYPES[exportConfig.format];
  if (!hasHeader(headers, 'user-agent')) headers['User-Agent'] = USER_AGENT;
  if (!hasHeader(headers, IDEMPOTENCY_HEADER)) {
    headers[IDEMPOTENCY_HEADER] = deliveryId(event.audit_id, exportConfig.name);
  }
  return {
    method: webhook.method,
    url: substituteVariables(webhook.url, variables, exportConfig.name),
    headers,
    body,
    timeoutMs: webhook.timeout_seconds * 1000,
  };
};

export { IDEMPOTENCY_HEADER, prepareRequest, USER_AGENT };
