/**
 * The SSRF guard: refuses connections to loopback, private, link-local, CGNAT, unique-local,
 * multicast, reserved and cloud-metadata addresses. It checks the address actually connected
 * to, after DNS resolution, so a host name that resolves (or re-resolves: DNS rebinding) to a
 * private address fails too, and so do the odd spellings of 127.0.0.1 (`0x7f000001`,
 * `2130706433`, `127.1`), which URL parsing turns into the same address, and the IPv6
 * addresses that carry a blocked IPv4 one (IPv4-mapped, -compatible, -translated, NAT64,
 * 6to4, Teredo).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { ExportConfig } from '../config/types.js';
import { type ConnectOptions, createHttpClient, type HttpClient } from './http.js';

/** Ranges no webhook should reach unless an export opts in (`allow_private_network: true`). */
const BLOCKED_RANGES: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"
  ['10.0.0.0', 8, 'ipv4'], // private
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12, 'ipv4'], // private
  ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
  ['192.0.2.0', 24, 'ipv4'], // documentation
  ['192.168.0.0', 16, 'ipv4'], // private
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['198.51.100.0', 24, 'ipv4'], // documentation
  ['203.0.113.0', 24, 'ipv4'], // documentation
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['fc00::', 7, 'ipv6'], // unique-local (AWS metadata fd00:ec2::254 included)
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
  ['2001:db8::', 32, 'ipv6'], // documentation
  ['100::', 64, 'ipv6'], // discard
  ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64 (RFC 8215): translates to private networks
];

const blockList = new BlockList();
for (const [network, prefix, family] of BLOCKED_RANGES)
  blockList.addSubnet(network, prefix, family);

/**
 * The eight 16-bit groups of an IPv6 address (`isIP` said it is one: at most one `::`, an
 * optional dotted IPv4 tail, no zone id), whatever its spelling: compressed or expanded,
 * upper or lower case, hex or dotted tail.
 */
const ipv6Groups = (address: string): number[] => {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const [head = '', tail] = text.split('::');
  if (tail === undefined) return parse(head);
  const before = parse(head);
  const after = parse(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
};

const dottedQuad = (high: number, low: number): string =>
  `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address carries, by the transition mechanisms that embed one, so
 * `::ffff:127.0.0.1` is judged as 127.0.0.1:
 * - IPv4-compatible `::a.b.c.d` (::/96, deprecated; `::` and `::1` become 0.0.0.0 and 0.0.0.1,
 *   blocked anyway) and IPv4-mapped `::ffff:a.b.c.d` (::ffff:0:0/96): the last 32 bits;
 * - IPv4-translated `::ffff:0:a.b.c.d` (::ffff:0:0:0/96, SIIT): the last 32 bits;
 * - NAT64 `64:ff9b::a.b.c.d` (64:ff9b::/96): the last 32 bits;
 * - 6to4 `2002:AABB:CCDD::` (2002::/16): bits 16-48;
 * - Teredo `2001:0:…` (2001::/32): the client's address, the last 32 bits XOR 0xffffffff.
 */
const embeddedIpv4 = (address: string): string | undefined => {
  const g = ipv6Groups(address);
  if (g.length !== 8) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = g;
  const zerosTo = (end: number): boolean => g.slice(0, end).every((group) => group === 0);
  if (zerosTo(5) && (g5 === 0 || g5 === 0xffff)) return dottedQuad(g6, g7);
  if (zerosTo(4) && g4 === 0xffff && g5 === 0) return dottedQuad(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return dottedQuad(g6, g7);
  }
  if (g0 === 0x2002) return dottedQuad(g1 ?? 0, g2 ?? 0);
  if (g0 === 0x2001 && g1 === 0) return dottedQuad(g6 ^ 0xffff, g7 ^ 0xffff);
  return undefined;
};

/**
 * Whether an IP address is one the guard refuses. Anything that is not an IP address is
 * refused too: the guard only ever sees resolved addresses.
 *
 * @example
 * isBlockedAddress('169.254.169.254'); // true
 * isBlockedAddress('::ffff:127.0.0.1'); // true
 * isBlockedAddress('2002:a00:1::'); // true (6to4 of 10.0.0.1)
 * isBlockedAddress('93.184.215.14'); // false
 */
const isBlockedAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return true;
  if (family === 4) return blockList.check(bare, 'ipv4');
  // An embedded IPv4 address reaches that address: judge it by its IPv4 ranges.
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined && blockList.check(v4, 'ipv4')) return true;
  return blockList.check(bare, 'ipv6');
};

/** The connection was refused by the guard; never retried (the address will not change). */
class BlockedAddressError extends Error {
  readonly code = 'ERR_TAPPASS_BLOCKED_ADDRESS';

  constructor(address: string) {
    super(
      `refused to connect to ${address}: a private, loopback, link-local or metadata address; set allow_private_network: true on the export to allow it`,
    );
    this.name = 'BlockedAddressError';
  }
}

/**
 * `dns.lookup` that fails when an address it would return is blocked: the `lookup` of a
 * socket, called for every new connection to a host name.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  // Every address is judged, not only the one returned: with `autoSelectFamily` Node.js tries
  // them all (Happy Eyeballs), and one private answer marks the name as hostile.
  const lookupOptions: LookupOptions = options ?? {};
  dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, []);
      return;
    }
    const blocked = addresses.find((entry) => isBlockedAddress(entry.address));
    if (blocked) {
      callback(new BlockedAddressError(blocked.address), []);
      return;
    }
    if (lookupOptions.all) {
      callback(null, addresses);
      return;
    }
    const first = addresses[0];
    if (!first) {
      callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(null, first.address, first.family);
  });
};

/**
 * Connection options that refuse blocked addresses, for `createHttpClient({ connect })`: host
 * names through the guarded lookup, which runs for every new connection (so a rebinding DNS
 * answer is judged too), and hosts written as IP addresses, which no lookup sees, before
 * connecting.
 */
const guardedConnector = (): ConnectOptions => ({
  lookup: guardedLookup,
  checkLiteralAddress: (address) =>
    isBlockedAddress(address) ? new BlockedAddressError(address) : undefined,
});

/**
 * The client that sends for an export: the guarded one unless the export allows private
 * addresses, or when no guard is in use (locally, by default).
 */
const clientForExport = (
  exportConfig: ExportConfig,
  clients: { readonly http: HttpClient; readonly guardedHttp?: HttpClient | undefined },
): HttpClient =>
  exportConfig.webhook.allow_private_network ? clients.http : (clients.guardedHttp ?? clients.http);

let guardedClient: HttpClient | undefined;

/**
 * The process-wide HTTP client with the guard, created on first use (one keep-alive pool per
 * container, like `defaultHttpClient`).
 *
 * @example
 * const result = await guardedHttpClient().send(request); // refuses 169.254.169.254
 */
const guardedHttpClient = (): HttpClient => {
  guardedClient ??= createHttpClient({ connect: guardedConnector() });
  return guardedClient;
};

export {
  BLOCKED_RANGES,
  BlockedAddressError,
  clientForExport,
  guardedConnector,
  guardedHttpClient,
  guardedLookup,
  isBlockedAddress,
};
