import { Module } from '@nestjs/common';
import { HttpPolicyModule } from '#sessiongate/http';
import { OidcModule } from '#sessiongate/oidc';
import { BearerCallerAuthorizer } from './bearer-caller.authorizer.js';
import { BearerTokenVerifier } from './bearer-token.verifier.js';

/** Route policies' providers: bearer callers' verification (the claim and method checks are plain functions). */
@Module({
  imports: [HttpPolicyModule, OidcModule],
  providers: [BearerTokenVerifier, BearerCallerAuthorizer],
  exports: [BearerTokenVerifier, BearerCallerAuthorizer],
})
export class PolicyModule {}
