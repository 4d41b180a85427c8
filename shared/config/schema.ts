/**
 * The one source of truth for the shape of `config/observability.yaml`: a zod schema that
 * validates the file and also emits `schema/observability.schema.json` for editors.
 *
 * Checks that JSON Schema cannot express (URL parsing, `${VAR}` syntax) are zod refinements on
 * the values themselves; checks across keys (unique names, Liquid templates) live in
 * `checks.ts`. Every key carries a title and a description, which editors show as docs.
 */
import { z } from 'zod';
import { SEVERITIES } from '../events/auditEvent.js';
import { describeHeaderValueProblem, headerValueProblem } from '../request/headerValue.js';
import { findMalformedReferences, findVariableReferences } from '../request/variables.js';
import { checkFlowControl, FLOW_CONTROL_KEYS } from './flowControlSchema.js';
import { PresetSchema } from './presetSchema.js';
import { checkSigningHeaders, SigningSchema } from './signingSchema.js';
import { suggest } from './suggest.js';
import { BODY_FORMATS, DEFAULTS, HTTP_METHODS, type ProducerConfig } from './types.js';
import { describeValue, orList } from './wording.js';

/**
 * Export names become part of SQS queue names (`tappass-<stage>-deliver-<name>-dlq`, at most
 * 80 characters of `[A-Za-z0-9_-]`; a stage has at most 16), alarm names and CLI arguments.
 * 40 characters leave room for all of them; the first character is a letter or digit so a
 * name is never mistaken for a CLI option (`--export -x`).
 */
const EXPORT_NAME_MAX_LENGTH = 40;
const EXPORT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** Retry attempts: 20 attempts at the longest backoff (12 h) still fit SQS's 14-day retention. */
const MAX_ATTEMPTS_LIMIT = 20;
/** SQS event source batch size: 10 is the largest for a standard queue without a batching window. */
const MAX_BATCH_SIZE = 10;
/** Lambda's SQS event source `MaximumConcurrency` accepts 2 to 1000. */
const MIN_CONCURRENCY = 2;
const MAX_CONCURRENCY = 1000;

/** RFC 9110 `token`: the characters an HTTP header name may have. */
const HEADER_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers the HTTP client sets from the request itself (or refuses): setting them in the
 * config would corrupt framing, connection reuse or the target host.
 */
const MANAGED_HEADERS = [
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
] as const;

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const USERINFO_MESSAGE =
  'carries credentials (user:password@), which are not sent; remove them from the URL and send a header instead, e.g. headers: { Authorization: "Basic ${BASIC_AUTH}" } with BASIC_AUTH set to the base64 of user:password';

/** A value outside a fixed list: `"GET" is not a supported method; use POST, PUT or PATCH`. */
const notOneOf =
  (noun: string, allowed: readonly string[]) =>
  (issue: { code: string; input?: unknown }): string | undefined => {
    if (issue.code !== 'invalid_value') return undefined;
    const options = orList(allowed);
    if (issue.input === undefined) return `is required; use ${options}`;
    const guess = typeof issue.input === 'string' ? suggest(issue.input, allowed) : undefined;
    const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
    return `${describeValue(issue.input)} is not a supported ${noun}${hint}; use ${options}`;
  };

/** Reports every malformed `${...}` with its offset, so the error points inside the string. */
const checkReferences = (text: string, ctx: z.RefinementCtx<string>): boolean => {
  const malformed = findMalformedReferences(text);
  for (const reference of malformed) {
    ctx.addIssue({
      code: 'custom',
      message: reference.message,
      params: { offset: reference.offset },
    });
  }
  return malformed.length === 0;
};

/**
 * What can be checked of a URL before its `${VAR}` values exist: the syntax of the references,
 * and, when the URL does not start with a reference, that it parses as an absolute http(s)
 * URL with each reference replaced by a neutral `0`.
 */
