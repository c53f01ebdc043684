// Integration tests run against the demo's real identity provider and API (no mocks of the IdP).
export {
  DEMO_USERS,
  startDemoApi,
  startIdentityProvider,
  type DemoApi,
  type DemoApiOptions,
  type DemoClient,
  type DemoUser,
  type IdentityProvider,
  type IdentityProviderOptions,
  type ProviderEvent,
  type TokenEndpointFault,
  type TokenRequest,
  type TokenResponseHook,
} from '#sessiongate/demo';
