/**
 * Local stand-ins for the destinations the presets target, each ENFORCING that destination's
 * documented rules on what it receives (required fields, enums, length limits, auth header)
 * and answering the way the real service does: its success status and body, its error status
 * and error body, and named failure scenarios (rate limited, archived channel, ...).
 *
 * Lengths are checked in UTF-16 code units (`string.length`), the strictest way to count
 * characters: a body within these limits is within the destination's, however it counts.
 */
import type { Receiver, ReceiverReply, RecordedRequest } from './receivers.js';
import { startReceiver } from './receivers.js';

/** What a destination's rules say about one request: the answer it gets. */
type Judge = (request: RecordedRequest) => ReceiverReply;

/** A destination receiver: the running server and what it accepted or refused. */
interface DestinationReceiver extends Receiver {
  /** Requests answered with a 2xx. */
  readonly accepted: readonly RecordedRequest[];
  /** Requests refused by the rules, with the reasons given. */
  readonly refused: readonly { readonly request: RecordedRequest; readonly reply: ReceiverReply }[];
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  ({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }) satisfies ReceiverReply;

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  ({
    status,
    headers: { 'content-type': 'text/plain', ...headers },
    body,
  }) satisfies ReceiverReply;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJson = (request: RecordedRequest): unknown => {
  try {
    return JSON.parse(request.body) as unknown;
  } catch {
    return undefined;
  }
};

const headerOf = (request: RecordedRequest, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

const isJsonRequest = (request: RecordedRequest): boolean =>
  request.method === 'POST' &&
  (headerOf(request, 'content-type') ?? '').startsWith('application/json');

/** A non-empty string of at most `max` UTF-16 code units. */
const isText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.trim() !== '' && value.length <= max;

/** Problems of an optional string field: absent is fine, present must be a string within max. */
const optionalText = (value: unknown, max: number, name: string, problems: string[]): void => {
  if (value !== undefined && !(typeof value === 'string' && value.length <= max)) {
    problems.push(`'${name}' must be a string of at most ${max} characters`);
  }
};

// ---------------------------------------------------------------- PagerDuty Events API v2

const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'];
const PAGERDUTY_ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/** What PagerDuty would list in `errors` for this event; empty when it is valid. */
const pagerDutyProblems = (event: unknown): string[] => {
  if (!isObject(event)) return ['Event object is invalid'];
  const problems: string[] = [];
  if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) {
    problems.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  if (typeof event.event_action !== 'string' || !PAGERDUTY_ACTIONS.includes(event.event_action)) {
    problems.push("'event_action' is invalid (must be one of trigger, acknowledge or resolve)");
  }
  optionalText(event.dedup_key, 255, 'dedup_key', problems);
  if (event.event_action === 'trigger') {
    const payload = event.payload;
    if (!isObject(payload)) return [...problems, "'payload' is missing or not an object"];
    if (!isText(payload.summary, 1024)) {
      problems.push("'payload.summary' is missing or longer than 1024 characters");
    }
    if (!isText(payload.source, 255)) problems.push("'payload.source' is missing or invalid");
    if (typeof payload.severity !== 'string' || !PAGERDUTY_SEVERITIES.includes(payload.severity)) {
      problems.push("'payload.severity' must be one of critical, error, warning or info");
    }
    if (
      payload.timestamp !== undefined &&
      (typeof payload.timestamp !== 'string' || Number.isNaN(Date.parse(payload.timestamp)))
    ) {
      problems.push("'payload.timestamp' must be an ISO 8601 date");
    }
    if (payload.custom_details !== undefined && !isObject(payload.custom_details)) {
      problems.push("'payload.custom_details' must be an object");
    }
  }
  return problems;
};

const pagerDutyJudge: Judge = (request) => {
  const event = isJsonRequest(request) ? parseJson(request) : undefined;
  const errors = pagerDutyProblems(event);
  if (errors.length > 0) {
    return json(400, { status: 'invalid event', message: 'Event object is invalid', errors });
  }
  const dedupKey = isObject(event) && typeof event.dedup_key === 'string' ? event.dedup_key : 'x';
  return json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
};

// ---------------------------------------------------------------- Slack incoming webhooks

/** Block Kit's rules for the blocks the presets use; `undefined` when they hold. */
const slackBlocksProblem = (blocks: unknown): string | undefined => {
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50) return 'invalid_blocks';
  for (const block of blocks) {
    if (!isObject(block) || typeof block.type !== 'string') return 'invalid_blocks';
    if (block.type === 'section') {
      const sectionText = block.text;
      if (
        sectionText !== undefined &&
        (!isObject(sectionText) || !isText(sectionText.text, 3000))
      ) {
        return 'invalid_blocks';
      }
      const fields = block.fields;
      if (fields !== undefined) {
        if (!Array.isArray(fields) || fields.length > 10) return 'invalid_blocks';
        if (!fields.every((field) => isObject(field) && isText(field.text, 2000))) {
          return 'invalid_blocks';
        }
      }
      if (sectionText === undefined && fields === undefined) return 'invalid_blocks';
    } else if (block.type === 'context') {
      const elements = block.elements;
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) {
        return 'invalid_blocks';
      }
      if (!elements.every((element) => isObject(element) && isText(element.text, 3000))) {
        return 'invalid_blocks';
      }
    }
  }
  return undefined;
};

