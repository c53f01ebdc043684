import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { type Dispatcher, Pool } from 'undici';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, HTTP_METHODS } from '#sessiongate/config';
import { sendError, Telemetry } from '#sessiongate/observability';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers.js';
import { ProxyError } from './proxy.errors.js';
import { isReplayable, readDeclaredBody } from './replayable-body.js';
import { UPSTREAM_AUTHORIZER, type UpstreamAuthorizer } from './upstream-authorizer.js';
import type { UpstreamCredential } from './upstream-credential.js';
import { resolveUpstream } from './upstream-path.js';
import { limitBody } from './body-limit.js';

// No TRACE: an upstream echoing it would hand the access token the gateway adds to the browser.
const METHODS: HTTPMethods[] = [...HTTP_METHODS];
/** Keep-alive connections per upstream origin (as @fastify/reply-from): parallel enough, yet bounded. */
const CONNECTIONS_PER_UPSTREAM = 128;

/**
 * Cancels the upstream call once the client has left. undici takes an EventEmitter that emits 'abort'
 * as a signal: one per request costs a twentieth of an AbortController (about 0.3 µs against 5).
 */
class ClientGone extends EventEmitter {
  aborted = false;

  abort(): void {
    this.aborted = true;
    this.emit('abort');
  }
}

/**
 * The `/api` reverse proxy, registered straight on Fastify rather than as a Nest controller: request
 * and response bodies stream through untouched, and the routing decision is taken by
 * `resolveUpstream` on the raw request target, which is exactly what gets forwarded.
 */
