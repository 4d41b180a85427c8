/**
 * Sends one rendered webhook request and describes what happened as a value: status, latency,
 * a capped body snippet and an error class. Never throws for an HTTP status or a transport
 * failure, so the delivery pipeline can treat a failed attempt as data (see `retry.ts`).
 */
import { StringDecoder } from 'node:string_decoder';
import { Agent, type Dispatcher } from 'undici';
import type { HttpMethod } from '../config/types.js';
import { parseRetryAfter } from './retry.js';

/** A fully rendered request: `${VAR}` references already resolved, body already rendered. */
interface OutgoingRequest {
  readonly method: HttpMethod;
  /** May carry a secret (a token in the path or query): never logged or echoed by this module. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Overall budget for connect + headers + body; the attempt is cut when it runs out. */
  readonly timeoutMs: number;
}

/** Why an attempt did not end in a 2xx. `http_status` means the receiver answered non-2xx. */
const ERROR_CLASSES = {
  httpStatus: 'http_status',
  timeout: 'timeout',
  connectionRefused: 'connection_refused',
  connectionReset: 'connection_reset',
  dns: 'dns',
  tls: 'tls',
  invalidUrl: 'invalid_url',
  /** undici refused to build the request (e.g. a resolved header value with CR/LF). */
  invalidRequest: 'invalid_request',
  /** The SSRF guard refused the address (private, loopback, metadata...). */
  blockedAddress: 'blocked_address',
  network: 'network',
} as const;
type ErrorClass = (typeof ERROR_CLASSES)[keyof typeof ERROR_CLASSES];

/** The outcome of one attempt. */
interface SendResult {
  /** The receiver's status code; absent when no response arrived. */
  readonly status?: number;
  /** From the start of the attempt until the body was read (or the attempt was cut). */
  readonly latencyMs: number;
  /**
   * The response body as UTF-8, from at most `maxBodyBytes` bytes; never more is buffered. Raw:
   * it may echo a secret, so callers pass the result through `maskSendResult`
   * (shared/secrets/masking.ts) before anything reads, quotes or cuts it.
   */
  readonly bodySnippet: string;
  /** True when the body was longer than the cap, or its reading was cut short. */
  readonly bodyTruncated: boolean;
  /**
   * Set for a non-2xx status (`http_status`) and for every transport failure before a status
   * arrived. Once a status has arrived it decides the outcome: a body cut afterwards (timeout,
   * reset) only sets `bodyTruncated` and `errorMessage`, since the receiver already answered.
   */
  readonly errorClass?: ErrorClass;
  /** Short and human; never contains the URL, header values or the request body. */
  readonly errorMessage?: string;
  /** The parsed `Retry-After` response header, in whole seconds. */
  readonly retryAfterSeconds?: number;
  /** Response headers, names in lower case, repeated headers joined with `, `. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends requests over a pool of keep-alive connections. */
interface HttpClient {
  /** Sends one request; resolves with a {@link SendResult}, never rejects. */
  send(request: OutgoingRequest): Promise<SendResult>;
  /** Closes the pooled connections once in-flight requests are done. */
  close(): Promise<void>;
}

/** Options of {@link createHttpClient}. */
interface HttpClientOptions {
  /**
   * Maximum concurrent connections to one origin; further requests wait for a free one (the
   * wait counts towards their timeout).
   * @default unlimited
   */
  readonly connectionsPerOrigin?: number;
  /**
   * How much of a response body is read; the rest is discarded and the connection dropped.
   * @default 65536
   */
  readonly maxBodyBytes?: number;
  /**
   * How long an idle connection is kept for reuse (a receiver's `Keep-Alive` hint may lower it).
   * @default 4000
   */
  readonly keepAliveTimeoutMs?: number;
  /** undici connector options, e.g. a `lookup` that refuses private addresses. */
  readonly connect?: Agent.Options['connect'];
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const INVALID_REQUEST_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_URL',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
]);
/** TLS codes without a `CERT_` / `ERR_TLS_` / `ERR_SSL_` prefix (OpenSSL verify results, EPROTO). */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

const isTlsCode = (code: string): boolean =>
  TLS_CODES.has(code) ||
  code.startsWith('ERR_TLS_') ||
  code.startsWith('ERR_SSL_') ||
  code.startsWith('CERT_') ||
  code.startsWith('ERR_OSSL_');

/** Every `code` in an error, its `cause` chain and, for an AggregateError, its members. */
const collectCodes = (error: unknown, depth = 0): string[] => {
  if (depth > 8 || typeof error !== 'object' || error === null) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') codes.push(code);
  if (Array.isArray(errors)) {
    for (const member of errors) codes.push(...collectCodes(member, depth + 1));
  }
  codes.push(...collectCodes(cause, depth + 1));
  return codes;
};