const checkUrl = (url: string, ctx: z.RefinementCtx<string>): void => {
  if (!checkReferences(url, ctx)) return;
  const space = url.search(/\s/);
  if (space !== -1) {
    ctx.addIssue({
      code: 'custom',
      message: 'contains whitespace; remove it or percent-encode it (%20)',
      params: { offset: space },
    });
    return;
  }
  // `${SLACK_WEBHOOK_URL}`: scheme and host come from the variable, checked when it is resolved.
  if (url.startsWith('${')) return;
  if (!HAS_SCHEME.test(url)) {
    ctx.addIssue({
      code: 'custom',
      message: `${describeValue(url)} is not an absolute URL; start it with https:// (or http://), e.g. https://example.com/hook`,
    });
    return;
  }
  let probe = url;
  for (const name of findVariableReferences(url)) probe = probe.split(`\${${name}}`).join('0');
  let parsed: URL;
  try {
    parsed = new URL(probe);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `${describeValue(url)} is not a valid URL; use an absolute http(s) URL such as https://example.com/hook`,
    });
    return;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    ctx.addIssue({
      code: 'custom',
      message: `uses the unsupported scheme "${parsed.protocol.slice(0, -1)}"; use https:// (or http://)`,
    });
  } else if (parsed.username !== '' || parsed.password !== '') {
    // The HTTP client never sends user:password@ (see shared/transport/http.ts): refuse here
    // rather than accept an export whose every send fails. Never echo it: it is a credential.
    ctx.addIssue({
      code: 'custom',
      message: USERINFO_MESSAGE,
      params: { offset: url.indexOf('://') + 3 },
    });
  }
};

/**
 * Header values: only what HTTP can carry (no line breaks, which would inject a header, no
 * control or non-ASCII characters; see shared/request/headerValue.ts), valid references.
 */
const checkHeaderValue = (value: string, ctx: z.RefinementCtx<string>): void => {
  // The value is never echoed: a literal header value may well be a credential.
  const problem = headerValueProblem(value);
  if (problem !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: describeHeaderValueProblem(problem),
      params: { offset: problem.offset },
    });
  }
  checkReferences(value, ctx);
};

const HeaderNameSchema = z
  .string()
  .regex(HEADER_NAME_PATTERN, {
    error: (issue) =>
      `${describeValue(issue.input)} is not a valid header name; use letters, digits and !#$%&'*+-.^_\`|~ (no spaces or colons)`,
  })
  .refine((name) => !(MANAGED_HEADERS as readonly string[]).includes(name.toLowerCase()), {
    error: (issue) =>
      `${describeValue(issue.input)} is set by the HTTP client from the request; remove it`,
  });

const HeaderValueSchema = z
  .string()
  .superRefine(checkHeaderValue)
  .meta({ pattern: '^[\\t\\u0020-\\u007E]*$' });

