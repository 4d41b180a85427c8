/**
 * The SSRF guard: refuses connections to loopback, private, link-local, CGNAT, unique-local,
 * multicast, reserved and cloud-metadata addresses. It checks the address actually connected
 * to, after DNS resolution, so a host name that resolves (or re-resolves: DNS rebinding) to a
 * private address fails too, and so do the odd spellings of 127.0.0.1 (`0x7f000001`,
 * `2130706433`, `127.1`), which URL parsing turns into the same address.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { ExportConfig } from '../config/types.js';
import { createHttpClient, type HttpClient } from './http.js';

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
];

const blockList = new BlockList();
for (const [network, prefix, family] of BLOCKED_RANGES)
  blockList.addSubnet(network, prefix, family);

/** The IPv4 address embedded in an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 IPv6 address. */
const embeddedIpv4 = (address: string): string | undefined => {
  const match =
    /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(
      address,
    );
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2] ?? '0', 16);
  const low = Number.parseInt(match[3] ?? '0', 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
};

/**
 * Whether an IP address is one the guard refuses. Anything that is not an IP address is
 * refused too: the guard only ever sees resolved addresses.
 *
 * @example
 * isBlockedAddress('169.254.169.254'); // true
 * isBlockedAddress('::ffff:127.0.0.1'); // true
 * isBlockedAddress('93.184.215.14'); // false
 */
const isBlockedAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return true;
  if (family === 4) return blockList.check(bare, 'ipv4');
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined) return blockList.check(v4, 'ipv4');
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

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** `dns.lookup` that fails when an address it would return is blocked. */
const guardedLookup = (
  hostname: string,
  options: { all?: boolean; family?: number } | number | undefined,
  callback: LookupCallback,
): void => {
  const lookupOptions = typeof options === 'number' ? { family: options } : (options ?? {});
  dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
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
 * An undici connector that refuses blocked addresses, for `createHttpClient({ connect })`.
 * Literal IP hosts are checked before connecting; host names through the guarded lookup.
 */
const guardedConnector = (): buildConnector.connector => {
  const connect = buildConnector({ lookup: guardedLookup as never });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && isBlockedAddress(host)) {
      callback(new BlockedAddressError(host), null);
      return;
    }
    connect(options, callback);
  };
};

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
