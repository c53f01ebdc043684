import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** TRUST_PROXY's names, with the ranges Fastify's `trustProxy` (proxy-addr) gives them. */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The peers whose forwarding headers are believed: the TRUST_PROXY list, read as Fastify reads it for
 * `request.ip` (addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`; an IPv4-mapped IPv6
 * peer counts as its IPv4 address). Judged on the socket's peer, never on X-Forwarded-For: the peer is
 * who wrote the headers.
 */
export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries.flatMap((name) => NAMED_RANGES[name] ?? [name])) {
      const [address = '', bits] = entry.split('/');
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
  }

  has(peer: string | undefined): boolean {
    if (peer === undefined) return false;
    const address = MAPPED_IPV4.exec(peer)?.[1] ?? peer;
    if (isIPv4(address)) return this.list.check(address, 'ipv4');
    return isIPv6(address) && this.list.check(address, 'ipv6');
  }
}