const WebhookSchema = z
  .strictObject({
    url: z
      .string()
      .min(1, { error: 'is empty; use an absolute http(s) URL such as https://example.com/hook' })
      .superRefine(checkUrl)
      .meta({
        title: 'URL',
        description: `Where events are sent: an absolute http:// or https:// URL. May contain \${VAR} references (resolved at send time, from SSM Parameter Store when deployed, from the environment locally); a URL that is entirely a \${VAR} is checked when it is resolved.`,
        examples: ['https://events.pagerduty.com/v2/enqueue', `\${SLACK_WEBHOOK_URL}`],
        pattern: '^(https?://|\\$\\{)',
      }),
    method: z
      .enum(HTTP_METHODS, { error: notOneOf('method', HTTP_METHODS) })
      .default(DEFAULTS.method)
      .meta({
        title: 'HTTP method',
        description: 'The HTTP method of the request.',
        examples: ['POST'],
      }),
    headers: z
      .record(HeaderNameSchema, HeaderValueSchema)
      .default(() => ({}))
      .meta({
        title: 'Headers',
        description: `Extra request headers, name to value. Values may contain \${VAR} references (put credentials there, never literally). Names are case-insensitive and unique; ${MANAGED_HEADERS.join(', ')} are set by the HTTP client and not allowed.`,
        examples: [{ Authorization: `Token token=\${PD_ROUTING_KEY}` }],
      }),
    body_template: z
      .string()
      .min(1, { error: 'is empty; remove the key to send the event as JSON' })
      .superRefine((template, ctx) => {
        checkReferences(template, ctx);
      })
      .optional()
      .meta({
        title: 'Body template',
        description: `Liquid template of the request body, rendered with the audit event as scope ({{event_kind}}, {{policy_result.verdict}}, {{event_json}} for the whole event as JSON). May contain \${VAR} references. With format json, values inside JSON strings are escaped and the result must be valid JSON. Absent: the body is the event as JSON.`,
        examples: ['{"text": "TapPass {{event_kind}} on {{agent_id}}", "event": {{event_json}}}'],
      }),
    timeout_seconds: z
      .int()
      .min(1)
      .max(DEFAULTS.maxTimeoutSeconds)
      .default(DEFAULTS.timeoutSeconds)
      .meta({
        title: 'Timeout (seconds)',
        description: `Whole-attempt timeout (connect, send, response), a whole number from 1 to ${DEFAULTS.maxTimeoutSeconds}. A timeout is retried.`,
        examples: [DEFAULTS.timeoutSeconds],
      }),
    max_body_bytes: z
      .int()
      .min(1024)
      .max(DEFAULTS.maxBodyBytesLimit)
      .optional()
      .meta({
        title: 'Maximum body size (bytes)',
        description: `Most UTF-8 bytes a rendered request body may have, from 1024 to ${DEFAULTS.maxBodyBytesLimit} (10 MiB). Rendering stops as soon as the body passes it and the event is dead-lettered with reason render. Absent: ${DEFAULTS.maxBodyBytes} (1 MiB).`,
        examples: [262_144],
      }),
    allow_private_network: z
      .boolean()
      .default(false)
      .meta({
        title: 'Allow private network',
        description:
          'Deployed deliveries (and local ones with --block-private-network) refuse loopback, private, link-local, CGNAT, unique-local and cloud metadata addresses, checked on the resolved address at connect time. Set true for a receiver inside your network, such as an internal bus in the VPC.',
        examples: [true],
      }),
    signing: SigningSchema.optional(),
    preset: PresetSchema,
  })
  .superRefine(checkSigningHeaders)
  .meta({
    title: 'Webhook',
    description: 'The HTTP request that delivers one audit event.',
  });

const FiltersSchema = z
  .strictObject({
    min_severity: z
      .enum(SEVERITIES, { error: notOneOf('severity', SEVERITIES) })
      .optional()
      .meta({
        title: 'Minimum severity',
        description: `Only events at least this severe (inclusive), on the scale ${SEVERITIES.join(' < ')}. Absent: every severity.`,
        examples: ['error'],
      }),
    event_kinds: z
      .array(z.string().min(1, { error: 'is empty; write an event kind such as auth_fail' }))
      .min(1, {
        error:
          'is an empty list, which would match no event; remove event_kinds to match every kind',
      })
      .optional()
      .meta({
        title: 'Event kinds',
        description:
          'Only events whose event_kind is one of these exact names. Absent: every kind.',
        examples: [['policy_block', 'auth_fail']],
      }),
  })
  .default(() => ({}))
  .meta({
    title: 'Filters',
    description:
      'Which audit events this export receives; every condition must hold. Absent or {}: every event.',
    examples: [{ min_severity: 'error', event_kinds: ['auth_fail'] }],
  });

