import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { OidcModule } from '#sessiongate/oidc';
import { SessionModule } from '#sessiongate/session';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), OidcModule, SessionModule],
  controllers: [HealthController],
})
export class HealthModule {}
