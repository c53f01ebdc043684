import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** Whether the address at hop `hop` (0: the socket's peer) is a proxy of TRUST_PROXY, whose X-Forwarded-For is believed. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/** TRUST_PROXY compiled once, for Fastify's `trustProxy` and the /api data plane alike; false when it lists none. */
export function proxyTrust(trustProxy: readonly string[]): ProxyTrust | false {
  return trustProxy.length > 0 ? proxyAddr.compile([...trustProxy]) : false;
}

/**
 * The client's address, as Fastify's `request.ip` reads it: the socket's peer, or, through trusted
 * proxies only, the nearest address in X-Forwarded-For that is not one of them.
 */
export function clientAddress(request: IncomingMessage, trust: ProxyTrust | false): string {
  return trust === false ? (request.socket.remoteAddress ?? '') : proxyAddr(request, trust);
}
