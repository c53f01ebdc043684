import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, HTTP_METHODS } from '#sessiongate/config';
import { sendError } from '#sessiongate/observability';
import {
  assertHandshakeAllowed,
  type AuthorizedRequest,
  type ForwardedHeaders,
  resolveUpstream,
  setCredentialHeaders,
  UPSTREAM_AUTHORIZER,
  type UpstreamAuthorizer,
  type UpstreamCredential,
} from '#sessiongate/proxy';
import { ERROR_HEADER, errorHeaderValue } from './error-header.codec.js';
import { ForwardAuthError, ForwardAuthErrorCode } from './forward-auth.errors.js';
import { type OriginalRequest, originalRequest } from './original-request.policy.js';
import { TrustedProxies } from './trusted-proxy.policy.js';

/**
 * Every answer but a yes carries its JSON body in X-Sessiongate-Error too, whichever step wrote it (the
 * cross-origin hook included): nginx's auth_request drops the body. Nothing here sets a cookie, ever.
 */
const copyRefusalIntoHeader: onSendHookHandler = (_request, reply, payload, done) => {
  if (reply.statusCode >= 300 && typeof payload === 'string') {
    const header = errorHeaderValue(payload);
    if (header !== undefined) reply.header(ERROR_HEADER, header);
  }
  reply.removeHeader('set-cookie');
  done(null, payload);
};

/**
 * Envoy's original request target: what follows the endpoint's path, byte for byte. Should the router ever
 * match a spelling of the path other than the configured one (repeated slashes, another case), nothing is
 * guessed.
 */
function suffixAfter(prefix: string, url: string): string {
  if (!url.startsWith(prefix))
    throw new ForwardAuthError(ForwardAuthErrorCode.BadOriginalRequest, { detail: 'the check path is not the endpoint' });
  return url.slice(prefix.length - 1);
}

/**
 * The forward-auth endpoint (FORWARD_AUTH_PATH, docs/FORWARD-AUTH.md): an ingress asks whether an /api
 * request may pass, and with which credential. Raw Fastify routes, like the /api proxy: it is asked once
 * per API request. The decision is the /api pipeline's (docs/REQUEST-PIPELINE.md), step for step and
 * through the same functions, on the original request the ingress names; then the credential goes into
 * the answer's headers instead of upstream.
 */
@Injectable()
export class ForwardAuthRoutes implements OnModuleInit {
  private readonly trusted: TrustedProxies;
  private readonly listedOrigins: ReadonlySet<string>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(UPSTREAM_AUTHORIZER) private readonly authorizer: UpstreamAuthorizer,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.trusted = new TrustedProxies(config.trustProxy);
    this.listedOrigins = new Set(config.corsAllowedOrigins);
  }

  /** Runs during `app.init()`, before `listen()` makes Fastify ready: a plugin registered after that would be refused. */
  onModuleInit(): void {
    const path = this.config.forwardAuthPath;
    if (path === undefined) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    void fastify.register(async (scope) => {
      // Envoy may be told to send the body along: it is never read, so never parsed or buffered.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _body, done) => done(null));
      scope.addHook('onSend', copyRefusalIntoHeader);
      // nginx, ingress-nginx, Caddy and Traefik ask with GET and name the request in headers; Envoy asks with
      // the original method at the endpoint's path followed by the original request target.
      scope.get(path, (request, reply) => this.check(request, reply, () => ''));
      const prefix = `${path}/`;
      scope.route({
        method: [...HTTP_METHODS],
        url: `${prefix}*`,
        handler: (request, reply) => this.check(request, reply, () => suffixAfter(prefix, request.url)),
      });
    });
  }

  /** Steps 1 and 2 ran as the onRequest hooks of every request; the rest, numbered as for /api, refuse by throwing. */
  private async check(request: FastifyRequest, reply: FastifyReply, suffix: () => string): Promise<FastifyReply> {
    try {
      // The original-request headers, and the yes's token, are only for the ingress.
      const peer = request.socket.remoteAddress;
      if (!this.trusted.has(peer)) throw new ForwardAuthError(ForwardAuthErrorCode.UntrustedProxy, { detail: `asked from ${peer}` });
      const original = originalRequest(request.method, suffix(), request.headers);
      // 3. route
      const { route, path } = resolveUpstream(this.config.routes, original.target);
      request.apiRoute = route.prefix;
      // 4-7. CSRF header (a handshake: its Origin), session, route policy, token
      const credential = original.websocket
        ? await this.handshakeCredential(request, route, original)
        : await this.authorize(request, route, original);
      return this.allow(request, reply, credential, original, route, path);
    } catch (error) {
      sendError(request, reply, error);
      return reply;
    }
  }

  /**
   * The authorizer is handed the original request, not the check: the check's own method and URL (GET, the
   * endpoint's path) are not the request being judged, so whatever it comes to read besides the headers must
   * be made from `OriginalRequest` here.
   */
  private async authorize(request: FastifyRequest, route: ApiRoute, original: OriginalRequest): Promise<UpstreamCredential | undefined> {
    const judged: AuthorizedRequest = { method: original.method, headers: request.headers, sessionPublicId: null };
    const credential = await this.authorizer.authorize(judged, route);
    request.sessionPublicId = judged.sessionPublicId;
    return credential;
  }

  /** A handshake as the WebSocket proxy judges it; the ingress holds the connection, so the session lease is not kept. */
  private async handshakeCredential(
    request: FastifyRequest,
    route: ApiRoute,
    original: OriginalRequest,
  ): Promise<UpstreamCredential | undefined> {
    assertHandshakeAllowed(route, request.headers, this.config.publicUrl.origin, this.listedOrigins);
    return (await this.authorizer.authorizeUpgrade({ method: original.method, headers: request.headers }, route)).credential;
  }

  /**
   * Yes: the credential's headers for the request the ingress will send (per-attempt ones, such as a DPoP
   * proof, bound to its method and to the URL its route maps to), the request id, and nothing else: the
   * security and CORS headers the hooks set are for pages, and the ingress copies only what it is told to.
   */
  private allow(
    request: FastifyRequest,
    reply: FastifyReply,
    credential: UpstreamCredential | undefined,
    original: OriginalRequest,
    route: ApiRoute,
    path: string,
  ): FastifyReply {
    const headers: ForwardedHeaders = { 'x-request-id': String(request.id), 'cache-control': 'no-store' };
    if (credential !== undefined) setCredentialHeaders(headers, credential, { method: original.method, target: route.target, path });
    for (const name of reply.raw.getHeaderNames()) reply.raw.removeHeader(name);
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
    return reply.code(200).headers(headers).send();
  }
}
