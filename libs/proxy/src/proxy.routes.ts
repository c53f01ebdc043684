import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Dispatcher, Pool } from 'undici';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, HTTP_METHODS } from '#sessiongate/config';
import { clientAddress, crossOriginAnswer, type ProxyTrust, proxyTrust } from '#sessiongate/http';
import { isApiPath, logCompletedRequest, requestIdFor, Telemetry, type TelemetryHandle, writeError } from '#sessiongate/observability';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers.js';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';
import { isReplayable, readDeclaredBody } from './replayable-body.js';
import { type AuthorizedRequest, UPSTREAM_AUTHORIZER, type UpstreamAuthorizer } from './upstream-authorizer.js';
import type { UpstreamCredential } from './upstream-credential.js';
import { resolveUpstream } from './upstream-path.js';
import { limitBody } from './body-limit.js';

// No TRACE: an upstream echoing it would hand the access token the gateway adds to the browser.
const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);
const ALLOW = { allow: HTTP_METHODS.join(', ') };
/** Keep-alive connections per upstream origin (as @fastify/reply-from): parallel enough, yet bounded. */
const CONNECTIONS_PER_UPSTREAM = 128;
/** The route label of an /api request that matched no configured route. */
const UNMATCHED = '/api/*';

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

/** The request's logger, bound to its id, made as Fastify makes its requests' (its `childLoggerFactory`: see startGateway). */
type RequestLoggerOf = (requestId: string, raw: IncomingMessage) => FastifyBaseLogger;

/**
 * One /api request: what the steps read and write (the authorizer's AuthorizedRequest, Telemetry's
 * ObservedRequest), and what its log line and telemetry report once the response is done.
 */
class ApiRequest implements AuthorizedRequest {
  readonly startedAt = performance.now();
  // 1. request id
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly log: FastifyBaseLogger;
  readonly telemetryHandle: TelemetryHandle;
  sessionPublicId: string | null = null;
  /** Read through requestPath by a Telemetry that routes on the path, as it reads a FastifyRequest's. */
  urlPath: string | null = null;
  /** The configured route's prefix, once step 3 found it. */
  route: string | null = null;
  errorCode: string | null = null;
  /** Set by the cross-origin step for a listed origin: on every response, errors included. */
  corsHeaders: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly raw: IncomingMessage,
    requestLogger: RequestLoggerOf,
    telemetry: Telemetry,
  ) {
    this.id = requestIdFor(raw);
    this.method = raw.method!;
    this.url = raw.url!;
    this.headers = raw.headers;
    this.log = requestLogger(this.id, raw);
    this.telemetryHandle = telemetry.requestStarted(this);
  }

  /** The URL's path, without the query string (for the log line only: routing reads `url` as received). */
  get path(): string {
    return pathOf(this.url);
  }
}

/**
 * The `/api` data plane: a node:http 'request' listener in front of Fastify that answers every `/api`
 * request itself and hands every other request to Fastify, so that the hot path runs only its own
 * steps (numbered as in docs/REQUEST-PIPELINE.md), each one plain function calls. Request and response
 * bodies stream through untouched, and the routing decision is taken by `resolveUpstream` on the raw
 * request target, which is exactly what gets forwarded. What Node's HTTP parser refuses (a malformed
 * request line, headers over the limit) never gets here: answerClientError answers it.
 */