/**
 * Maps a transport error from undici or Node.js to an {@link ErrorClass} and the code that
 * decided it. Looks at codes only, never at messages: messages carry host names and addresses.
 *
 * @example
 * classifyTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
 * // → { errorClass: 'connection_refused', code: 'ECONNREFUSED' }
 */
const classifyTransportError = (error: unknown): { errorClass: ErrorClass; code?: string } => {
  const codes = collectCodes(error);
  // Most specific first: a TLS failure may surface with a reset underneath it, and a refused
  // IPv6 attempt may sit next to a refused IPv4 one in an AggregateError.
  const rules: ReadonlyArray<[(code: string) => boolean, ErrorClass]> = [
    [(code) => code === 'ERR_TAPPASS_BLOCKED_ADDRESS', ERROR_CLASSES.blockedAddress],
    [isTlsCode, ERROR_CLASSES.tls],
    [(code) => code === 'ECONNREFUSED', ERROR_CLASSES.connectionRefused],
    [(code) => DNS_CODES.has(code), ERROR_CLASSES.dns],
    [(code) => TIMEOUT_CODES.has(code), ERROR_CLASSES.timeout],
    [(code) => RESET_CODES.has(code), ERROR_CLASSES.connectionReset],
    [(code) => INVALID_REQUEST_CODES.has(code), ERROR_CLASSES.invalidRequest],
  ];
  for (const [matches, errorClass] of rules) {
    const code = codes.find(matches);
    if (code !== undefined) return { errorClass, code };
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError')
    return { errorClass: ERROR_CLASSES.timeout };
  return codes[0] === undefined
    ? { errorClass: ERROR_CLASSES.network }
    : { errorClass: ERROR_CLASSES.network, code: codes[0] };
};

const formatDuration = (ms: number): string =>
  ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;

const CLASS_MESSAGES: Readonly<Record<ErrorClass, string>> = {
  http_status: 'receiver answered with an error status',
  timeout: 'timed out',
  connection_refused: 'connection refused',
  connection_reset: 'connection reset or closed by the receiver',
  dns: 'DNS lookup failed',
  tls: 'TLS handshake or certificate verification failed',
  invalid_url: 'invalid URL',
  invalid_request: 'request could not be built (invalid header, method or body)',
  blocked_address:
    'refused: the receiver resolves to a private, loopback, link-local or metadata address (set allow_private_network: true on the export to allow it)',
  network: 'network error',
};

/** A short message naming the class and the deciding code, but nothing from the request. */
const describeFailure = (errorClass: ErrorClass, code: string | undefined, timeoutMs: number) => {
  if (errorClass === ERROR_CLASSES.timeout) return `timed out after ${formatDuration(timeoutMs)}`;
  const text = CLASS_MESSAGES[errorClass];
  return code === undefined ? text : `${text} (${code})`;
};

type ParsedTarget = { origin: string; path: string } | { invalid: string };

/** Splits the URL for undici, refusing what it would mishandle; messages omit the URL itself. */
const parseTarget = (url: string): ParsedTarget => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { invalid: 'URL does not parse' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { invalid: `URL scheme must be http or https, not ${parsed.protocol.slice(0, 16)}` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // undici would silently drop user:password@; say so rather than send unauthenticated.
    return { invalid: 'URL must not carry user:password@; send an Authorization header instead' };
  }
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
};

const flattenHeaders = (headers: Dispatcher.ResponseData['headers']): Record<string, string> => {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
};

interface CappedBody {
  readonly text: string;
  readonly truncated: boolean;
  readonly error?: unknown;
}

/**
 * Reads at most `maxBytes` of a body, then destroys the stream (which drops the connection),
 * so an endless body costs at most one chunk beyond the cap. A multi-byte character cut by the
 * cap is dropped rather than rendered as U+FFFD.
 */
const readCapped = async (body: AsyncIterable<Buffer>, maxBytes: number): Promise<CappedBody> => {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let received = 0;
  try {
    for await (const chunk of body) {
      const room = maxBytes - received;
      if (chunk.length > room) {
        text += decoder.write(chunk.subarray(0, room));
        // Leaving the loop destroys the stream: undici closes that connection.
        return { text, truncated: true };
      }
      text += decoder.write(chunk);
      received += chunk.length;
    }
  } catch (error) {
    return { text, truncated: true, error };
  }
  return { text, truncated: false };
};

const elapsedSince = (startedAt: number): number => Math.round(performance.now() - startedAt);

/**
 * Sends one request with `client` and turns every outcome into a {@link SendResult}.
 * The timeout covers the whole attempt (queueing, connect, headers, body) through one
 * AbortSignal; undici's own headers/body timeouts are set to the same budget as a backstop.
 */
const sendWith = async (
  agent: Agent,
  maxBodyBytes: number,
  request: OutgoingRequest,
): Promise<SendResult> => {
  const startedAt = performance.now();
  const timeoutMs = Math.max(1, Math.ceil(request.timeoutMs));
  const target = parseTarget(request.url);
  if ('invalid' in target) {
    return {
      latencyMs: 0,
      bodySnippet: '',
      bodyTruncated: false,
      errorClass: ERROR_CLASSES.invalidUrl,
      errorMessage: target.invalid,
    };
  }

  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);

  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin: target.origin,
        path: target.path,
        method: request.method,
        headers: { ...request.headers },
        body: request.body,
        signal: abort.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      const { errorClass, code } = timedOut
        ? { errorClass: ERROR_CLASSES.timeout, code: undefined }
        : classifyTransportError(error);
      return {
        latencyMs: elapsedSince(startedAt),
        bodySnippet: '',
        bodyTruncated: false,
        errorClass,
        errorMessage: describeFailure(errorClass, code, timeoutMs),
      };
    }

    const body = await readCapped(response.body, maxBodyBytes);
    const status = response.statusCode;
    const headers = flattenHeaders(response.headers);
    const retryAfterSeconds = parseRetryAfter(headers['retry-after'], Date.now());
    const isSuccess = status >= 200 && status <= 299;

    let errorMessage: string | undefined;
    if (body.error !== undefined) {
      const cut = timedOut
        ? { errorClass: ERROR_CLASSES.timeout, code: undefined }
        : classifyTransportError(body.error);
      errorMessage = `response body cut short: ${describeFailure(cut.errorClass, cut.code, timeoutMs)}`;
    }
    if (!isSuccess) {
      const statusText = `HTTP ${status}`;
      errorMessage = errorMessage === undefined ? statusText : `${statusText}; ${errorMessage}`;
    }

    return {
      status,
      latencyMs: elapsedSince(startedAt),
      bodySnippet: body.text,
      bodyTruncated: body.truncated,
      ...(isSuccess ? {} : { errorClass: ERROR_CLASSES.httpStatus }),
      ...(errorMessage === undefined ? {} : { errorMessage }),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      headers,
    };
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Creates an HTTP client with its own keep-alive connection pool. Redirects are never followed
 * (a 3xx comes back as a result), and HTTP/2 is not negotiated: HTTP/1.1 keep-alive is the
 * well-trodden path in undici, and a webhook is one small request at a time.
 *
 * @example
 * const client = createHttpClient({ maxBodyBytes: 16 * 1024 });
 * const result = await client.send({
 *   method: 'POST',
 *   url: 'https://events.pagerduty.com/v2/enqueue',
 *   headers: { 'content-type': 'application/json' },
 *   body: '{"event_action":"trigger"}',
 *   timeoutMs: 10_000,
 * });
 * if (result.errorClass) console.log(result.errorClass, result.status);
 * await client.close();
 */
