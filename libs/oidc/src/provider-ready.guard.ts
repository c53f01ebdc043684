import { type CanActivate, Injectable } from '@nestjs/common';
import { OidcClient } from './oidc.client.js';

/**
 * For routes that cannot do anything without the provider (login, callback): 503 `idp_unavailable`
 * with Retry-After before they touch any state, e.g. before the callback spends its pending login.
 */
@Injectable()
export class ProviderReadyGuard implements CanActivate {
  constructor(private readonly oidc: OidcClient) {}

  canActivate(): boolean {
    this.oidc.assertReady();
    return true;
  }
}
