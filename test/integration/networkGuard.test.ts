import { createHttpClient, type HttpClient } from '../../shared/http.js';
import { guardedConnector, isBlockedAddress } from '../../shared/networkGuard.js';
import { type Receiver, startReceiver } from '../helpers/receivers.js';

describe('Function: isBlockedAddress()', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fd00:ec2::254', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:169.254.169.254', true],
    ['64:ff9b::a00:1', true],
    ['not-an-ip', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['100.128.0.1', false],
    ['93.184.215.14', false],
    ['2606:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('%s → blocked %s', (address, blocked) => {
    // Act & Assess
    expect(isBlockedAddress(address)).toBe(blocked);
  });
});

describe('Function: guardedConnector()', () => {
  let receiver: Receiver;
  let guarded: HttpClient;
  let open: HttpClient;

  beforeAll(async () => {
    receiver = await startReceiver({ status: 200 });
    guarded = createHttpClient({ connect: guardedConnector() });
    open = createHttpClient();
  });

  afterAll(async () => {
    await guarded.close();
    await open.close();
    await receiver.close();
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
  ])('refuses %s without connecting, as a permanent blocked_address', async (template) => {
    // Prepare
    const url = template.replace('PORT', String(receiver.port));
    const before = receiver.connectionCount;

    // Act
    const result = await send(guarded, url);

    // Assess
    expect(result.errorClass).toBe('blocked_address');
    expect(result.status).toBeUndefined();
    expect(receiver.connectionCount).toBe(before);
  });

  it('lets the same request through without the guard (allow_private_network)', async () => {
    // Act
    const result = await send(open, `http://127.0.0.1:${receiver.port}/hook`);

    // Assess
    expect(result.status).toBe(200);
  });
});