const createHttpClient = (options: HttpClientOptions = {}): HttpClient => {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const agent = new Agent({
    allowH2: false,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    ...(options.connectionsPerOrigin === undefined
      ? {}
      : { connections: options.connectionsPerOrigin }),
    ...(options.connect === undefined ? {} : { connect: options.connect }),
  });
  return {
    send: (request) => sendWith(agent, maxBodyBytes, request),
    close: () => agent.close(),
  };
};

let defaultClient: HttpClient | undefined;

/**
 * The process-wide client, created on first use, so a warm Lambda container reuses its
 * connections across invocations. Closing it makes the next call create a fresh one.
 *
 * @example
 * const result = await defaultHttpClient().send(request);
 */
const defaultHttpClient = (): HttpClient => {
  if (defaultClient === undefined) {
    const client = createHttpClient();
    const wrapped: HttpClient = {
      send: client.send,
      close: async () => {
        if (defaultClient === wrapped) defaultClient = undefined;
        await client.close();
      },
    };
    defaultClient = wrapped;
  }
  return defaultClient;
};

export type { ErrorClass, HttpClient, HttpClientOptions, OutgoingRequest, SendResult };
export {
  classifyTransportError,
  createHttpClient,
  DEFAULT_MAX_BODY_BYTES,
  defaultHttpClient,
  ERROR_CLASSES,
};
