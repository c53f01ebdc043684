export { freePort } from './free-port.js';
export { startRedis, type RedisFixture } from './redis.fixture.js';
export { startEchoApi, type EchoApi, type EchoApiOptions, type RecordedRequest } from './echo-api.fixture.js';
export { BrowserClient, type BrowserRequestOptions, type BrowserResponse, type LoginOptions, type RedirectHop } from './browser-client.js';
export * from './demo.fixture.js';
export {
  ADMIN_AUDIENCE,
  ADMIN_CLIENT_ID,
  ADMIN_CLIENT_SECRET,
  GATEWAY_CLIENT_ID,
  GATEWAY_CLIENT_SECRET,
  gatewayClientBasicAuth,
  startGatewayStack,
  TODOS_RESOURCE,
  type GatewayStack,
  type GatewayStackOptions,
} from './gateway-stack.fixture.js';
export { minimalGatewayEnv } from './gateway-env.fixture.js';
export { startGatewayProcess, type GatewayProcess, type ProcessMemory } from './gateway-process.fixture.js';
export { expectGeneratedDocCommitted } from './generated-doc.js';
export { ManualClock } from './manual.clock.js';
export { signLogoutToken } from './logout-token.fixture.js';
export { leakedSecrets } from './secret-leak.check.js';
export { startRedisCluster, waitFor, type RedisClusterFixture } from './redis-cluster.fixture.js';
export { startRedisSentinel, type RedisSentinelFixture } from './redis-sentinel.fixture.js';
export { startTlsRedis, type TlsRedisFixture } from './redis-tls.fixture.js';
export {
  forwardAuthSnippet,
  forwardAuthSnippetPath,
  renderForwardAuthSnippet,
  type IngressKind,
  type SnippetTargets,
} from './forward-auth-snippet.js';
export type { IngressFixture } from './ingress-process.js';
export { startNginx, type IngressTargets } from './nginx.fixture.js';
export { startCaddy } from './caddy.fixture.js';
export { refusedHandshake, type HandshakeRefusal } from './handshake-refusal.fixture.js';
export { startSessionModule, type SessionModuleFixture } from './session-module.fixture.js';
export { STORE_TOPOLOGIES, startStoreTopologies, type StoreTopologiesFixture, type StoreTopology } from './store-topologies.fixture.js';
export { pendingLogin, typicalSession } from './session-samples.js';
export { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions, type ReceivedSpan } from './otlp-receiver.fixture.js';
export {
  GLEWLWYD_CLIENT_ID,
  GLEWLWYD_CLIENT_SECRET,
  GLEWLWYD_PASSWORD,
  GLEWLWYD_USER,
  signInAtGlewlwyd,
  startGlewlwyd,
  type GlewlwydFixture,
  type GlewlwydOptions,
} from './glewlwyd.fixture.js';
export {
  LEMONLDAP_CLIENT_ID,
  LEMONLDAP_CLIENT_SECRET,
  LEMONLDAP_USER,
  signInAtLemonLdap,
  startLemonLdap,
  type LemonLdapFixture,
  type LemonLdapOptions,
} from './lemonldap-ng.fixture.js';
export {
  jwtClaims,
  sleepUntil,
  startInteropStack,
  type InteropStack,
  type InteropStackOptions,
  type PageResponse,
} from './interop-stack.fixture.js';
export { launchChromium } from './chromium.fixture.js';
