/**
 * The HTTP client against real receivers on 127.0.0.1: what a receiver gets, timeouts, body
 * caps, redirects, Retry-After, keep-alive and per-origin limits, and the transport errors
 * classified.
 */
import { createServer, type LookupFunction, type Socket } from 'node:net';
import {
  classifyTransportError,
  createHttpClient,
  DEFAULT_MAX_BODY_BYTES,
  defaultHttpClient,
  type HttpClient,
  type OutgoingRequest,
} from '../../shared/transport/http.js';
import { classifyResult } from '../../shared/transport/retry.js';
import { closedPortUrl, sequence, startReceiver } from '../helpers/receivers.js';
import { useTestStack } from '../helpers/testStack.js';

const TIMEOUT_MS = 300;

const requestTo = (url: string, overrides: Partial<OutgoingRequest> = {}): OutgoingRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json' },
  body: '{"hello":"world"}',
  timeoutMs: TIMEOUT_MS,
  ...overrides,
});

const withCode = (code: string, message = 'boom'): Error =>
  Object.assign(new Error(message), { code });

describe('Function: createHttpClient().send()', () => {
  const stack = useTestStack();
  const { receiver } = stack;
  let client: HttpClient;

  beforeEach(() => {
    client = stack.add(createHttpClient(), (created) => created.close());
  });

  it('delivers the method, headers and body intact and returns the response', async () => {
    // Prepare
    const target = await receiver({
      status: 202,
      headers: { 'X-Request-Id': 'abc', 'Set-Cookie': ['a=1', 'b=2'] },
      body: '{"status":"success"}',
    });
    const body = '{"summary":"TapPass é ✓ \\n 🚨"}';

    // Act
    const result = await client.send(
      requestTo(`${target.url}/v2/enqueue?routing=1`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', Authorization: 'Token t0k3n' },
        body,
      }),
    );

    // Assess
    expect(result).toMatchObject({
      status: 202,
      bodySnippet: '{"status":"success"}',
      bodyTruncated: false,
    });
    expect(result.errorClass).toBeUndefined();
    expect(result.errorMessage).toBeUndefined();
    expect(result.headers).toMatchObject({ 'x-request-id': 'abc', 'set-cookie': 'a=1, b=2' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]).toMatchObject({
      method: 'PATCH',
      url: '/v2/enqueue?routing=1',
      body,
      headers: expect.objectContaining({
        'content-type': 'application/json',
        authorization: 'Token t0k3n',
        'content-length': String(Buffer.byteLength(body)),
      }),
    });
  });

  it.each(['POST', 'PUT', 'PATCH'] as const)('sends a %s request', async (method) => {
    // Prepare
    const target = await receiver({ status: 204 });

    // Act
    const result = await client.send(requestTo(target.url, { method }));

    // Assess
    expect(result.status).toBe(204);
    expect(target.requests[0]?.method).toBe(method);
  });

  it('waits for a slow receiver that answers within the timeout', async () => {
    // Prepare
    const target = await receiver({ status: 200, body: 'late but fine', delayMs: 100 });

    // Act
    const result = await client.send(requestTo(target.url, { timeoutMs: 2_000 }));

    // Assess
    expect(result).toMatchObject({ status: 200, bodySnippet: 'late but fine' });
    expect(classifyResult(result)).toEqual({ outcome: 'success' });
  });

  it('cuts a hanging receiver at the timeout', async () => {
    // Prepare
    const target = await receiver('hang');

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess
    expect(result.status).toBeUndefined();
    expect(result.errorClass).toBe('timeout');
    expect(result.errorMessage).toBe(`timed out after ${TIMEOUT_MS} ms`);
    expect(target.requests).toHaveLength(1);
    expect(classifyResult(result)).toEqual({
      outcome: 'retry',
      reason: `timed out after ${TIMEOUT_MS} ms`,
    });
  });

  it('cuts a slow-dripping body at the timeout, keeping the status the receiver sent', async () => {
    // Prepare
    const target = await receiver('slow-drip', { dripIntervalMs: 20 });

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess
    expect(result.status).toBe(200);
    expect(result.bodyTruncated).toBe(true);
    expect(result.bodySnippet).toMatch(/^\.+$/);
    expect(result.errorClass).toBeUndefined();
    expect(result.errorMessage).toBe(`response body cut short: timed out after ${TIMEOUT_MS} ms`);
  });

  it('classifies a non-2xx status as http_status and keeps its body', async () => {
    // Prepare
    const target = await receiver({ status: 500, body: 'upstream exploded' });

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess
    expect(result).toMatchObject({
      status: 500,
      errorClass: 'http_status',
      errorMessage: 'HTTP 500',
      bodySnippet: 'upstream exploded',
      bodyTruncated: false,
    });
  });

  it.each([
    ['reset', 'ECONNRESET'],
    // Node.js reports a connection closed before any answer as ECONNRESET ("socket hang up").
    ['close', 'ECONNRESET'],
  ] as const)('maps a receiver that does "%s" to connection_reset', async (behaviour, code) => {
    // Prepare
    const target = await receiver(behaviour);

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess
    expect(result.status).toBeUndefined();
    expect(result.errorClass).toBe('connection_reset');
    expect(result.errorMessage).toContain(code);
    expect(classifyResult(result).outcome).toBe('retry');
  });

  it('maps a closed port to connection_refused', async () => {
    // Prepare
    const url = await closedPortUrl();

    // Act
    const result = await client.send(requestTo(url));

    // Assess
    expect(result).toMatchObject({ errorClass: 'connection_refused', bodySnippet: '' });
    expect(result.status).toBeUndefined();
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN'])(
    'maps a DNS failure (%s) to dns without touching the network',
    async (code) => {
      // Prepare
      const failingLookup: LookupFunction = (hostname, _options, callback) => {
        callback(withCode(code, `getaddrinfo ${code} ${hostname}`), '', 4);
      };
      const dnsClient = createHttpClient({ connect: { lookup: failingLookup } });

      // Act
      const result = await dnsClient.send(requestTo('http://receiver.example/hook'));
      await dnsClient.close();

      // Assess
      expect(result.errorClass).toBe('dns');
      expect(result.errorMessage).toBe(`DNS lookup failed (${code})`);
    },
  );

  it('maps a failed TLS handshake to tls', async () => {
    // Prepare: a plain-HTTP server answering a TLS ClientHello fails the handshake.
    const target = await receiver({ status: 200 });

    // Act
    const result = await client.send(requestTo(target.url.replace('http://', 'https://')));

    // Assess
    expect(result.errorClass).toBe('tls');
    expect(result.status).toBeUndefined();
    expect(target.requests).toHaveLength(0);
  });

  it('reads an endless body only up to the cap', async () => {
    // Prepare
    const target = await receiver('huge-body');
    const rssBefore = process.memoryUsage().rss;

    // Act
    const result = await client.send(requestTo(target.url, { timeoutMs: 5_000 }));

    // Assess
    expect(result.status).toBe(200);
    expect(result.bodyTruncated).toBe(true);
    expect(result.bodySnippet).toHaveLength(DEFAULT_MAX_BODY_BYTES);
    expect(result.errorMessage).toBeUndefined();
    // The receiver writes with backpressure: it only got rid of what the client pulled.
    expect(target.bodyBytesSent).toBeLessThan(32 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  });

  it('honours a custom cap and still works after dropping a truncated connection', async () => {
    // Prepare
    const cappedClient = createHttpClient({ maxBodyBytes: 1_000 });
    const target = await receiver(
      sequence({ body: 'y'.repeat(5_000) }, { body: 'z'.repeat(1_000) }, { body: 'small' }),
    );

    // Act
    const truncated = await cappedClient.send(requestTo(target.url));
    const exact = await cappedClient.send(requestTo(target.url));
    const small = await cappedClient.send(requestTo(target.url));
    await cappedClient.close();

    // Assess
    expect(truncated).toMatchObject({ status: 200, bodyTruncated: true });
    expect(truncated.bodySnippet).toBe('y'.repeat(1_000));
    expect(exact).toMatchObject({ bodySnippet: 'z'.repeat(1_000), bodyTruncated: false });
    expect(small).toMatchObject({ bodySnippet: 'small', bodyTruncated: false });
    expect(target.requests).toHaveLength(3);
  });

  it('drops a multi-byte character cut in half by the cap', async () => {
    // Prepare: 'é' is 2 bytes in UTF-8, so a 5-byte cap ends inside the third one.
    const cappedClient = createHttpClient({ maxBodyBytes: 5 });
    const target = await receiver({ body: 'ééé' });

    // Act
    const result = await cappedClient.send(requestTo(target.url));
    await cappedClient.close();

    // Assess
    expect(result).toMatchObject({ bodySnippet: 'éé', bodyTruncated: true });
  });

  it('returns a 302 without following it', async () => {
    // Prepare
    const target = await receiver((index) =>
      index === 0 ? { status: 302, headers: { location: '/moved' } } : { status: 200 },
    );

    // Act
    const result = await client.send(requestTo(`${target.url}/hook`));

    // Assess
    expect(result).toMatchObject({ status: 302, errorClass: 'http_status' });
    expect(result.headers?.location).toBe('/moved');
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0]?.url).toBe('/hook');
    expect(classifyResult(result)).toEqual({
      outcome: 'permanent',
      reason: 'HTTP 302 from receiver (redirects are not followed)',
    });
  });

  it('parses Retry-After in seconds on a 429', async () => {
    // Prepare
    const target = await receiver({ status: 429, headers: { 'retry-after': '7' } });

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess
    expect(result).toMatchObject({ status: 429, errorClass: 'http_status', retryAfterSeconds: 7 });
    expect(classifyResult(result)).toEqual({
      outcome: 'retry',
      reason: 'HTTP 429 from receiver (rate limited, Retry-After 7 s)',
    });
  });

  it('parses Retry-After as an HTTP-date on a 429', async () => {
    // Prepare
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const target = await receiver({ status: 429, headers: { 'retry-after': inTwoMinutes } });

    // Act
    const result = await client.send(requestTo(target.url));

    // Assess: the date has whole seconds, so up to one second is lost to truncation.
    expect(result.status).toBe(429);
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(120);
  });

  it('reuses one keep-alive connection for 100 sequential sends', async () => {
    // Prepare
    const target = await receiver({ status: 200, body: 'ok' });

    // Act
    const results: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const result = await client.send(requestTo(target.url, { body: `{"n":${i}}` }));
      results.push(result.status ?? 0);
    }

    // Assess
    expect(results.every((status) => status === 200)).toBe(true);
    expect(target.requests).toHaveLength(100);
    // The body's end may reach us a tick before the agent puts the socket back in its pool,
    // so back-to-back sends may alternate between two pooled connections: never more.
    expect(target.connectionCount).toBeLessThanOrEqual(2);
    expect(new Set(target.requests.map((r) => r.connectionId)).size).toBeLessThanOrEqual(2);
  });

  /**
   * A receiver that answers the first request of every connection (keep-alive) and, like one
   * whose idle timeout closed the connection a moment before, drops the connection when a
   * second request comes on it, without an answer.
   */
  const startIdleClosingReceiver = async () => {
    let connections = 0;
    const requests: number[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      connections += 1;
      const connection = connections;
      sockets.add(socket);
      let served = 0;
      let pending = '';
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        // One small request per write: its head ends with a blank line, its body follows.
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(pending)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = '';
        requests.push(connection);
        served += 1;
        if (served > 1) {
          socket.destroy();
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    stack.add(server, (started) => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => started.close(() => resolve()));
    });
    return { url: `http://127.0.0.1:${port}/hook`, requests, connections: () => connections };
  };

  it('does not send again a request that met a reset on a reused connection: a receiver sees at most one request per attempt', async () => {
    // Prepare
    const target = await startIdleClosingReceiver();
    const first = await client.send(requestTo(target.url, { timeoutMs: 2_000 }));

    // Act: the pooled connection is reused, and dropped by the receiver after reading the
    // request, as a receiver whose idle timeout just closed it would (the client cannot tell).
    const second = await client.send(requestTo(target.url, { timeoutMs: 2_000 }));

    // Assess: the attempt failed, to be retried on the export's schedule; no second request.
    expect(first.status).toBe(200);
    expect(second).toMatchObject({ errorClass: 'connection_reset' });
    expect(target.requests).toEqual([1, 1]);
  });

  it('sends a request once when a new connection is reset', async () => {
    // Prepare: a receiver that resets every connection at its first request.
    const resets: number[] = [];
    const server = createServer((socket) => {
      socket.on('data', () => {
        resets.push(1);
        socket.resetAndDestroy();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    stack.add(server, (started) => new Promise<void>((resolve) => started.close(() => resolve())));

    // Act
    const result = await client.send(
      requestTo(`http://127.0.0.1:${port}/hook`, { timeoutMs: 2_000 }),
    );

    // Assess
    expect(result.errorClass).toBe('connection_reset');
    expect(resets).toHaveLength(1);
  });

  it('keeps using one connection when sends are spaced out, as across Lambda invocations', async () => {
    // Prepare
    const target = await receiver({ status: 200 });

    // Act
    for (let i = 0; i < 10; i += 1) {
      await client.send(requestTo(target.url));
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Assess
    expect(target.requests).toHaveLength(10);
    expect(target.connectionCount).toBe(1);
  });

  it('limits concurrent connections per origin', async () => {
    // Prepare
    const limitedClient = createHttpClient({ connectionsPerOrigin: 1 });
    const target = await receiver({ status: 200, delayMs: 10 });

    // Act
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        limitedClient.send(requestTo(target.url, { timeoutMs: 5_000 })),
      ),
    );
    await limitedClient.close();

    // Assess
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(target.connectionCount).toBe(1);
  });

  it('cuts a request still waiting for a pooled connection at its own timeout', async () => {
    // Prepare
    const limitedClient = createHttpClient({ connectionsPerOrigin: 1 });
    const target = await receiver('hang');

    // Act: the first request holds the only connection for 1 s; the second waits behind it.
    const holding = limitedClient.send(requestTo(target.url, { timeoutMs: 1_000 }));
    const waiting = await limitedClient.send(requestTo(target.url, { timeoutMs: 100 }));
    await holding;
    await limitedClient.close();

    // Assess
    expect(waiting).toMatchObject({
      errorClass: 'timeout',
      errorMessage: 'timed out after 100 ms',
    });
    expect(waiting.latencyMs).toBeLessThan(800);
  });

  it.each([
    ['does not parse', 'not a url', 'URL does not parse'],
    [
      'has a non-HTTP scheme',
      'ftp://files.example/x',
      'URL scheme must be http or https, not ftp:',
    ],
    [
      'carries credentials',
      'https://user:s3cr3t@hooks.example/x',
      'URL must not carry user:password@; send an Authorization header instead',
    ],
  ])('returns invalid_url when the URL %s', async (_case, url, message) => {
    // Act
    const result = await client.send(requestTo(url));

    // Assess
    expect(result).toEqual({
      latencyMs: 0,
      bodySnippet: '',
      bodyTruncated: false,
      errorClass: 'invalid_url',
      errorMessage: message,
    });
    expect(classifyResult(result).outcome).toBe('permanent');
  });

  it('sends U+0080-U+00FF in a header value as one Latin-1 byte each and refuses anything above', async () => {
    // Prepare: the receiver reads header bytes as Latin-1, so UTF-8 would arrive as "Ã©".
    const target = await receiver({ status: 200 });

    // Act
    const latin1 = await client.send(requestTo(target.url, { headers: { 'x-note': 'équipe' } }));
    const beyond = await client.send(requestTo(target.url, { headers: { 'x-note': '✓' } }));

    // Assess
    expect(latin1.status).toBe(200);
    expect(target.requests[0]?.headers['x-note']).toBe('équipe');
    expect(beyond.errorClass).toBe('invalid_request');
    expect(target.requests).toHaveLength(1);
  });

  it('returns invalid_request for a header value with CR/LF, without echoing it', async () => {
    // Prepare
    const target = await receiver({ status: 200 });

    // Act
    const result = await client.send(
      requestTo(target.url, { headers: { authorization: 'Bearer s3cr3t\r\nx-evil: 1' } }),
    );

    // Assess
    expect(result.errorClass).toBe('invalid_request');
    expect(result.errorMessage).not.toContain('s3cr3t');
    expect(classifyResult(result).outcome).toBe('permanent');
    expect(target.requests).toHaveLength(0);
  });

  it('never puts the URL (which may hold a secret) in an error message', async () => {
    // Prepare
    const hanging = await receiver('hang');
    const refusedUrl = await closedPortUrl();
    const secretPath = '/hooks/s3cr3t-path?token=s3cr3t-query';

    // Act
    const results = await Promise.all([
      client.send(requestTo(`${hanging.url}${secretPath}`)),
      client.send(requestTo(`${refusedUrl}${secretPath}`)),
      client.send(requestTo(`${hanging.url.replace('http:', 'https:')}${secretPath}`)),
    ]);

    // Assess
    expect(results.map((r) => r.errorClass)).toEqual(['timeout', 'connection_refused', 'tls']);
    for (const result of results) {
      expect(result.errorMessage).toBeDefined();
      expect(result.errorMessage).not.toContain('s3cr3t');
      expect(result.errorMessage).not.toContain('127.0.0.1');
    }
  });
});

describe('Function: classifyTransportError()', () => {
  it.each([
    ['ECONNREFUSED', 'connection_refused'],
    ['ECONNRESET', 'connection_reset'],
    ['EPIPE', 'connection_reset'],
    ['ECONNABORTED', 'connection_reset'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ETIMEDOUT', 'timeout'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['CERT_HAS_EXPIRED', 'tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls'],
    ['EPROTO', 'tls'],
    ['ERR_INVALID_CHAR', 'invalid_request'],
    ['ERR_INVALID_HTTP_TOKEN', 'invalid_request'],
    ['ERR_HTTP_CONTENT_LENGTH_MISMATCH', 'invalid_request'],
    ['EHOSTUNREACH', 'network'],
    ['SOMETHING_NEW', 'network'],
  ])('maps code %s to %s', (code, errorClass) => {
    // Act
    const classified = classifyTransportError(withCode(code));

    // Assess
    expect(classified).toEqual({ errorClass, code });
  });

  it('looks through cause chains and AggregateError members', () => {
    // Prepare
    const wrapped = new Error('fetch failed', { cause: withCode('ECONNRESET') });
    const aggregate = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'x');

    // Act
    const fromCause = classifyTransportError(wrapped);
    const fromAggregate = classifyTransportError(aggregate);

    // Assess
    expect(fromCause).toEqual({ errorClass: 'connection_reset', code: 'ECONNRESET' });
    expect(fromAggregate).toEqual({ errorClass: 'connection_refused', code: 'ECONNREFUSED' });
  });

  it('prefers tls over a reset found underneath it', () => {
    // Act
    const classified = classifyTransportError(
      Object.assign(new Error('tls', { cause: withCode('ECONNRESET') }), { code: 'ERR_SSL_X' }),
    );

    // Assess
    expect(classified.errorClass).toBe('tls');
  });

  it.each([
    ['an AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'timeout'],
    ['a TimeoutError', new DOMException('late', 'TimeoutError'), 'timeout'],
    ['a plain Error', new Error('??'), 'network'],
    ['a non-error value', 'just a string', 'network'],
  ])('maps %s without a code', (_case, error, errorClass) => {
    // Act
    const classified = classifyTransportError(error);

    // Assess
    expect(classified).toEqual({ errorClass });
  });
});

describe('Function: createHttpClient().close()', () => {
  it('lets in-flight sends finish before closing the connections', async () => {
    // Prepare
    const target = await startReceiver({ status: 200, body: 'late', delayMs: 100 });
    const closingClient = createHttpClient();

    // Act
    const sending = closingClient.send(requestTo(target.url, { timeoutMs: 5_000 }));
    await closingClient.close();
    const result = await sending;
    await target.close();

    // Assess
    expect(result).toMatchObject({ status: 200, bodySnippet: 'late' });
  });
});

describe('Function: defaultHttpClient()', () => {
  it('returns one shared client until it is closed', async () => {
    // Act
    const first = defaultHttpClient();
    const second = defaultHttpClient();
    await first.close();
    const third = defaultHttpClient();
    await third.close();

    // Assess
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });
});
