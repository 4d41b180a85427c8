/**
 * Sends one rendered webhook request and describes what happened as a value: status, latency,
 * a capped body snippet and an error class. Never throws for an HTTP status or a transport
 * failure, so the delivery pipeline can treat a failed attempt as data (see `retry.ts`).
 */
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
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
  /** Node.js refused to build the request (e.g. a resolved header value with CR/LF). */
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

/**
 * How a client opens connections. Node.js calls `lookup` for a host name only, never for a
 * host written as an IP address, so an address rule needs both halves.
 */
interface ConnectOptions {
  /** Resolves a host name for each new connection; `dns.lookup` when absent. */
  readonly lookup?: LookupFunction;
  /**
   * Judges a host written as an IP address (no lookup sees it): an error refuses the request
   * before any connection, and is classified like any transport error.
   */
  readonly checkLiteralAddress?: (address: string) => Error | undefined;
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
  /** How connections are opened, e.g. the SSRF guard's (`guardedConnector()`). */
  readonly connect?: ConnectOptions;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;

const TIMEOUT_CODES = new Set(['ETIMEDOUT']);
/** A receiver that closes without answering surfaces as ECONNRESET ("socket hang up"). */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
/** Node.js's own refusals while building a request: bad header name or value, method, path. */
const INVALID_REQUEST_CODES = new Set([
  'ERR_INVALID_URL',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_UNESCAPED_CHARACTERS',
  'ERR_HTTP_CONTENT_LENGTH_MISMATCH',
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
 * Maps a transport error from Node.js to an {@link ErrorClass} and the code that
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

interface Target {
  readonly secure: boolean;
  /** Without the brackets of an IPv6 literal, as `http.request` wants it. */
  readonly hostname: string;
  /** Empty for the scheme's default port. */
  readonly port: string;
  readonly path: string;
}
type ParsedTarget = Target | { invalid: string };

/** Splits the URL for `http.request`, refusing what it would mishandle; messages omit the URL. */
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
    // Credentials belong in a header the export names, where masking and validation see them.
    return { invalid: 'URL must not carry user:password@; send an Authorization header instead' };
  }
  return {
    secure: parsed.protocol === 'https:',
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port,
    path: `${parsed.pathname}${parsed.search}`,
  };
};

/**
 * Every response header, names in lower case, repeated ones (`set-cookie` included) joined with
 * `, `. Read from `rawHeaders`, which is cheaper than Node.js's lazily built `headersDistinct`.
 */
const flattenHeaders = (response: IncomingMessage): Record<string, string> => {
  // No prototype: a header named `__proto__` is a header like any other.
  const flat: Record<string, string> = Object.create(null);
  const raw = response.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] ?? '').toLowerCase();
    const value = raw[index + 1] ?? '';
    flat[name] = Object.hasOwn(flat, name) ? `${flat[name]}, ${value}` : value;
  }
  return flat;
};

interface CappedBody {
  readonly text: string;
  readonly truncated: boolean;
  readonly error?: unknown;
}

/**
 * Reads at most `maxBytes` of a body, then destroys the response (which drops the connection),
 * so an endless body costs at most one chunk beyond the cap. A multi-byte character cut by the
 * cap is dropped rather than rendered as U+FFFD. Listeners rather than `for await`: a webhook
 * answer is one chunk, and the async iterator costs more than reading it.
 */
const readCapped = (response: IncomingMessage, maxBytes: number): Promise<CappedBody> =>
  new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      const room = maxBytes - received;
      if (chunk.length > room) {
        text += decoder.write(chunk.subarray(0, room));
        received = maxBytes;
        response.destroy();
        resolve({ text, truncated: true });
        return;
      }
      text += decoder.write(chunk);
      received += chunk.length;
    });
    response.on('end', () => resolve({ text, truncated: false }));
    // A timeout or a reset while reading destroys the response with the cause.
    response.on('error', (error) => resolve({ text, truncated: true, error }));
    // Closed without `end` or an error: the body did not arrive whole.
    response.on('close', () => resolve({ text, truncated: !response.complete }));
  });

const elapsedSince = (startedAt: number): number => Math.round(performance.now() - startedAt);

/** The keep-alive pools of one client and what it checks before using them. */
interface ClientPools {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  readonly maxBodyBytes: number;
  readonly checkLiteralAddress: ConnectOptions['checkLiteralAddress'];
}

/** A result for an attempt that got no response. */
const failedAttempt = (
  startedAt: number,
  failure: { errorClass: ErrorClass; code?: string | undefined },
  timeoutMs: number,
): SendResult => ({
  latencyMs: elapsedSince(startedAt),
  bodySnippet: '',
  bodyTruncated: false,
  errorClass: failure.errorClass,
  errorMessage: describeFailure(failure.errorClass, failure.code, timeoutMs),
});

/** One request on its way. */
interface Exchange {
  /** Resolves with the response head; rejects with the transport error. */
  readonly head: Promise<IncomingMessage>;
  /**
   * Ends the exchange where it is: rejects `head` if it has not arrived (also while the request
   * waits for a pooled connection, where destroying the request alone reports nothing until a
   * connection frees up) and destroys the request, its socket and a body being read.
   */
  cut(reason: Error): void;
}

