import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// listen(0) hands out ports from the kernel's ephemeral range, which is also where outgoing
// connections take theirs: a port handed out that way can be taken by a client socket (an undici
// pool, a Redis connection) before the server that was given it binds it (EADDRINUSE). Ports below
// that range are only ever taken by a listen, so they are drawn from there and tried first.
const LOWEST = 10_000;
const EPHEMERAL_FROM = ephemeralRangeStart();
const handedOut = new Set<number>();

/** A TCP port on 127.0.0.1 that was free a moment ago, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50 && EPHEMERAL_FROM > LOWEST; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (EPHEMERAL_FROM - LOWEST));
    if (handedOut.has(port)) continue;
    // Reserved before the check, so that concurrent callers never get the same one.
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  return kernelPort();
}

function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || LOWEST;
  } catch {
    return LOWEST;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
