import { type IncomingMessage, request as httpRequest, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { CLOSE_REASONS, type CloseReason, endSocketWithError, requestIdFor, Telemetry, toGatewayError } from '#sessiongate/observability';
import { assertHandshakeAllowed } from './handshake.check.js';
import { downstreamResponseHeaders, type ForwardedHeaders, upstreamRequestHeaders } from './proxy-headers.js';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';
import { type SessionLease, UPSTREAM_AUTHORIZER, type UpgradeGrant, type UpstreamAuthorizer } from './upstream-authorizer.js';
import type { UpstreamCredential } from './upstream-credential.js';
import { resolveUpstream } from './upstream-path.js';
import { closeFrame, FrameBoundary } from './websocket-frames.js';

/** setTimeout fires at once beyond this (about 24.8 days); the periodic check covers sessions that long. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a peer sent a close frame has to hang up before its connection is cut. */
const CLOSE_GRACE_MS = 1000;
/** TCP keep-alive on both sockets: a peer that vanished without hanging up (a dropped network) is noticed. */
const KEEP_ALIVE_MS = 30_000;

/** One open WebSocket: the browser's socket piped to the upstream's. */
interface Tunnel {
  close(reason: CloseReason): void;
}

/** The open WebSockets of one session, checked together. */
interface SessionTunnels {
  readonly lease: SessionLease;
  readonly tunnels: Set<Tunnel>;
  readonly timers: NodeJS.Timeout[];
  checking: boolean;
  /** A change was announced while a check ran, which may have read the session before it: check again. */
  recheck: boolean;
}

/** What the upstream answered to the handshake: a switch to the WebSocket protocol (with its socket), or a refusal. */
type Handshake =
  | { readonly response: IncomingMessage; readonly socket: Socket; readonly head: Buffer }
  | { readonly response: IncomingMessage; readonly socket: undefined };

/**
 * WebSockets on routes with `websocket: true`, from the Node server's `upgrade` event (Fastify does
 * not handle upgrades). The handshake is checked like an /api request, with an Origin check in place
 * of X-CSRF, and forwarded with the route's token and the same header hygiene and path rules; then
 * the two sockets are piped together, byte for byte. A connection never outlives its session: the
 * session is checked as soon as the session store announces a change to it (another instance's
 * too), every WEBSOCKET_SESSION_CHECK_MS in any case, and at its absolute expiry; `closeSession`
 * closes a session's connections at once.
 */
@Injectable()
export class WebSocketProxy implements OnModuleInit, BeforeApplicationShutdown {
  private readonly tunnels = new Set<Tunnel>();
  private readonly sessions = new Map<string, SessionTunnels>();
  private readonly listedOrigins: ReadonlySet<string>;
  private log!: FastifyBaseLogger;
  private closing = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(UPSTREAM_AUTHORIZER) private readonly authorizer: UpstreamAuthorizer,
    private readonly adapterHost: HttpAdapterHost,
    private readonly telemetry: Telemetry,
  ) {
    this.listedOrigins = new Set(config.corsAllowedOrigins);
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.log = fastify.log;
    fastify.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(request, socket, head));
    // Only where WebSockets can open: watching keeps a Redis subscription open.
    if (this.config.routes.some((route) => route.websocket)) this.authorizer.watchSessions((key) => void this.check(key));
  }

  /**
   * Closes every open WebSocket of a session at once (close code 1008, reason `session_ended`, to
   * both ends), and returns how many. `key` is the session's store key hash (`sessionKeyHash`: the
   * key the session store and its caches use, never the cookie value). For whatever learns first
   * that a session ended (e.g. a revocation broadcast): without a call, the periodic check closes
   * them within WEBSOCKET_SESSION_CHECK_MS.
   */
  closeSession(key: string): number {
    const tunnels = [...(this.sessions.get(key)?.tunnels ?? [])];
    for (const tunnel of tunnels) tunnel.close('session_ended');
    return tunnels.length;
  }

  /** Before the HTTP server closes, which would otherwise wait for every open WebSocket to end. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const tunnel of [...this.tunnels]) tunnel.close(ProxyErrorCode.ShuttingDown);
  }

  private async upgrade(request: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const requestId = requestIdFor(request);
    const log = this.log.child({ reqId: requestId });
    const path = (request.url ?? '').split('?', 1)[0];
    client.on('error', (error) => log.debug({ err: error, path }, 'websocket client connection failed'));
    try {
      if (this.closing) throw new ProxyError(ProxyErrorCode.ShuttingDown);
      if (request.method !== 'GET' || request.headers.upgrade?.toLowerCase() !== 'websocket') {
        throw new ProxyError(ProxyErrorCode.UpgradeNotAllowed, { detail: `${request.method} with Upgrade: ${request.headers.upgrade}` });
      }
      const { route, path: upstreamPath } = resolveUpstream(this.config.routes, request.url ?? '');
      assertHandshakeAllowed(route, request.headers, this.config.publicUrl.origin, this.listedOrigins);
      const grant = await this.authorizer.authorizeUpgrade(request, route);
      if (client.destroyed) return;
      const handshake = await this.handshake(request, route, upstreamPath, grant.credential, requestId, client);
      if (client.destroyed || this.closing) {
        handshake.response.destroy();
        handshake.socket?.destroy();
        if (client.destroyed) return;
        throw new ProxyError(ProxyErrorCode.ShuttingDown);
      }
      if (handshake.socket === undefined) {
        log.info({ path, status: handshake.response.statusCode }, 'websocket refused by the API');
        passRefusal(handshake.response, client, route);
        return;
      }
      client.write(
        responseHead(101, {
          ...downstreamResponseHeaders(handshake.response.headers, route.allowSetCookie),
          connection: 'Upgrade',
          upgrade: 'websocket',
          'x-request-id': requestId,
        }),
      );
      this.open(client, head, handshake.socket, handshake.head, grant, path!, log);
    } catch (error) {
      // A client that left during the handshake needs no answer.
      if (client.destroyed) return;
      const refusal = toGatewayError(error);
      const fields = { err: refusal === error ? undefined : error, code: refusal.code, detail: refusal.detail, path };
      if (refusal.status >= 500) log.error(fields, 'websocket refused');
      else log.info(fields, 'websocket refused');
      endSocketWithError(client, refusal, requestId);
    }
  }

  /** Sends the handshake upstream; settles on its answer, on a failure, or when the client leaves. */
  private handshake(
    request: IncomingMessage,
    route: ApiRoute,
    path: string,
    credential: UpstreamCredential | undefined,
    requestId: string,
    client: Duplex,
  ): Promise<Handshake> {
    const { target } = route;
    const headers = upstreamRequestHeaders(request.headers, {
      clientIp: request.socket.remoteAddress ?? '',
      publicUrl: this.config.publicUrl,
      target,
      requestId,
      credential,
      method: 'GET',
      path,
    });
    // A handshake is no traced request: with tracing on, the client's traceparent passes only if trusted.
    this.telemetry.propagate(headers);
    return new Promise<Handshake>((resolve, reject) => {
      const upstream = (target.protocol === 'https:' ? httpsRequest : httpRequest)({
        host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port,
        path,
        method: 'GET',
        // Hop-by-hop, so stripped from what the client sent: the upgrade is asked for again on this hop.
        headers: { ...headers, connection: 'Upgrade', upgrade: 'websocket' },
        // An upgraded connection never goes back to a pool.
        agent: false,
      });
      const settle = () => {
        clearTimeout(connectTimer);
        clearTimeout(headersTimer);
        client.off('close', clientLeft);
      };
      const fail = (error: unknown) => {
        settle();
        upstream.destroy();
        reject(error);
      };
      const clientLeft = () => fail(new ProxyError(ProxyErrorCode.UpstreamUnavailable, { detail: 'the client left during the handshake' }));
      const connectTimer = setTimeout(
        () => fail(new ProxyError(ProxyErrorCode.UpstreamUnavailable, { detail: `${target.origin}: connect timeout` })),
        this.config.proxy.connectTimeoutMs,
      );
      const headersTimer = setTimeout(
        () => fail(new ProxyError(ProxyErrorCode.UpstreamTimeout, { detail: `${target.origin}: no handshake answer` })),
        route.timeoutMs,
      );
      client.once('close', clientLeft);
      upstream.once('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
      upstream.once('error', (error) => fail(ProxyError.fromUpstream(error, target.origin)));
      upstream.once('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
        settle();
        resolve({ response, socket, head });
      });
      upstream.once('response', (response: IncomingMessage) => {
        settle();
        resolve({ response, socket: undefined });
      });
      upstream.end();
    });
  }

  /**
   * Pipes the two sockets together. Each direction's frame boundaries are followed, so that the gateway
   * can end the connection itself with a close frame (code and reason) that both ends understand.
   */
  private open(
    client: Duplex,
    clientHead: Buffer,
    upstream: Socket,
    upstreamHead: Buffer,
    grant: UpgradeGrant,
    path: string,
    log: FastifyBaseLogger,
  ): void {
    const openedAt = Date.now();
    const toClient = new FrameBoundary();
    const toUpstream = new FrameBoundary();
    let closedBy: CloseReason | undefined;
    const tunnel: Tunnel = {
      close: (reason) => {
        if (closedBy !== undefined) return;
        closedBy = reason;
        const code = CLOSE_REASONS[reason].closeCode;
        upstream.unpipe(client);
        client.unpipe(upstream);
        // Whatever the peers still send is read and dropped, so that neither gets a reset for unread data.
        upstream.resume();
        client.resume();
        endWith(client, toClient.atBoundary ? closeFrame(code, reason, false) : undefined);
        endWith(upstream, toUpstream.atBoundary ? closeFrame(code, reason, true) : undefined);
      },
    };
    this.tunnels.add(tunnel);
    if (grant.session) this.join(grant.session, tunnel);
    upstream.on('error', (error) => log.debug({ err: error, path }, 'websocket upstream connection failed'));
    let open = 2;
    for (const [from, to, boundary] of [
      [client, upstream, toUpstream],
      [upstream, client, toClient],
    ] as const) {
      (from as Socket).setNoDelay?.(true);
      (from as Socket).setKeepAlive?.(true, KEEP_ALIVE_MS);
      from.on('data', (chunk: Buffer) => boundary.push(chunk));
      from.pipe(to);
      from.once('close', () => {
        // A clean end reaches the other side through the pipe; a reset must be passed on by hand.
        if (!from.readableEnded && closedBy === undefined) to.destroy();
        if (--open > 0) return;
        this.tunnels.delete(tunnel);
        if (grant.session) this.leave(grant.session.key, tunnel);
        log.info({ path, ms: Date.now() - openedAt, closedBy }, 'websocket closed');
      });
    }
    if (upstreamHead.length > 0) {
      toClient.push(upstreamHead);
      client.write(upstreamHead);
    }
    if (clientHead.length > 0) {
      toUpstream.push(clientHead);
      upstream.write(clientHead);
    }
  }

  private join(lease: SessionLease, tunnel: Tunnel): void {
    let group = this.sessions.get(lease.key);
    if (!group) {
      const timers = [setInterval(() => void this.check(lease.key), this.config.proxy.websocketSessionCheckMs)];
      if (lease.expiresInMs <= MAX_TIMER_MS) timers.push(setTimeout(() => this.closeSession(lease.key), Math.max(0, lease.expiresInMs)));
      for (const timer of timers) timer.unref();
      group = { lease, tunnels: new Set(), timers, checking: false, recheck: false };
      this.sessions.set(lease.key, group);
    }
    group.tunnels.add(tunnel);
  }

  private leave(key: string, tunnel: Tunnel): void {
    const group = this.sessions.get(key);
    if (!group?.tunnels.delete(tunnel) || group.tunnels.size > 0) return;
    for (const timer of group.timers) clearTimeout(timer);
    this.sessions.delete(key);
  }

  /**
   * A store that cannot be reached keeps the connections open: closing every WebSocket on a Redis
   * failover would only have them all reconnect into 503s. The absolute expiry still applies.
   */
  private async check(key: string): Promise<void> {
    const group = this.sessions.get(key);
    if (!group) return;
    if (group.checking) {
      group.recheck = true;
      return;
    }
    group.checking = true;
    try {
      if (!(await group.lease.isAlive())) this.closeSession(key);
    } catch (error) {
      this.log.warn({ err: error, code: toGatewayError(error).code }, 'websocket session check failed; connections kept open');
    } finally {
      group.checking = false;
    }
    if (group.recheck) {
      group.recheck = false;
      await this.check(key);
    }
  }
}

/** Ends a connection with a close frame, or cuts it when there is none to send (in the middle of a frame). */
function endWith(socket: Duplex, frame: Buffer | undefined): void {
  if (frame === undefined || socket.destroyed) {
    socket.destroy();
    return;
  }
  socket.end(frame);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/** The upstream's refusal of the handshake (e.g. its own 401 or 404) goes to the client as it is, headers cleaned. */
function passRefusal(response: IncomingMessage, client: Duplex, route: ApiRoute): void {
  client.write(
    responseHead(response.statusCode!, { ...downstreamResponseHeaders(response.headers, route.allowSetCookie), connection: 'close' }),
  );
  response.pipe(client);
  response.once('error', () => client.destroy());
}

function responseHead(status: number, headers: ForwardedHeaders): string {
  const lines = Object.entries(headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((item) => `${name}: ${item}\r\n`),
  );
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n`;
}