const slackJudge: Judge = (request) => {
  const message = isJsonRequest(request) ? parseJson(request) : undefined;
  if (!isObject(message)) return text(400, 'invalid_payload');
  const hasText = isText(message.text, 40_000);
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  if (!hasText && !hasBlocks) return text(400, 'invalid_payload');
  if (message.blocks !== undefined) {
    const problem = slackBlocksProblem(message.blocks);
    if (problem !== undefined) return text(400, problem);
  }
  return text(200, 'ok');
};

// ---------------------------------------------------------------- Datadog Events API v1

const DATADOG_ALERT_TYPES = [
  'error',
  'warning',
  'info',
  'success',
  'user_update',
  'recommendation',
  'snapshot',
];

const datadogJudge: Judge = (request) => {
  if (!/^[0-9a-f]{32}$/.test(headerOf(request, 'dd-api-key') ?? '')) {
    return json(403, { errors: ['Forbidden'] });
  }
  const event = isJsonRequest(request) ? parseJson(request) : undefined;
  if (!isObject(event)) return json(400, { errors: ['Payload is not in the expected format'] });
  const errors: string[] = [];
  if (!isText(event.title, 100)) errors.push('Event title is required (at most 100 characters)');
  if (!isText(event.text, 4000)) errors.push('Event text is required (at most 4000 characters)');
  if (event.alert_type !== undefined && !DATADOG_ALERT_TYPES.includes(String(event.alert_type))) {
    errors.push('Invalid alert_type');
  }
  if (event.priority !== undefined && !['normal', 'low'].includes(String(event.priority))) {
    errors.push('Invalid priority');
  }
  optionalText(event.aggregation_key, 100, 'aggregation_key', errors);
  if (
    event.tags !== undefined &&
    !(Array.isArray(event.tags) && event.tags.every((tag) => isText(tag, 200)))
  ) {
    errors.push('Tags must be strings of at most 200 characters');
  }
  if (errors.length > 0) return json(400, { errors });
  return json(202, { status: 'ok', event: { id: 1, title: event.title } });
};

// ---------------------------------------------------------------- Opsgenie Alert API

const opsgenieJudge: Judge = (request) => {
  if (!/^GenieKey [0-9a-f-]{36}$/.test(headerOf(request, 'authorization') ?? '')) {
    return json(401, { message: 'Could not authenticate', took: 0.001, requestId: 'r-1' });
  }
  const alert = isJsonRequest(request) ? parseJson(request) : undefined;
  const errors: Record<string, string> = {};
  if (!isObject(alert)) {
    errors.body = 'Request body is not valid JSON';
  } else {
    if (!isText(alert.message, 130)) errors.message = 'Message must be 1 to 130 characters';
    if (
      alert.priority !== undefined &&
      !['P1', 'P2', 'P3', 'P4', 'P5'].includes(String(alert.priority))
    ) {
      errors.priority = 'Priority should be one of [P1, P2, P3, P4, P5]';
    }
    const problems: string[] = [];
    optionalText(alert.alias, 512, 'alias', problems);
    optionalText(alert.description, 15_000, 'description', problems);
    optionalText(alert.entity, 512, 'entity', problems);
    optionalText(alert.source, 100, 'source', problems);
    if (problems.length > 0) errors.fields = problems.join('; ');
    const tags = alert.tags;
    if (
      tags !== undefined &&
      !(Array.isArray(tags) && tags.length <= 20 && tags.every((tag) => isText(tag, 50)))
    ) {
      errors.tags = 'At most 20 tags of at most 50 characters';
    }
    const details = alert.details;
    if (details !== undefined) {
      const values = isObject(details) ? Object.values(details) : [undefined];
      const total = isObject(details) ? JSON.stringify(details).length : 0;
      if (!values.every((value) => typeof value === 'string') || total > 8000) {
        errors.details = 'Details must map keys to strings, 8000 characters in all';
      }
    }
  }
  if (Object.keys(errors).length > 0) {
    return json(422, {
      message: 'Request body is not processable. Please check the errors.',
      errors,
      took: 0.001,
      requestId: 'r-2',
    });
  }
  return json(202, { result: 'Request will be processed', took: 0.002, requestId: 'r-3' });
};

