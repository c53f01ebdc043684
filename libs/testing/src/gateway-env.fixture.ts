import { randomBytes } from 'node:crypto';

/**
 * The least environment loadConfig accepts, for tests that build parts of the gateway without a
 * provider (the issuer is never contacted): override or add what the test is about.
 */
export function minimalGatewayEnv(overrides: Readonly<Record<string, string | undefined>> = {}): Record<string, string | undefined> {
  return {
    PUBLIC_URL: 'http://localhost:3000',
    OIDC_ISSUER: 'http://127.0.0.1:1/',
    OIDC_CLIENT_ID: 'gateway',
    OIDC_CLIENT_SECRET: 'client-secret',
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...overrides,
  };
}
