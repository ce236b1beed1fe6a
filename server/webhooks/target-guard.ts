import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a webhook may not be sent to unless WEBHOOK_ALLOW_PRIVATE_TARGETS is set: loopback, private,
 * link-local (cloud metadata services live at 169.254.169.254), carrier-grade NAT, benchmarking, multicast and
 * reserved ranges. An admin who registers `http://10.0.0.5/…` or a name that resolves there would otherwise
 * make every node POST into the internal network (server-side request forgery).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** True when `ip` (v4 or v6, IPv4-mapped v6 included) is in none of the blocked ranges. */
export function isPublicAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return isPublicAddress(mapped[1]!);
  const family = isIP(ip);
  if (family === 0) return false;
  return !blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** The error a refused target fails with; its code ends up in the delivery log. */
export class PrivateTargetError extends Error {
  readonly code = 'EPRIVATETARGET';
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private or reserved address (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`);
  }
}

/**
 * A `dns.lookup` for the webhook client's connections: resolves every address of the host and refuses the
 * connection if any is not public. It runs for the connection itself, so a name that resolved to a public
 * address when checked cannot switch to a private one before connecting (DNS rebinding).
 */
export function publicOnlyLookup(
  hostname: string,
  options: { family?: number | string; all?: boolean },
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { all: true, family: typeof options.family === 'number' ? options.family : 0 }, (err, addresses) => {
    if (err) return callback(err, '');
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) return callback(new PrivateTargetError(hostname, bad.address), '');
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}

/**
 * For the admin API: refuses a URL whose host is a private or reserved address literal, or `localhost`, at once
 * with a clear reason. Names are checked again, by resolution, at every delivery (publicOnlyLookup).
 */
export function privateLiteralHost(url: string): string | undefined {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return host;
  return isIP(host) && !isPublicAddress(host) ? host : undefined;
}