const RetrySchema = z
  .strictObject({
    max_attempts: z
      .int()
      .min(1)
      .max(MAX_ATTEMPTS_LIMIT)
      .default(DEFAULTS.maxAttempts)
      .meta({
        title: 'Maximum attempts',
        description: `Total HTTP attempts per event, the first one included, from 1 to ${MAX_ATTEMPTS_LIMIT}. After the last failed attempt the event goes to the dead-letter queue.`,
        examples: [DEFAULTS.maxAttempts],
      }),
    backoff_seconds: z
      .array(z.int().min(0).max(DEFAULTS.maxBackoffSeconds))
      .min(1, { error: 'is an empty list; give at least one delay, e.g. [1, 2, 4, 8, 16]' })
      .max(MAX_ATTEMPTS_LIMIT)
      .default(() => [...DEFAULTS.backoffSeconds])
      .meta({
        title: 'Backoff (seconds)',
        description: `Delay before each retry: the delay before attempt n+1 is entry n (the last entry is reused), raised to the receiver's Retry-After. Whole seconds from 0 to ${DEFAULTS.maxBackoffSeconds} (12 h, the SQS visibility timeout limit).`,
        examples: [[...DEFAULTS.backoffSeconds]],
      }),
  })
  .default(() => ({
    max_attempts: DEFAULTS.maxAttempts,
    backoff_seconds: [...DEFAULTS.backoffSeconds],
  }))
  .meta({
    title: 'Retry',
    description:
      'Retries on 408, 429, 5xx (except 501), connection errors and timeouts; other responses are permanent failures.',
  });

const DeliverySchema = z
  .strictObject({
    batch_size: z
      .int()
      .min(1)
      .max(MAX_BATCH_SIZE)
      .default(DEFAULTS.batchSize)
      .meta({
        title: 'Batch size',
        description: `Events handed to one delivery function invocation, from 1 to ${MAX_BATCH_SIZE}. Each event is still its own HTTP request.`,
        examples: [DEFAULTS.batchSize],
      }),
    max_concurrency: z
      .int()
      .min(MIN_CONCURRENCY)
      .max(MAX_CONCURRENCY)
      .default(DEFAULTS.maxConcurrency)
      .meta({
        title: 'Maximum concurrency',
        description: `Most delivery function instances working on this export at once, from ${MIN_CONCURRENCY} (the Lambda SQS event source minimum) to ${MAX_CONCURRENCY}. Bounds the request rate a receiver sees.`,
        examples: [DEFAULTS.maxConcurrency],
      }),
  })
  .default(() => ({ batch_size: DEFAULTS.batchSize, max_concurrency: DEFAULTS.maxConcurrency }))
  .meta({
    title: 'Delivery',
    description: "Tuning of the export's delivery queue and its event source.",
  });

const ExportSchema = z
  .strictObject({
    name: z
      .string()
      .regex(EXPORT_NAME_PATTERN, {
        error: (issue) => {
          const input = typeof issue.input === 'string' ? issue.input : '';
          const length =
            input.length > EXPORT_NAME_MAX_LENGTH ? ` is ${input.length} characters;` : '';
          return `${describeValue(issue.input)}${length} cannot be used as an export name; use 1-${EXPORT_NAME_MAX_LENGTH} letters, digits, "-" or "_", starting with a letter or digit (it becomes part of queue and alarm names)`;
        },
      })
      .meta({
        title: 'Export name',
        description: `Unique name of the export, used in queue, alarm and CLI names: 1-${EXPORT_NAME_MAX_LENGTH} letters, digits, "-" or "_", starting with a letter or digit.`,
        examples: ['pagerduty-alerts'],
      }),
    destination: z.literal('webhook', { error: notOneOf('destination', ['webhook']) }).meta({
      title: 'Destination',
      description: 'The kind of destination. Only webhook is supported.',
      examples: ['webhook'],
    }),
    format: z
      .enum(BODY_FORMATS, { error: notOneOf('format', BODY_FORMATS) })
      .default(DEFAULTS.format)
      .meta({
        title: 'Body format',
        description:
          'json: the body is JSON (values interpolated inside JSON strings are escaped; the rendered body must parse). text: the body is sent as rendered.',
        examples: ['json'],
      }),
    webhook: WebhookSchema,
    filters: FiltersSchema,
    retry: RetrySchema,
    delivery: DeliverySchema,
    ...FLOW_CONTROL_KEYS,
  })
  .superRefine(checkFlowControl)
  .meta({
    title: 'Export',
    description: 'One destination and the audit events it receives.',
  });