// ---------------------------------------------------------------- Microsoft Teams Workflows

const msteamsJudge: Judge = (request) => {
  const refuse = (message: string) =>
    json(400, { error: { code: 'InvalidRequestContent', message } });
  if (Buffer.byteLength(request.body) > 28 * 1024) return refuse('The message is too large');
  const message = isJsonRequest(request) ? parseJson(request) : undefined;
  if (!isObject(message) || message.type !== 'message') {
    return refuse("The request content must be an object with type 'message'");
  }
  const attachments = message.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) {
    return refuse("'attachments' must hold at least one card");
  }
  for (const attachment of attachments) {
    if (
      !isObject(attachment) ||
      attachment.contentType !== 'application/vnd.microsoft.card.adaptive' ||
      !isObject(attachment.content) ||
      attachment.content.type !== 'AdaptiveCard' ||
      typeof attachment.content.version !== 'string' ||
      !Array.isArray(attachment.content.body)
    ) {
      return refuse('Each attachment must be an Adaptive Card');
    }
  }
  return { status: 202 };
};

// ---------------------------------------------------------------- Discord webhooks

/** Discord's embed rules; the problem with the first embed breaking them, if any. */
const discordEmbedsProblem = (embeds: unknown[]): string | undefined => {
  if (embeds.length > 10) return 'at most 10 embeds';
  let total = 0;
  for (const embed of embeds) {
    if (!isObject(embed)) return 'an embed must be an object';
    const fields = embed.fields ?? [];
    if (!Array.isArray(fields) || fields.length > 25) return 'at most 25 fields';
    if (embed.title !== undefined && !isText(embed.title, 256)) return 'title too long';
    if (embed.description !== undefined && !isText(embed.description, 4096)) {
      return 'description too long';
    }
    total += String(embed.title ?? '').length + String(embed.description ?? '').length;
    for (const field of fields) {
      if (!isObject(field) || !isText(field.name, 256) || !isText(field.value, 1024)) {
        return 'field name (256) or value (1024) empty or too long';
      }
      total += field.name.length + field.value.length;
    }
    if (isObject(embed.footer)) {
      if (!isText(embed.footer.text, 2048)) return 'footer too long';
      total += embed.footer.text.length;
    }
    if (embed.color !== undefined) {
      const color = embed.color;
      if (typeof color !== 'number' || !Number.isInteger(color) || color < 0 || color > 0xffffff) {
        return 'color must be an integer from 0 to 16777215';
      }
    }
    if (embed.timestamp !== undefined && Number.isNaN(Date.parse(String(embed.timestamp)))) {
      return 'timestamp must be ISO 8601';
    }
  }
  return total > 6000 ? 'embeds hold more than 6000 characters' : undefined;
};

const discordJudge: Judge = (request) => {
  const message = isJsonRequest(request) ? parseJson(request) : undefined;
  const invalid = (why: string) =>
    json(400, { message: 'Invalid Form Body', code: 50035, errors: { _errors: [why] } });
  if (!isObject(message)) return invalid('body is not a JSON object');
  const { content, embeds } = message;
  if (content !== undefined && !(typeof content === 'string' && content.length <= 2000)) {
    return invalid('content must be at most 2000 characters');
  }
  if (embeds !== undefined && !Array.isArray(embeds)) return invalid('embeds must be a list');
  const hasContent = typeof content === 'string' && content.trim() !== '';
  const hasEmbeds = Array.isArray(embeds) && embeds.length > 0;
  if (!hasContent && !hasEmbeds) {
    return json(400, { message: 'Cannot send an empty message', code: 50006 });
  }
  const problem = hasEmbeds ? discordEmbedsProblem(embeds as unknown[]) : undefined;
  if (problem !== undefined) return invalid(problem);
  return {
    status: 204,
    headers: {
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset-after': '0.400',
    },
  };
};