@Injectable()
export class ProxyRoutes implements OnModuleInit, OnApplicationShutdown {
  /** One pool per upstream origin; the configured routes are the only upstreams ever called. */
  private readonly pools: ReadonlyMap<string, Pool>;
  /** Each route's pool, found without reading `target.origin` (a URL getter builds that string on every call). */
  private readonly routePools: ReadonlyMap<ApiRoute, Pool>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(UPSTREAM_AUTHORIZER) private readonly authorizer: UpstreamAuthorizer,
    private readonly adapterHost: HttpAdapterHost,
    private readonly telemetry: Telemetry,
  ) {
    const origins = new Set(config.routes.map((route) => route.target.origin));
    this.pools = new Map(
      [...origins].map((origin) => [
        origin,
        new Pool(origin, {
          connections: CONNECTIONS_PER_UPSTREAM,
          pipelining: 1,
          connect: { timeout: config.proxy.connectTimeoutMs },
        }),
      ]),
    );
    this.routePools = new Map(config.routes.map((route) => [route, this.pools.get(route.target.origin)!]));
  }

  /** Runs during `app.init()`, before `listen()` makes Fastify ready: a plugin registered after that would be refused. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register(async (api) => {
      // Encapsulated, so only these routes pass the body stream on as it arrives (no parsing, no buffering).
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('*', (_request, body, done) => done(null, body));
      const handler = (request: FastifyRequest, reply: FastifyReply) => this.forward(request, reply);
      // Security headers on these responses are the API's own: the gateway adds none (see isApiPath in startGateway).
      for (const url of ['/api', '/api/*']) api.route({ method: METHODS, url, handler });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }

  /** The /api steps after the onRequest hooks, numbered as in docs/REQUEST-PIPELINE.md; each one refuses by throwing. */
  private async forward(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const clientGone = new ClientGone();
    // 'close' also fires after every finished response; aborting then would cost a DOMException per request.
    // It fires once: `on` spares the wrapper `once` makes.
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    });
    try {
      // 3. route
      const { route, path } = resolveUpstream(this.config.routes, request.url);
      request.apiRoute = route.prefix;
      // 4-7. CSRF header, session, route policy, token
      const credential = await this.authorizer.authorize(request, route);
      // 8. body limit
      const replayable = isReplayable(request.headers);
      const incoming = limitBody(request.body as Readable | undefined, request.headers, route.maxBodyBytes);
      // A body that may have to be sent twice is read before the first attempt; any other streams through untouched.
      const body =
        replayable && incoming !== undefined ? await readDeclaredBody(incoming, Number(request.headers['content-length'] ?? 0)) : incoming;
      // 9. upstream
      let upstream = await this.send(request, route, path, credential, body, clientGone, 0);
      if (upstream.statusCode === 401 && credential !== undefined) {
        upstream = await this.retryAfter401(request, route, path, credential, body, replayable, upstream, clientGone);
      }
      // Fastify pipes the body with backpressure, and destroys the connection if the upstream fails mid-body.
      return reply.code(upstream.statusCode).headers(downstreamResponseHeaders(upstream.headers, route.allowSetCookie)).send(upstream.body);
    } catch (error) {
      // A client that left needs no answer: the upstream call was cancelled on purpose.
      if (!clientGone.aborted) sendError(request, reply, error);
      return reply;
    }
  }

  /**
   * An upstream can refuse a token before its expiry (revoked, keys rotated), which the gateway only learns
   * from that 401, or ask for a fresh proof (a DPoP nonce): the authorizer gets one chance, told what the
   * refused credential's `retryAfter401` makes of the answer. The retry's answer goes to the client whatever
   * it is, so a 401 never loops; without another credential, the refusal itself is passed on, which is why
   * its body is only discarded once a retry is certain. A step-up challenge (RFC 9470) is answered by the
   * authorizer's refusal whatever the body, since it is never retried; any other 401 is retried only when
   * the body can be sent again.
   */
  private async retryAfter401(
    request: FastifyRequest,
    route: ApiRoute,
    path: string,
    rejected: UpstreamCredential,
    body: Buffer | Readable | undefined,
    replayable: boolean,
    refused: Dispatcher.ResponseData,
    signal: ClientGone,
  ): Promise<Dispatcher.ResponseData> {
    const options = rejected.retryAfter401(refused.headers);
    if (options.stepUp === undefined && !replayable) return refused;
    let renewed: UpstreamCredential | undefined;
    try {
      renewed = await this.authorizer.authorize(request, route, options);
    } catch (error) {
      await refused.body.dump();
      throw error;
    }
    // The same Authorization with nothing made anew for the attempt would only be refused again.
    if (renewed === undefined || (renewed.authorization === rejected.authorization && renewed.attemptHeaders === undefined)) return refused;
    // Read off (up to undici's limit) rather than destroyed, so that the connection goes back to the pool.
    await refused.body.dump();
    return this.send(request, route, path, renewed, body, signal, 1);
  }

  /** `resendCount`: 0, or 1 for the retry with a renewed token. */
  private async send(
    request: FastifyRequest,
    route: ApiRoute,
    path: string,
    credential: UpstreamCredential | undefined,
    body: Buffer | Readable | undefined,
    signal: ClientGone,
    resendCount: number,
  ): Promise<Dispatcher.ResponseData> {
    const method = request.method as Dispatcher.HttpMethod;
    const call = this.telemetry.upstreamStarted(route.prefix, resendCount);
    const headers = upstreamRequestHeaders(request.headers, {
      clientIp: request.ip,
      publicUrl: this.config.publicUrl,
      target: route.target,
      requestId: String(request.id),
      credential,
      method,
      path,
    });
    // With tracing on, this attempt's traceparent; the metrics alone add nothing.
    this.telemetry.propagate(headers, call);
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await this.routePools.get(route)!.request({
        method,
        path,
        headers,
        body,
        signal,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.idleTimeoutMs,
      });
    } catch (error) {
      const failure = ProxyError.fromUpstream(error, route.target.origin);
      this.telemetry.upstreamEnded(call, route.prefix, resendCount, failure.code);
      throw failure;
    }
    this.telemetry.upstreamEnded(call, route.prefix, resendCount, upstream.statusCode);
    return upstream;
  }
}