/** An AWS account id: exactly 12 digits (quote it in YAML, or a leading 0 is lost). */
const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** An IAM role ARN, paths allowed: `arn:aws:iam::111122223333:role/team/audit-writer`. */
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** The service principals a producer may be, and the ARN service of the source each names. */
const PRODUCER_SERVICES = {
  'sns.amazonaws.com': {
    arnService: 'sns',
    example: 'arn:aws:sns:eu-west-1:111122223333:tappass-audit',
  },
  'events.amazonaws.com': {
    arnService: 'events',
    example: 'arn:aws:events:eu-west-1:111122223333:rule/tappass-audit',
  },
} as const;
const PRODUCER_SERVICE_NAMES = Object.keys(PRODUCER_SERVICES) as (keyof typeof PRODUCER_SERVICES)[];
/** `arn:<partition>:<service>:<region>:<account>:<resource>` with a region and an account. */
const SOURCE_ARN_PATTERN = /^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]+:\d{12}:\S+$/;

const PRODUCER_FORMS =
  'use one of { account: "111122223333" }, { role_arn: arn:aws:iam::111122223333:role/name } or { service: sns.amazonaws.com | events.amazonaws.com, source_arn: <topic or rule ARN> }';

/**
 * Exactly one producer form per entry, each value well-formed; a service's `source_arn` names
 * that service (an SNS topic for SNS, an EventBridge rule for EventBridge).
 */
const checkProducer = (
  producer: { account?: string; role_arn?: string; service?: string; source_arn?: string },
  ctx: z.RefinementCtx<unknown>,
): void => {
  const forms = [
    producer.account !== undefined ? 'account' : undefined,
    producer.role_arn !== undefined ? 'role_arn' : undefined,
    producer.service !== undefined || producer.source_arn !== undefined ? 'service' : undefined,
  ].filter((form) => form !== undefined);
  if (forms.length !== 1) {
    const found =
      forms.length === 0
        ? 'has none of account, role_arn, service'
        : `mixes ${forms.join(' and ')}`;
    ctx.addIssue({ code: 'custom', message: `${found}; ${PRODUCER_FORMS}` });
    return;
  }
  if (forms[0] !== 'service') return;
  if (producer.service === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['service'],
      message: `is required with source_arn; use ${orList(PRODUCER_SERVICE_NAMES)}`,
    });
    return;
  }
  const service = PRODUCER_SERVICES[producer.service as keyof typeof PRODUCER_SERVICES];
  if (producer.source_arn === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['source_arn'],
      message: `is required with service ${producer.service}, e.g. ${service.example}`,
    });
    return;
  }
  const arnService = SOURCE_ARN_PATTERN.exec(producer.source_arn)?.[1];
  if (arnService === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['source_arn'],
      message: `${describeValue(producer.source_arn)} is not a valid ARN; use e.g. ${service.example}`,
    });
  } else if (arnService !== service.arnService) {
    ctx.addIssue({
      code: 'custom',
      path: ['source_arn'],
      message: `is an ARN of ${arnService}, not of ${service.arnService}; ${producer.service} sends from ARNs such as ${service.example}`,
    });
  }
};