@Injectable()
export class ProxyRoutes implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  /** One pool per upstream origin; the configured routes are the only upstreams ever called. */
  private readonly pools: ReadonlyMap<string, Pool>;
  /** Each route's pool, found without reading `target.origin` (a URL getter builds that string on every call). */
  private readonly routePools: ReadonlyMap<ApiRoute, Pool>;
  private readonly listedOrigins: ReadonlySet<string>;
  private readonly trust: ProxyTrust | false;
  private logger!: FastifyBaseLogger;
  private requestLogger!: RequestLoggerOf;
  private closing = false;

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
    this.listedOrigins = new Set(config.corsAllowedOrigins);
    this.trust = proxyTrust(config.trustProxy);
  }

  /** Puts the data plane in front of Fastify's own 'request' listener, which gets every request that is not /api's. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.logger = fastify.log;
    const childLogger = fastify.childLoggerFactory;
    this.requestLogger = (reqId, raw) => childLogger.call(fastify, fastify.log, { reqId }, {}, raw);
    const framework = fastify.routing;
    fastify.server.removeListener('request', framework);
    fastify.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (!isApiPath(pathOf(request.url!))) return framework(request, response);
      const api = new ApiRequest(request, this.requestLogger, this.telemetry);
      void this.telemetry.serving(api.telemetryHandle, () => this.forward(api, response));
    });
  }

  /** Before the server closes: requests still arriving on open connections are refused (503) rather than started. */
  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }

  /** Every step of an /api request, numbered as in docs/REQUEST-PIPELINE.md; each one refuses by throwing. */
  private async forward(request: ApiRequest, response: ServerResponse): Promise<void> {
    const clientGone = new ClientGone();
    // 'close' fires once, after the response is finished or when the connection drops; aborting after a
    // finished response would cost a DOMException per request.
    response.on('close', () => {
      if (!response.writableFinished) clientGone.abort();
      this.completed(request, response);
    });
    try {
      if (this.closing) throw new ProxyError(ProxyErrorCode.ShuttingDown);
      if (!METHODS.has(request.method)) throw new ProxyError(ProxyErrorCode.MethodNotAllowed, { headers: ALLOW });
      // 2. cross-origin
      const crossOrigin = crossOriginAnswer(request.headers, request.method, this.config.publicUrl.origin, this.listedOrigins);
      if (crossOrigin.refusal) throw crossOrigin.refusal;
      request.corsHeaders = crossOrigin.corsHeaders;
      if (crossOrigin.preflight) {
        response.writeHead(204, { ...crossOrigin.corsHeaders, 'x-request-id': request.id }).end();
        return;
      }
      // 3. route
      const { route, path } = resolveUpstream(this.config.routes, request.url);
      request.route = route.prefix;
      // 4-7. CSRF header, session, route policy, token
      const credential = await this.authorizer.authorize(request, route);
      // 8. body limit
      const { headers } = request;
      const replayable = isReplayable(headers);
      const incoming = limitBody(hasBody(request) ? request.raw : undefined, headers, route.maxBodyBytes);
      // A body that may have to be sent twice is read before the first attempt; any other streams through untouched.
      const body =
        replayable && incoming !== undefined ? await readDeclaredBody(incoming, Number(headers['content-length'] ?? 0)) : incoming;
      // 9. upstream
      let upstream = await this.send(request, route, path, credential, body, clientGone, 0);
      if (upstream.statusCode === 401 && credential !== undefined) {
        upstream = await this.retryAfter401(request, route, path, credential, body, replayable, upstream, clientGone);
      }
      this.respond(request, response, route, upstream);
    } catch (error) {
      // A client that left needs no answer: the upstream call was cancelled on purpose.
      if (!clientGone.aborted) request.errorCode = writeError(response, request.log, error, request.id, request.corsHeaders);
    }
  }

  /** The upstream's status, cleaned headers and body, streamed with backpressure; a body that fails midway cuts the connection. */
  private respond(request: ApiRequest, response: ServerResponse, route: ApiRoute, upstream: Dispatcher.ResponseData): void {
    const headers = downstreamResponseHeaders(upstream.headers, route.allowSetCookie);
    headers['x-request-id'] = request.id;
    if (request.corsHeaders !== undefined) Object.assign(headers, request.corsHeaders);
    response.writeHead(upstream.statusCode, headers);
    upstream.body.once('error', () => response.destroy());
    upstream.body.pipe(response);
  }

  /** The request's log line and the end of its telemetry, once its response is done (or its connection dropped). */
  private completed(request: ApiRequest, response: ServerResponse): void {
    const durationMs = performance.now() - request.startedAt;
    const route = request.route ?? UNMATCHED;
    this.telemetry.requestEnded(
      request.telemetryHandle,
      route,
      response.statusCode,
      durationMs,
      request.errorCode,
      request.sessionPublicId,
    );
    // Fastify's logger when none was configured (as in a test application) is a bare no-op.
    if (!(this.logger as Partial<Logger>).isLevelEnabled?.('info')) return;
    logCompletedRequest(request.log, {
      method: request.method,
      path: request.path,
      route,
      status: response.statusCode,
      durationMs,
      sessionPublicId: request.sessionPublicId,
      errorCode: request.errorCode,
    });
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
    request: ApiRequest,
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
    request: ApiRequest,
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
      clientIp: clientAddress(request.raw, this.trust),
      publicUrl: this.config.publicUrl,
      target: route.target,
      requestId: request.id,
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

function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/**
 * Whether the request has a body to forward, as Fastify read it before: never on GET and HEAD, and on
 * the other methods only when one is framed (RFC 9112 §6.3: chunked, or a length other than 0).
 */
function hasBody({ method, headers }: ApiRequest): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}
