/** The address rules of the SSRF guard, as a table; the guard on real connections is in
 * test/integration/networkGuard.test.ts. */
import { isBlockedAddress } from '../../shared/transport/networkGuard.js';

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
    ['64:ff9b:1::a00:1', true],
  ])('%s → blocked %s', (address, blocked) => {
    // Act & Assess
    expect(isBlockedAddress(address)).toBe(blocked);
  });
});

/**
 * IPv6 addresses that embed an IPv4 one (IPv4-compatible, -mapped, -translated, NAT64, 6to4,
 * Teredo) are judged by that IPv4 address, in every spelling: compressed, expanded, hex or
 * dotted tail, upper case, bracketed, with a zone id.
 */
describe('Function: isBlockedAddress() on IPv6 with an embedded IPv4 address', () => {
  /** The spellings of one address; `tail` is the embedded IPv4 as dotted quad and as hex. */
  interface Form {
    readonly mechanism: string;
    readonly spellings: (v4: string, hex: readonly [string, string]) => readonly string[];
  }

  const hexOf = (v4: string): [string, string] => {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  };
  const xorHex = (group: string): string => (Number.parseInt(group, 16) ^ 0xffff).toString(16);
  const full = (group: string): string => group.padStart(4, '0');

  const FORMS: readonly Form[] = [
    {
      mechanism: 'IPv4-compatible ::/96',
      spellings: (v4, [hi, lo]) => [
        `::${v4}`,
        `::${hi}:${lo}`,
        `0:0:0:0:0:0:${v4}`,
        `0000:0000:0000:0000:0000:0000:${full(hi)}:${full(lo)}`,
        `::${hi.toUpperCase()}:${lo.toUpperCase()}`,
        `[::${v4}]`,
        `::${v4}%eth0`,
      ],
    },
    {
      mechanism: 'IPv4-mapped ::ffff:0:0/96',
      spellings: (v4, [hi, lo]) => [
        `::ffff:${v4}`,
        `::FFFF:${v4}`,
        `::ffff:${hi}:${lo}`,
        `0:0:0:0:0:ffff:${hi}:${lo}`,
        `0000:0000:0000:0000:0000:FFFF:${full(hi)}:${full(lo)}`,
        `[::ffff:${v4}]`,
        `::ffff:${v4}%25en0`,
      ],
    },
    {
      mechanism: 'IPv4-translated ::ffff:0:0:0/96',
      spellings: (v4, [hi, lo]) => [
        `::ffff:0:${v4}`,
        `::ffff:0:${hi}:${lo}`,
        `0:0:0:0:ffff:0:${v4}`,
        `0000:0000:0000:0000:FFFF:0000:${full(hi)}:${full(lo)}`,
        `::FFFF:0:${v4}%1`,
      ],
    },
    {
      mechanism: 'NAT64 64:ff9b::/96',
      spellings: (v4, [hi, lo]) => [
        `64:ff9b::${v4}`,
        `64:ff9b::${hi}:${lo}`,
        `64:FF9B:0:0:0:0:${v4}`,
        `0064:ff9b:0000:0000:0000:0000:${full(hi)}:${full(lo)}`,
        `[64:ff9b::${v4}]`,
      ],
    },
    {
      mechanism: '6to4 2002::/16',
      spellings: (_v4, [hi, lo]) => [
        `2002:${hi}:${lo}::`,
        `2002:${hi}:${lo}::1`,
        `2002:${hi.toUpperCase()}:${lo.toUpperCase()}:1234:5678:9abc:def0:1`,
        `2002:${full(hi)}:${full(lo)}:0000:0000:0000:0000:0001`,
        `[2002:${hi}:${lo}::1]`,
        `2002:${hi}:${lo}::1%eth0`,
      ],
    },
    {
      mechanism: 'Teredo 2001::/32 (client address XOR 0xffffffff)',
      spellings: (_v4, [hi, lo]) => [
        `2001:0:4136:e378:8000:63bf:${xorHex(hi)}:${xorHex(lo)}`,
        `2001::4136:e378:8000:63bf:${xorHex(hi).toUpperCase()}:${xorHex(lo).toUpperCase()}`,
        `2001:0000:4136:e378:8000:63bf:${full(xorHex(hi))}:${full(xorHex(lo))}`,
        `[2001:0:4136:e378:8000:63bf:${xorHex(hi)}:${xorHex(lo)}]`,
      ],
    },
  ];

  const BLOCKED_V4 = [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
  ];
  const PUBLIC_V4 = ['8.8.8.8', '93.184.215.14', '1.1.1.1'];

  const table = (addresses: readonly string[], blocked: boolean) =>
    FORMS.flatMap((form) =>
      addresses.flatMap((v4) =>
        form.spellings(v4, hexOf(v4)).map((spelling) => [form.mechanism, v4, spelling, blocked]),
      ),
    );

  it.each(table(BLOCKED_V4, true))('%s of %s: %s is refused', (_m, _v4, spelling) => {
    // Act & Assess
    expect(isBlockedAddress(spelling as string)).toBe(true);
  });

  it.each(table(PUBLIC_V4, false))('%s of %s: %s is allowed', (_m, _v4, spelling) => {
    // Act & Assess
    expect(isBlockedAddress(spelling as string)).toBe(false);
  });

  it('tests each mechanism in at least four spellings', () => {
    // Assess
    for (const form of FORMS)
      expect(form.spellings('127.0.0.1', hexOf('127.0.0.1')).length).toBeGreaterThanOrEqual(4);
  });
});
