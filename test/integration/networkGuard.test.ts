/**
 * The SSRF guard on real connections to a receiver on 127.0.0.1: every spelling of a private
 * address is refused before connecting; the open client reaches it. The address table is in
 * test/unit/networkGuard.test.ts.
 */
import { createHttpClient, type HttpClient } from '../../shared/transport/http.js';
import { guardedConnector } from '../../shared/transport/networkGuard.js';
import { useTestStack } from '../helpers/testStack.js';

describe('Function: guardedConnector()', () => {
  const stack = useTestStack({ http: true, receivers: { target: { status: 200 } } });
  let guarded: HttpClient;

  beforeAll(() => {
    guarded = stack.add(createHttpClient({ connect: guardedConnector() }), (client) =>
      client.close(),
    );
  });

  const send = (client: HttpClient, url: string) =>
    client.send({ method: 'POST', url, headers: {}, body: '{}', timeoutMs: 2_000 });

  it.each([
    'http://127.0.0.1:PORT/hook',
    'http://localhost:PORT/hook',
    'http://0x7f000001:PORT/hook',
    'http://2130706433:PORT/hook',
    'http://127.1:PORT/hook',
    'http://0177.0.0.1:PORT/hook',
    'http://[::1]:PORT/hook',
    'http://[::ffff:127.0.0.1]:PORT/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/hook',
    'http://100.64.0.1/hook',
    'http://192.168.0.10/hook',
    'http://[fd00::1]/hook',
    'http://[fd00:ec2::254]/latest/meta-data/',
    // IPv6 that embeds a blocked IPv4 address: compatible, mapped, translated, NAT64, 6to4, Teredo.
    'http://[::127.0.0.1]:PORT/hook',
    'http://[::FFFF:7F00:1]:PORT/hook',
    'http://[::ffff:0:127.0.0.1]:PORT/hook',
    'http://[64:ff9b::7f00:1]:PORT/hook',
    'http://[64:ff9b::169.254.169.254]/latest/meta-data/',
    'http://[2002:7f00:1::1]:PORT/hook',
    'http://[2002:a9fe:a9fe::]/latest/meta-data/',
    'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:PORT/hook',
    'http://[2001::4136:e378:8000:63bf:f5ff:fffe]/hook',
  ])('refuses %s without connecting, as a permanent blocked_address', async (template) => {
    // Prepare
    const url = template.replace('PORT', String(stack.receivers.target.port));
    const before = stack.receivers.target.connectionCount;

    // Act
    const result = await send(guarded, url);

    // Assess
    expect(result.errorClass).toBe('blocked_address');
    expect(result.status).toBeUndefined();
    expect(stack.receivers.target.connectionCount).toBe(before);
  });

  it('lets the same request through without the guard (allow_private_network)', async () => {
    // Act
    const result = await send(stack.http, `http://127.0.0.1:${stack.receivers.target.port}/hook`);

    // Assess
    expect(result.status).toBe(200);
  });
});