const ProducerSchema = z
  .strictObject({
    account: z
      .string({
        error: (issue) =>
          `${describeValue(issue.input)} is not an AWS account id; write 12 digits in quotes, e.g. "111122223333"`,
      })
      .regex(ACCOUNT_ID_PATTERN, {
        error: (issue) =>
          `${describeValue(issue.input)} is not an AWS account id; write 12 digits in quotes, e.g. "111122223333"`,
      })
      .optional()
      .meta({
        title: 'Account',
        description:
          "An AWS account whose principals may send to the ingest queue, as that account's own IAM policies allow. 12 digits, quoted.",
        examples: ['111122223333'],
      }),
    role_arn: z
      .string()
      .regex(ROLE_ARN_PATTERN, {
        error: (issue) =>
          `${describeValue(issue.input)} is not an IAM role ARN; use e.g. arn:aws:iam::111122223333:role/audit-writer`,
      })
      .optional()
      .meta({
        title: 'Role ARN',
        description: 'An IAM role (of any account) that may send to the ingest queue.',
        examples: ['arn:aws:iam::111122223333:role/audit-writer'],
      }),
    service: z
      .enum(
        PRODUCER_SERVICE_NAMES as [
          keyof typeof PRODUCER_SERVICES,
          ...(keyof typeof PRODUCER_SERVICES)[],
        ],
        {
          error: notOneOf('producer service', PRODUCER_SERVICE_NAMES),
        },
      )
      .optional()
      .meta({
        title: 'Service',
        description:
          'An AWS service that delivers to the ingest queue on behalf of source_arn: sns.amazonaws.com (a topic the queue subscribes to, raw message delivery off) or events.amazonaws.com (an EventBridge rule targeting the queue).',
        examples: ['sns.amazonaws.com'],
      }),
    source_arn: z
      .string()
      .optional()
      .meta({
        title: 'Source ARN',
        description:
          'With service: the SNS topic or EventBridge rule allowed to send (the aws:SourceArn condition).',
        examples: ['arn:aws:sns:eu-west-1:111122223333:tappass-audit'],
      }),
  })
  .superRefine(checkProducer)
  .transform((producer): ProducerConfig => {
    if (producer.account !== undefined) return { account: producer.account };
    if (producer.role_arn !== undefined) return { role_arn: producer.role_arn };
    // checkProducer has made sure both are there.
    return {
      service: producer.service ?? 'sns.amazonaws.com',
      source_arn: producer.source_arn ?? '',
    };
  })
  .meta({
    title: 'Producer',
    description: `Who else may send audit events to the ingest queue; ${PRODUCER_FORMS}.`,
  });

/** The whole file. */
const ObservabilityConfigSchema = z
  .strictObject(
    {
      exports: z
        .array(ExportSchema)
        .min(1, { error: 'is an empty list; add at least one export (see config/examples/)' })
        .meta({
          title: 'Exports',
          description: 'Where TapPass audit events are shipped; each export has its own queue.',
        }),
      producers: z.array(ProducerSchema).optional().meta({
        title: 'Producers',
        description:
          "Principals outside the stack that may send to the ingest queue (sqs:SendMessage in the queue's policy): other accounts, roles, and SNS topics or EventBridge rules. Absent: only principals given the stack's producer policy.",
      }),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `the file must be a map with an "exports:" list, got ${describeValue(issue.input)}`
          : undefined,
    },
  )
  .meta({
    title: 'TapPass webhooks: observability.yaml',
    description:
      'Exports of TapPass audit events to webhooks. Reference: README.md, "Configuration".',
  });

/**
 * The JSON Schema of the config file (draft-07, which every YAML-aware editor understands),
 * describing the input: keys with defaults are optional.
 *
 * @example
 * const schema = observabilityJsonSchema();
 */
const observabilityJsonSchema = (): Record<string, unknown> =>
  z.toJSONSchema(ObservabilityConfigSchema, { io: 'input', target: 'draft-7' });

/** The exact text of `schema/observability.schema.json`: 2-space JSON and a final newline. */
const renderJsonSchemaFile = (): string =>
  `${JSON.stringify(observabilityJsonSchema(), null, 2)}\n`;

export {
  EXPORT_NAME_MAX_LENGTH,
  EXPORT_NAME_PATTERN,
  ExportSchema,
  HEADER_NAME_PATTERN,
  MANAGED_HEADERS,
  MAX_ATTEMPTS_LIMIT,
  MAX_BATCH_SIZE,
  MAX_CONCURRENCY,
  MIN_CONCURRENCY,
  ObservabilityConfigSchema,
  observabilityJsonSchema,
  PRODUCER_SERVICE_NAMES,
  ProducerSchema,
  renderJsonSchemaFile,
};
