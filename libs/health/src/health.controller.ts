import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { OidcClient } from '#sessiongate/oidc';
import { StoreBackend } from '#sessiongate/session';

/**
 * Liveness (`/healthz`: the process serves) and readiness (`/readyz`: the session store answers and
 * the provider's metadata and keys were loaded), with terminus's JSON detail. Unauthenticated, and
 * naming no host or secret.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly store: StoreBackend,
    private readonly oidc: OidcClient,
  ) {}

  @Get('healthz')
  liveness(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, this.health.check([]));
  }

  @Get('readyz')
  readiness(@Res() reply: FastifyReply): Promise<void> {
    return this.answer(reply, this.health.check([() => this.sessionStore(), () => this.provider()]));
  }

  private async sessionStore() {
    const indicator = this.indicators.check('sessionStore');
    try {
      await this.store.ping();
      return indicator.up({ kind: this.store.kind });
    } catch {
      return indicator.down({ kind: this.store.kind, message: 'not reachable' });
    }
  }

  /** Why the provider is not ready, without its address or the failure's text (those are in the log). */
  private provider() {
    const indicator = this.indicators.check('identityProvider');
    const status = this.oidc.status;
    switch (status.state) {
      case 'ready':
        return indicator.up();
      case 'pending':
        return indicator.down({
          message: 'discovery not done yet: retrying',
          attempts: status.attempts,
          retryInSeconds: Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000)),
        });
      case 'failed':
        return indicator.down({ message: 'the provider refused the configuration: see the log, fix the setting and restart' });
    }
  }

  /** terminus throws a 503 HttpException with the detail; it is the answer here, not an error. */
  private async answer(reply: FastifyReply, check: Promise<object>): Promise<void> {
    try {
      await reply
        .code(200)
        .header('cache-control', 'no-store')
        .send(await check);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      await reply.code(503).header('cache-control', 'no-store').send(error.getResponse());
    }
  }
}