// ---------------------------------------------------------------- scenarios

/** Answers a destination gives whatever is sent, keyed by scenario name. */
const SCENARIOS = {
  pagerduty: {
    'rate-limited': json(429, {
      status: 'throttle event',
      message: 'Requests for this service are arriving too quickly.  Please retry later.',
    }),
    'server-error': json(500, { status: 'error', message: 'Internal server error' }),
  },
  slack: {
    archived: text(410, 'channel_is_archived'),
    'channel-not-found': text(404, 'channel_not_found'),
    prohibited: text(403, 'action_prohibited'),
    revoked: text(404, 'no_service'),
    'rate-limited': text(429, 'rate_limited', { 'retry-after': '30' }),
    'server-error': text(500, 'rollup_error'),
  },
  datadog: {
    'rate-limited': json(
      429,
      { errors: ['Rate limit exceeded'] },
      {
        'x-ratelimit-limit': '1000',
        'x-ratelimit-period': '60',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '7',
      },
    ),
  },
  opsgenie: {
    'rate-limited': json(429, { message: 'Too many requests', took: 0, requestId: 'r-4' }),
  },
  msteams: {
    'rate-limited': json(
      429,
      { error: { code: 'TooManyRequests', message: 'Rate limit' } },
      {
        'retry-after': '12',
      },
    ),
    'connector-throttled': text(
      200,
      'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0.',
    ),
    'connector-refused': text(
      200,
      'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0.',
    ),
  },
  discord: {
    'rate-limited': json(
      429,
      { message: 'You are being rate limited.', retry_after: 4.5, global: false },
      {
        'retry-after': '5',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': '4.500',
        'x-ratelimit-scope': 'shared',
      },
    ),
    'rate-limited-body-only': json(429, {
      message: 'You are being rate limited.',
      retry_after: 3.2,
      global: true,
    }),
    'unknown-webhook': json(404, { message: 'Unknown Webhook', code: 10015 }),
  },
} as const satisfies Record<string, Record<string, ReceiverReply>>;

const JUDGES = {
  pagerduty: pagerDutyJudge,
  slack: slackJudge,
  datadog: datadogJudge,
  opsgenie: opsgenieJudge,
  msteams: msteamsJudge,
  discord: discordJudge,
} as const;

type Destination = keyof typeof JUDGES;
type Scenario<D extends Destination> = keyof (typeof SCENARIOS)[D];

/**
 * Starts a receiver that judges every request by `destination`'s rules, or answers every
 * request as `scenario` says (after recording it).
 *
 * @example
 * const pagerduty = await startDestinationReceiver('pagerduty');
 * const throttled = await startDestinationReceiver('discord', 'rate-limited');
 */
const startDestinationReceiver = async <D extends Destination>(
  destination: D,
  scenario?: Scenario<D>,
): Promise<DestinationReceiver> => {
  const accepted: RecordedRequest[] = [];
  const refused: { request: RecordedRequest; reply: ReceiverReply }[] = [];
  const judge: Judge =
    scenario === undefined
      ? JUDGES[destination]
      : () => (SCENARIOS[destination] as Record<string, ReceiverReply>)[scenario as string] ?? {};
  const receiver = await startReceiver((_index, request) => {
    const reply = judge(request);
    const status = reply.status ?? 200;
    if (status >= 200 && status < 300) accepted.push(request);
    else refused.push({ request, reply });
    return reply;
  });
  return {
    url: receiver.url,
    port: receiver.port,
    requests: receiver.requests,
    get connectionCount() {
      return receiver.connectionCount;
    },
    get bodyBytesSent() {
      return receiver.bodyBytesSent;
    },
    waitForRequests: receiver.waitForRequests,
    close: receiver.close,
    accepted,
    refused,
  };
};

export type { Destination, DestinationReceiver, Scenario };
export {
  datadogJudge,
  discordJudge,
  msteamsJudge,
  opsgenieJudge,
  pagerDutyJudge,
  pagerDutyProblems,
  SCENARIOS,
  slackJudge,
  startDestinationReceiver,
};
