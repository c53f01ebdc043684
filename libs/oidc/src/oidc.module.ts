import { Module } from '@nestjs/common';
import { OidcClient } from './oidc.client.js';
import { ProviderKeys } from './provider-keys.js';

@Module({ providers: [OidcClient, ProviderKeys], exports: [OidcClient, ProviderKeys] })
export class OidcModule {}
