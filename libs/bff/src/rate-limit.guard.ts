import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
// The package's entry point loads its guard, a CommonJS module that require()s the ESM @nestjs/common
// 12, which jest cannot do on Node 20 (every in-process test of the gateway would fail). Its address
// normalisation is a plain module.
import { normalizeIp } from '@nestjs/throttler/dist/ip.js';
import type { FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { RateCounter } from '#sessiongate/session';
import { BffError, BffErrorCode } from './bff.errors.js';

export type RateLimitedEndpoint = 'login' | 'callback';

/** Puts a handler under the per-client limit of `config.rateLimit[endpoint]`. */
export const RateLimit = Reflector.createDecorator<RateLimitedEndpoint>();

/**
 * A fixed-window limit per client address, counted in the session store (Redis: shared by every
 * instance). The client is `request.ip`, which follows X-Forwarded-For only through TRUST_PROXY;
 * IPv6 addresses count per /64, the block a single subscriber usually holds.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly reflector: Reflector,
    private readonly counter: RateCounter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const endpoint = this.reflector.get(RateLimit, context.getHandler());
    const limit = endpoint === undefined ? 0 : this.config.rateLimit[endpoint];
    if (limit === 0) return true;
    const { windowMs } = this.config.rateLimit;
    const client = normalizeIp(context.switchToHttp().getRequest<FastifyRequest>().ip);
    const { hits, resetsInMs } = await this.counter.hit(`${endpoint}\u0000${client}`, windowMs);
    if (hits <= limit) return true;
    // The detail names no client address: it is logged.
    throw new BffError(BffErrorCode.RateLimited, {
      detail: `${endpoint}: ${hits} requests in a window of ${windowMs} ms (limit ${limit})`,
      retryAfterSeconds: resetsInMs / 1000,
    });
  }
}