/**
 * Sends the request over the pool of its scheme. Node.js throws for an invalid header name or
 * value: that is returned as the error, before anything is sent.
 */
const startExchange = (
  pools: ClientPools,
  target: Target,
  request: OutgoingRequest,
): Exchange | { error: unknown } => {
  // Bytes, not a string: Node.js writes a string body in one piece with the head, encoding
  // both as UTF-8, but a head on its own as Latin-1. One rule for header values, whatever the body.
  const body = Buffer.from(request.body, 'utf8');
  let resolveHead: (response: IncomingMessage) => void = () => undefined;
  let rejectHead: (error: unknown) => void = () => undefined;
  const head = new Promise<IncomingMessage>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  let outgoing: ClientRequest;
  try {
    outgoing = (target.secure ? httpsRequest : httpRequest)(
      {
        agent: target.secure ? pools.https : pools.http,
        hostname: target.hostname,
        ...(target.port === '' ? {} : { port: Number(target.port) }),
        path: target.path,
        method: request.method,
        // Last, so it replaces any spelling of it in the request's headers: the body decides.
        headers: { ...request.headers, 'content-length': String(body.length) },
      },
      resolveHead,
    );
  } catch (error) {
    return { error };
  }
  // Stays attached after the head arrived: an error while the body is read (the timeout
  // cutting it) reaches the body reader, and this listener keeps it from being unhandled.
  outgoing.on('error', rejectHead);
  outgoing.end(body);
  return {
    head,
    cut: (reason) => {
      rejectHead(reason);
      outgoing.destroy(reason);
    },
  };
};

/**
 * Sends one request over `pools` and turns every outcome into a {@link SendResult}.
 * The timeout covers the whole attempt (waiting for a pooled connection, connect, headers,
 * body): when it fires it cuts the exchange, wherever it is.
 */
const sendWith = async (pools: ClientPools, request: OutgoingRequest): Promise<SendResult> => {
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
  // No lookup runs for a host written as an IP address, so a guard judges it here instead.
  if (isIP(target.hostname) !== 0) {
    const refusal = pools.checkLiteralAddress?.(target.hostname);
    if (refusal !== undefined) {
      return failedAttempt(startedAt, classifyTransportError(refusal), timeoutMs);
    }
  }

  const exchange = startExchange(pools, target, request);
  if ('error' in exchange) {
    return failedAttempt(startedAt, classifyTransportError(exchange.error), timeoutMs);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    exchange.cut(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);

  try {
    let response: IncomingMessage;
    try {
      response = await exchange.head;
    } catch (error) {
      // Never sent again here, not even after a reset on a reused connection (which may be one
      // the receiver closed while idle): a receiver that resets after reading the request looks
      // the same, and a delivery sends it at most max_attempts requests.
      const failure = timedOut
        ? { errorClass: ERROR_CLASSES.timeout }
        : classifyTransportError(error);
      return failedAttempt(startedAt, failure, timeoutMs);
    }

    const body = await readCapped(response, pools.maxBodyBytes);
    const status = response.statusCode ?? 0;
    const headers = flattenHeaders(response);
    const retryAfterSeconds = parseRetryAfter(headers['retry-after'], Date.now());
    const isSuccess = status >= 200 && status <= 299;

    let errorMessage: string | undefined;
    if (body.truncated && (body.error !== undefined || timedOut)) {
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
 * Creates an HTTP client with its own keep-alive connection pools (`node:http` and
 * `node:https` agents; Node.js's own client keeps the Lambda bundle small, see figure 6 of
 * docs/performance.md). Redirects are never followed (a 3xx comes back as a result), and the
 * protocol is HTTP/1.1: a webhook is one small request at a time.
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
  const agentOptions = {
    keepAlive: true,
    // How long a socket may sit idle in the pool; Node.js lowers it below a receiver's
    // `Keep-Alive: timeout=N`, so the receiver does not close a socket as it is reused.
    timeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    maxSockets: options.connectionsPerOrigin ?? Number.POSITIVE_INFINITY,
    // The most recently used socket first: the others idle out instead of all staying warm.
    scheduling: 'lifo',
    ...(options.connect?.lookup === undefined ? {} : { lookup: options.connect.lookup }),
  } as const;
  const pools: ClientPools = {
    http: new HttpAgent(agentOptions),
    https: new HttpsAgent(agentOptions),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    checkLiteralAddress: options.connect?.checkLiteralAddress,
  };
  const inFlight = new Set<Promise<SendResult>>();
  return {
    send: (request) => {
      const sending = sendWith(pools, request);
      inFlight.add(sending);
      const settle = () => inFlight.delete(sending);
      sending.then(settle, settle);
      return sending;
    },
    close: async () => {
      await Promise.allSettled(inFlight);
      pools.http.destroy();
      pools.https.destroy();
    },
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

export type {
  ConnectOptions,
  ErrorClass,
  HttpClient,
  HttpClientOptions,
  OutgoingRequest,
  SendResult,
};
export {
  classifyTransportError,
  createHttpClient,
  DEFAULT_MAX_BODY_BYTES,
  defaultHttpClient,
  ERROR_CLASSES,
};
