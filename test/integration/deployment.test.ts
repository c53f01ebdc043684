import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig, type Setting, settings } from '#sessiongate/config';

// Keeps the deployment files (Dockerfile, docker-compose.yml, the Keycloak realm, deploy/kubernetes) in
// step with the configuration schema and with each other. Nothing here can run Docker or Keycloak; what
// can be checked by construction is: the files parse, the gateway's environment passes loadConfig as
// the container would see it, and the URLs, ids and secrets shared between files agree.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

type Env = Record<string, string>;

const allSettings = Object.values(settings) as Setting<unknown>[];
const knownNames = new Set(allSettings.map((setting) => setting.env));
const requiredNames = allSettings.filter((setting) => setting.default === undefined && !setting.optional).map((setting) => setting.env);
const secretNames = allSettings.filter((setting) => setting.secret).map((setting) => setting.env);

/** A valid SESSION_ENCRYPTION_KEY, standing in for the operator's `openssl rand -base64 32`. */
const testKey = randomBytes(32).toString('base64');

// --- Dockerfile -------------------------------------------------------------------------------------

const dockerfile = read('Dockerfile');
const stages = dockerfile.split(/^(?=FROM\s)/m).filter((stage) => stage.startsWith('FROM'));
const runtimeStage = stages.at(-1) ?? '';
/** What the image itself puts in the environment (ENV NAME=value lines of the runtime stage). */
const imageEnv: Env = Object.fromEntries(
  [...runtimeStage.matchAll(/^ENV\s+([A-Z_]+)=(\S+)\s*$/gm)].map(([, name, value]) => [name!, value!]),
);
const jsonInstruction = (stage: string, instruction: string): unknown => {
  const match = new RegExp(`^${instruction}\\s+(.*\\[.*\\])\\s*$`, 'm').exec(stage);
  if (!match) throw new Error(`no ${instruction} in exec form`);
  return JSON.parse(match[1]!.slice(match[1]!.indexOf('[')));
};

// --- docker-compose.yml -----------------------------------------------------------------------------

interface ComposeMount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  ports?: (string | number | { target: number; published?: string | number; host_ip?: string })[];
  network_mode?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as ComposeFile;
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** The environment block as written, before compose's variable interpolation. */
function rawEnvironment(definition: ComposeService): Env {
  const environment = definition.environment ?? {};
  const entries = Array.isArray(environment)
    ? environment.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]);
  return Object.fromEntries(entries);
}

/** Compose's interpolation: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}. */
function interpolate(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(
    /\$(?:\$|\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_]\w*))/g,
    (match, braced?: string, operator?: string, argument?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = variables[name];
      const unset = operator?.startsWith(':') ? !current : current === undefined;
      if (operator?.endsWith('?') && unset) throw new Error(`compose refuses to start: ${name}: ${argument}`);
      if (operator?.endsWith('-') && unset) return argument ?? '';
      return current ?? '';
    },
  );
}

const interpolateAll = (env: Env, variables: Record<string, string | undefined>): Env =>
  Object.fromEntries(Object.entries(env).map(([name, value]) => [name, interpolate(value, variables)]));

function mounts(definition: ComposeService): ComposeMount[] {
  return (definition.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return { source: volume.source ?? '', target: volume.target, readOnly: volume.read_only === true };
    const [source = '', target = '', mode = ''] = volume.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

interface PublishedPort {
  readonly hostIp: string | undefined;
  readonly host: number;
  readonly container: number;
}

function publishedPorts(definition: ComposeService): PublishedPort[] {
  return (definition.ports ?? []).map((port) => {
    if (typeof port === 'object') return { hostIp: port.host_ip, host: Number(port.published ?? port.target), container: port.target };
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = Number(parts.at(-1));
    const host = parts.length >= 2 ? Number(parts.at(-2)) : container;
    return { hostIp: parts.length === 3 ? parts[0] : undefined, host, container };
  });
}

const dependencies = (definition: ComposeService): Record<string, string | undefined> =>
  Array.isArray(definition.depends_on)
    ? Object.fromEntries(definition.depends_on.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(definition.depends_on ?? {}).map(([name, options]) => [name, options.condition]));

const commandOf = (definition: ComposeService): string[] =>
  Array.isArray(definition.command) ? definition.command : (definition.command ?? '').split(' ').filter(Boolean);

const gatewayRaw = rawEnvironment(service('gateway'));

/** The gateway's environment as its container sees it: image ENV, then compose's, interpolated. */
function gatewayContainerEnv(variables: Record<string, string | undefined> = { SESSION_ENCRYPTION_KEY: testKey }): Env {
  return { ...imageEnv, ...interpolateAll(gatewayRaw, variables) };
}

/** The same environment with SPA_DIR pointing at the host folder compose mounts there, so loadConfig can check it. */
function gatewayEnvOnThisHost(): Env {
  const env = gatewayContainerEnv();
  if (env.SPA_DIR) {
    const mount = mounts(service('gateway')).find((candidate) => candidate.target === env.SPA_DIR);
    if (!mount) throw new Error(`SPA_DIR ${env.SPA_DIR} is not a mount of the gateway service`);
    env.SPA_DIR = resolve(root, mount.source);
  }
  return env;
}

// --- deploy/keycloak/realm-export.json --------------------------------------------------------------

interface ProtocolMapper {
  name: string;
  protocolMapper: string;
  config?: Record<string, string>;
}

interface ClientScope {
  name: string;
  attributes?: Record<string, string>;
  protocolMappers?: ProtocolMapper[];
}

interface Client {
  clientId: string;
  secret?: string;
  enabled?: boolean;
  publicClient?: boolean;
  clientAuthenticatorType?: string;
  standardFlowEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  directAccessGrantsEnabled?: boolean;
  serviceAccountsEnabled?: boolean;
  redirectUris?: string[];
  attributes?: Record<string, string>;
  defaultClientScopes?: string[];
  optionalClientScopes?: string[];
}

interface User {
  username: string;
  enabled?: boolean;
  email?: string;
  emailVerified?: boolean;
  firstName?: string;
  lastName?: string;
  credentials?: { type: string; value?: string; temporary?: boolean }[];
  realmRoles?: string[];
}

interface Realm {
  realm: string;
  enabled?: boolean;
  sslRequired?: string;
  clientScopes?: ClientScope[];
  scopeMappings?: { clientScope?: string; client?: string; roles: string[] }[];
  defaultDefaultClientScopes?: string[];
  defaultOptionalClientScopes?: string[];
  clients?: Client[];
  users?: User[];
}

const realmText = read('deploy/keycloak/realm-export.json');
const realm = JSON.parse(realmText) as Realm;
const client = (clientId: string): Client => {
  const found = realm.clients?.find((candidate) => candidate.clientId === clientId);
  if (!found) throw new Error(`the realm has no client ${clientId}`);
  return found;
};
const clientScope = (name: string): ClientScope => {
  const found = realm.clientScopes?.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`the realm defines no client scope ${name}`);
  return found;
};
const scopesOf = (definition: Client): string[] => [...(definition.defaultClientScopes ?? []), ...(definition.optionalClientScopes ?? [])];

// --- deploy/kubernetes ------------------------------------------------------------------------------

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}

interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string; port: string | number };
}

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean };
}

interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { securityContext?: { runAsNonRoot?: boolean; runAsUser?: number }; containers: Container[] };
    };
  };
}

interface Service extends K8sObject {
  spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
}

interface ConfigMap extends K8sObject {
  data: Record<string, string>;
}

interface Secret extends K8sObject {
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

const k8sFolder = 'deploy/kubernetes';
const k8sFiles = readdirSync(join(root, k8sFolder)).filter((file) => /\.ya?ml$/.test(file));
const k8sObjects: K8sObject[] = k8sFiles
  .filter((file) => file !== 'kustomization.yaml')
  .flatMap((file) =>
    parseAllDocuments(read(join(k8sFolder, file))).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as K8sObject;
    }),
  )
  .filter(Boolean);
const k8s = <T extends K8sObject>(kind: string): T[] => k8sObjects.filter((object) => object.kind === kind) as T[];
const only = <T>(items: T[], what: string): T => {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0]!;
};

const secretValues = (secret: Secret): Env => ({
  ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])),
  ...secret.stringData,
});

/** The gateway container's environment in the cluster; secretKeyRef values come from `secrets` by key. */
function podEnv(container: Container, configMaps: ConfigMap[], secrets: (name: string, key: string) => string | undefined): Env {
  const env: Env = { ...imageEnv };
  for (const source of container.envFrom ?? []) {
    const configMap = configMaps.find((candidate) => candidate.metadata.name === source.configMapRef?.name);
    if (source.configMapRef && !configMap) throw new Error(`envFrom names a missing ConfigMap ${source.configMapRef.name}`);
    Object.assign(env, configMap?.data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    const value = ref ? secrets(ref.name, ref.key) : variable.value;
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

// =====================================================================================================

describe('Dockerfile', () => {
  it('builds in a full stage and runs from a production-only stage on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(stages[0]).toMatch(/^RUN npm ci\b/m);
    expect(stages[0]).toMatch(/^RUN npm run build\b/m);
    expect(runtimeStage).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtimeStage).toMatch(/^COPY --from=\S+ \/app\/dist \.\/dist$/m);
    // The "imports" map in package.json is how #sessiongate/* resolves at run time.
    expect(runtimeStage).toMatch(/^COPY package\.json\b/m);
  });

  it('runs `npm start` as the non-root node user, in production mode, on port 3000, with a health check', () => {
    const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(jsonInstruction(runtimeStage, 'CMD')).toEqual(packageJson.scripts.start!.split(' '));
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(imageEnv.NODE_ENV).toBe('production');
    expect(runtimeStage).toMatch(/^EXPOSE 3000$/m);
    expect(jsonInstruction(runtimeStage, 'HEALTHCHECK')).toEqual(['node', 'healthcheck.mjs']);
    expect(runtimeStage).toMatch(/^COPY deploy\/docker\/healthcheck\.mjs \.\/healthcheck\.mjs$/m);
    expect(read('deploy/docker/healthcheck.mjs')).toContain('/healthz');
  });

  it('keeps dependencies, build output and git history out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
    // The health probe is copied into the image, so the ignore rules must leave it in the context.
    expect(ignored).toContain('!deploy/docker');
  });
});

describe('docker-compose.yml', () => {
  it('runs redis, keycloak, the gateway and the demo API, the last two from this repository’s image', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['demo-api', 'gateway', 'keycloak', 'redis']);
    expect(service('gateway').build).toBe('.');
    expect(service('demo-api').build).toEqual(service('gateway').build);
    expect(commandOf(service('demo-api'))).toEqual(['node', 'dist/apps/demo/src/demo-api.main.js']);
  });

  it('gives Redis append-only persistence on a named volume and a ping health check', () => {
    const redis = service('redis');
    expect(redis.image).toMatch(/^redis:7\b/);
    expect(commandOf(redis).join(' ')).toContain('--appendonly yes');
    const data = mounts(redis).find((mount) => mount.target === '/data');
    expect(data).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
    expect([redis.healthcheck?.test].flat().join(' ')).toContain('redis-cli ping');
  });

  it('starts Keycloak 26 in dev mode importing the realm file, with a health check that needs no curl', () => {
    const keycloak = service('keycloak');
    expect(keycloak.image).toMatch(/^quay\.io\/keycloak\/keycloak:26(\.|$)/);
    expect(commandOf(keycloak)).toEqual(['start-dev', '--import-realm']);
    expect(mounts(keycloak)).toContainEqual({
      source: './deploy/keycloak/realm-export.json',
      target: '/opt/keycloak/data/import/realm-export.json',
      readOnly: true,
    });
    const env = rawEnvironment(keycloak);
    expect(env.KC_HEALTH_ENABLED).toBe('true');
    expect(env.KC_BOOTSTRAP_ADMIN_USERNAME).toBeTruthy();
    expect(env.KC_BOOTSTRAP_ADMIN_PASSWORD).toBeTruthy();
    const probe = [keycloak.healthcheck?.test].flat().join(' ');
    expect(probe).toContain('/dev/tcp/127.0.0.1/9000'); // the management port serves /health/*
    expect(probe).toContain('/health/ready');
    expect(probe).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it('runs the gateway and the demo API in Keycloak’s network namespace, whose ports are published', () => {
    for (const name of ['gateway', 'demo-api']) {
      expect(service(name).network_mode).toBe('service:keycloak');
      // A container in another's namespace cannot publish ports; keycloak does it for them.
      expect(service(name).ports).toBeUndefined();
    }
    const published = publishedPorts(service('keycloak'));
    const issuer = new URL(gatewayContainerEnv().OIDC_ISSUER!);
    const publicUrl = new URL(gatewayContainerEnv().PUBLIC_URL!);
    for (const url of [issuer, publicUrl]) {
      // The same URL is used by the browser (through the published port) and inside the namespace.
      expect(published).toContainEqual({ hostIp: '127.0.0.1', host: Number(url.port), container: Number(url.port) });
    }
    expect(Number(gatewayContainerEnv().PORT)).toBe(Number(publicUrl.port));
    expect(gatewayContainerEnv().HOST).toBe('0.0.0.0');
  });

  it('uses one issuer URL for the browser, the gateway and the demo API', () => {
    const kcHostname = rawEnvironment(service('keycloak')).KC_HOSTNAME;
    const issuer = `${kcHostname}/realms/${realm.realm}`;
    expect(gatewayContainerEnv().OIDC_ISSUER).toBe(issuer);
    expect(rawEnvironment(service('demo-api')).OIDC_ISSUER).toBe(issuer);
    expect(new URL(issuer).hostname).toBe('localhost');
  });

  it('names only settings the gateway knows, and every required one', () => {
    const names = Object.keys(gatewayRaw);
    expect(names.filter((name) => !knownNames.has(name))).toEqual([]);
    expect(requiredNames.filter((name) => !names.includes(name))).toEqual([]);
    expect(requiredNames.length).toBeGreaterThan(0);
  });

  it('never holds the session key itself: compose refuses to start until it is exported', () => {
    expect(gatewayRaw.SESSION_ENCRYPTION_KEY).toMatch(/^\$\{SESSION_ENCRYPTION_KEY:\?[^}]*openssl rand -base64 32[^}]*\}$/);
    expect(() => gatewayContainerEnv({})).toThrow(/SESSION_ENCRYPTION_KEY/);
    expect(() => gatewayContainerEnv({ SESSION_ENCRYPTION_KEY: '' })).toThrow(/SESSION_ENCRYPTION_KEY/);
  });

  it('gives the gateway an environment that passes loadConfig, in production mode', () => {
    const config = loadConfig(gatewayEnvOnThisHost());
    expect(config.production).toBe(true);
    expect(config.publicUrl.href).toBe('http://localhost:3000/');
    expect(config.oidc.issuer.href).toBe('http://localhost:8080/realms/sessiongate');
    expect(config.oidc.clientId).toBe('sessiongate');
    expect(config.oidc.scopes.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access', 'todos:read']));
    expect(config.redis?.topology).toEqual({ kind: 'standalone', url: 'redis://redis:6379' });
    expect(config.session.encryptionKeys.map(({ key }) => key.toString('base64'))).toEqual([testKey]);
    expect(config.routes.map((route) => [route.prefix, route.target.href, route.token])).toEqual([
      ['/api/todos', 'http://127.0.0.1:4000/', 'user'],
    ]);
  });

  it('routes /api/todos to the demo API’s port inside the shared namespace', () => {
    const config = loadConfig(gatewayEnvOnThisHost());
    const demoApi = rawEnvironment(service('demo-api'));
    const target = config.routes.find((route) => route.prefix === '/api/todos')!.target;
    // The demo API binds 127.0.0.1 (libs/demo): reachable from the gateway only inside the shared namespace.
    expect(target.hostname).toBe('127.0.0.1');
    expect(target.port).toBe(demoApi.DEMO_API_PORT);
    expect([service('demo-api').healthcheck?.test].flat()).toContain(`${target.origin}/`);
  });

  it('serves the demo page from apps/demo/public, mounted read-only at SPA_DIR', () => {
    const spaDir = gatewayContainerEnv().SPA_DIR;
    expect(mounts(service('gateway'))).toContainEqual({ source: './apps/demo/public', target: spaDir, readOnly: true });
  });

  it('starts the gateway only once Redis and Keycloak report healthy', () => {
    expect(dependencies(service('gateway'))).toMatchObject({ redis: 'service_healthy', keycloak: 'service_healthy' });
    expect(dependencies(service('demo-api'))).toMatchObject({ keycloak: 'service_healthy' });
  });
});

describe('deploy/keycloak/realm-export.json', () => {
  const gateway = () => client(gatewayContainerEnv().OIDC_CLIENT_ID!);

  it('is the realm named by the issuer, over plain http for the local demo only', () => {
    expect(realm.realm).toBe(new URL(gatewayContainerEnv().OIDC_ISSUER!).pathname.split('/').at(-1));
    expect(realm.enabled).toBe(true);
    expect(realm.sslRequired).toBe('none');
  });

  it('registers the gateway as a confidential client with PKCE S256 and only the code flow', () => {
    const definition = gateway();
    expect(definition.enabled).toBe(true);
    expect(definition.publicClient).toBe(false);
    expect(definition.clientAuthenticatorType).toBe('client-secret');
    expect(definition.secret).toBe(gatewayContainerEnv().OIDC_CLIENT_SECRET);
    expect(definition.standardFlowEnabled).toBe(true);
    expect(definition.implicitFlowEnabled).toBe(false);
    expect(definition.directAccessGrantsEnabled).toBe(false);
    expect(definition.serviceAccountsEnabled).toBe(false);
    expect(definition.attributes?.['pkce.code.challenge.method']).toBe('S256');
  });

  it('registers exactly the redirect, post-logout and back-channel logout URLs the gateway uses', () => {
    const config = loadConfig(gatewayEnvOnThisHost());
    const definition = gateway();
    expect(definition.redirectUris).toEqual([`${gatewayContainerEnv().PUBLIC_URL}/bff/callback`]);
    expect(definition.redirectUris).toEqual([config.oidc.redirectUri.href]);
    expect(definition.attributes?.['post.logout.redirect.uris']?.split('##')).toContain(config.oidc.postLogoutRedirectUri.href);
    expect(definition.attributes?.['backchannel.logout.url']).toBe(new URL('/bff/backchannel-logout', config.publicUrl).href);
    expect(definition.attributes?.['backchannel.logout.session.required']).toBe('true');
  });

  it('assigns every scope the gateway requests to its client', () => {
    const requested = gatewayContainerEnv()
      .OIDC_SCOPES!.split(' ')
      .filter((scope) => scope !== 'openid');
    expect(requested.filter((scope) => !scopesOf(gateway()).includes(scope))).toEqual([]);
    expect(gateway().optionalClientScopes).toContain('offline_access');
    expect(gateway().defaultClientScopes).toContain('todos:read');
  });

  it('defines every client scope it refers to (listing clientScopes stops Keycloak creating its built-ins)', () => {
    const defined = new Set(realm.clientScopes?.map((scope) => scope.name));
    const referenced = [
      ...(realm.clients ?? []).flatMap(scopesOf),
      ...(realm.defaultDefaultClientScopes ?? []),
      ...(realm.defaultOptionalClientScopes ?? []),
      ...(realm.scopeMappings ?? []).flatMap((mapping) => (mapping.clientScope ? [mapping.clientScope] : [])),
    ];
    expect([...new Set(referenced)].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('puts sub in access tokens and name and email in ID tokens', () => {
    const idTokenClaims = (scope: string) =>
      (clientScope(scope).protocolMappers ?? []).filter((mapper) => mapper.config?.['id.token.claim'] === 'true');
    expect(gateway().defaultClientScopes).toEqual(expect.arrayContaining(['basic', 'profile', 'email']));
    expect(clientScope('basic').protocolMappers?.map((mapper) => mapper.protocolMapper)).toContain('oidc-sub-mapper');
    expect(idTokenClaims('profile').map((mapper) => mapper.protocolMapper)).toContain('oidc-full-name-mapper');
    expect(idTokenClaims('email').map((mapper) => mapper.config?.['claim.name'])).toContain('email');
  });

  it('issues refresh tokens for offline_access: the scope carries the role and the users hold it', () => {
    expect(realm.scopeMappings).toContainEqual({ clientScope: 'offline_access', roles: ['offline_access'] });
    for (const user of realm.users ?? []) expect(user.realmRoles).toContain('offline_access');
  });

  it('makes todos:read access tokens carry aud demo-api and the scope the demo API requires', () => {
    const demoApi = rawEnvironment(service('demo-api'));
    const scope = clientScope(demoApi.DEMO_API_SCOPE!);
    expect(scope.attributes?.['include.in.token.scope']).toBe('true');
    const audience = scope.protocolMappers?.find((mapper) => mapper.protocolMapper === 'oidc-audience-mapper');
    expect(audience?.config).toMatchObject({ 'included.custom.audience': demoApi.DEMO_API_AUDIENCE, 'access.token.claim': 'true' });
  });

  it('has a client-credentials-only admin client whose tokens carry sessions:admin and aud sessiongate-admin', () => {
    const admin = client('sessiongate-admin');
    expect(admin.serviceAccountsEnabled).toBe(true);
    expect(admin.publicClient).toBe(false);
    expect(admin.standardFlowEnabled).toBe(false);
    expect(admin.implicitFlowEnabled).toBe(false);
    expect(admin.directAccessGrantsEnabled).toBe(false);
    expect(admin.defaultClientScopes).toContain('sessions:admin');
    const scope = clientScope('sessions:admin');
    expect(scope.attributes?.['include.in.token.scope']).toBe('true');
    expect(scope.protocolMappers?.find((mapper) => mapper.protocolMapper === 'oidc-audience-mapper')?.config).toMatchObject({
      'included.custom.audience': 'sessiongate-admin',
      'access.token.claim': 'true',
    });
  });

  it('has the demo users alice and bob, with permanent passwords equal to their names', () => {
    expect(realm.users?.map((user) => user.username).sort()).toEqual(['alice', 'bob']);
    for (const user of realm.users ?? []) {
      expect(user).toMatchObject({ enabled: true, emailVerified: true, email: expect.stringContaining('@') });
      expect(user.firstName).toBeTruthy();
      expect(user.lastName).toBeTruthy();
      expect(user.credentials).toEqual([{ type: 'password', value: user.username, temporary: false }]);
    }
  });

  it('has no ${...} placeholder that Keycloak would fill from its environment at import', () => {
    // Only the client-roles mapper's claim template, which Keycloak itself defines, may look like one.
    expect((realmText.match(/\$\{[^}]*\}/g) ?? []).filter((placeholder) => placeholder !== '${client_id}')).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  const deployment = () => only(k8s<Deployment>('Deployment'), 'Deployment');
  const container = () => only(deployment().spec.template.spec.containers, 'container');
  const configMaps = () => k8s<ConfigMap>('ConfigMap');
  const secretTemplate = () => only(k8s<Secret>('Secret'), 'Secret');
  /** Valid stand-ins for what an operator puts in the Secret. */
  const realSecrets: Env = { OIDC_CLIENT_SECRET: 'a-client-secret', SESSION_ENCRYPTION_KEY: testKey };

  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = parse(read(join(k8sFolder, 'kustomization.yaml'))) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(k8sFiles.filter((file) => file !== 'kustomization.yaml').sort());
    expect(k8sObjects.map((object) => object.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Secret', 'Service']);
  });

  it('runs two non-root, hardened replicas with resource requests and limits', () => {
    expect(deployment().spec.replicas).toBe(2);
    expect(deployment().spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
    expect(container().securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container().resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container().resources?.limits).toMatchObject({ memory: expect.any(String) });
  });

  it('probes readiness on /readyz and liveness on /healthz', () => {
    expect(container().readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 3000 });
    expect(container().livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 3000 });
  });

  it('takes every secret setting from the Secret, and no secret from the ConfigMap', () => {
    const secret = secretTemplate();
    for (const name of secretNames) {
      const variable = container().env?.find((candidate) => candidate.name === name);
      expect(variable?.valueFrom?.secretKeyRef?.name).toBe(secret.metadata.name);
      expect(Object.keys(secretValues(secret))).toContain(variable?.valueFrom?.secretKeyRef?.key);
      for (const configMap of configMaps()) expect(Object.keys(configMap.data)).not.toContain(name);
    }
  });

  it('names only settings the gateway knows, and every required one', () => {
    const names = Object.keys(podEnv(container(), configMaps(), () => 'x'));
    expect(names.filter((name) => !knownNames.has(name))).toEqual([]);
    expect(requiredNames.filter((name) => !names.includes(name))).toEqual([]);
  });

  it('passes loadConfig once real secrets are filled in, listening on the container port', () => {
    const env = podEnv(container(), configMaps(), (_name, key) => realSecrets[key]);
    const config = loadConfig(env);
    expect(config.production).toBe(true);
    expect(config.redis).toBeDefined();
    expect(container().ports).toContainEqual({ name: 'http', containerPort: config.port, protocol: 'TCP' });
  });

  it('ships a Secret template that cannot run as is', () => {
    const template = secretValues(secretTemplate());
    const env = podEnv(container(), configMaps(), (_name, key) => template[key]);
    expect(problemsOf(env)).toContainEqual(expect.stringMatching(/^SESSION_ENCRYPTION_KEY: /));
  });

  it('exposes the pods through a Service whose selector and target port match the Deployment', () => {
    const k8sService = only(k8s<Service>('Service'), 'Service');
    expect(deployment().spec.template.metadata.labels).toMatchObject(k8sService.spec.selector);
    expect(deployment().spec.selector.matchLabels).toEqual(k8sService.spec.selector);
    const targetPort = only(k8sService.spec.ports, 'Service port').targetPort;
    const portNames = (container().ports ?? []).flatMap((port) => [port.name, port.containerPort]);
    expect(portNames).toContain(targetPort);
  });
});

// --- deploy/forward-auth ----------------------------------------------------------------------------

describe('deploy/forward-auth', () => {
  const yamlOf = (file: string): K8sObject[] =>
    parseAllDocuments(read(join('deploy/forward-auth', file))).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as K8sObject;
    });
  const gatewayService = () => only(k8s<Service>('Service'), 'Service');
  /** The in-cluster origin of the gateway's Service in the default namespace, on its only port. */
  const gatewayOrigin = () => {
    const port = only(gatewayService().spec.ports, 'Service port').port;
    return `http://${gatewayService().metadata.name}.default.svc.cluster.local${port === 80 ? '' : `:${port}`}`;
  };
  const authUrl = () => `${gatewayOrigin()}/bff/forward-auth`;

  it('points ingress-nginx at the forward-auth endpoint, uncached, copying only Authorization and X-Request-Id', () => {
    const [api, site, closed] = yamlOf('ingress-nginx.yaml') as (K8sObject & { metadata: { annotations?: Record<string, string> } })[];
    const annotations = api!.metadata.annotations ?? {};
    expect(annotations['nginx.ingress.kubernetes.io/auth-url']).toBe(authUrl());
    expect(annotations['nginx.ingress.kubernetes.io/auth-method']).toBe('GET');
    expect(annotations['nginx.ingress.kubernetes.io/auth-response-headers']!.split(/,\s*/)).toEqual(['Authorization', 'X-Request-Id']);
    expect(annotations).not.toHaveProperty('nginx.ingress.kubernetes.io/auth-cache-key');
    expect(annotations).not.toHaveProperty('nginx.ingress.kubernetes.io/auth-signin');
    expect(JSON.stringify(site)).toContain(`"name":"${gatewayService().metadata.name}"`);
    // Its answer carries a token: the public route must not reach the endpoint.
    expect(closed!.metadata.annotations?.['nginx.ingress.kubernetes.io/denylist-source-range']).toBe('0.0.0.0/0,::/0');
    expect(JSON.stringify(closed)).toContain('"path":"/bff/forward-auth"');
  });

  it('gives Traefik a ForwardAuth that believes only its own X-Forwarded-* and copies only Authorization and X-Request-Id', () => {
    const objects = yamlOf('traefik.yaml');
    const forwardAuth = objects.find((object) => object.kind === 'Middleware' && 'forwardAuth' in (object.spec as object))!;
    expect((forwardAuth.spec as { forwardAuth: unknown }).forwardAuth).toEqual({
      address: authUrl(),
      trustForwardHeader: false,
      authResponseHeaders: ['Authorization', 'X-Request-Id'],
    });
    const route = objects.find((object) => object.kind === 'IngressRoute') as K8sObject & {
      spec: { routes: { match: string; middlewares?: { name: string }[] }[] };
    };
    const apiRoute = route.spec.routes.find((candidate) => candidate.match.includes('/api/'))!;
    const closedRoute = route.spec.routes.find((candidate) => candidate.match.includes('/bff/forward-auth'))!;
    expect(closedRoute.middlewares?.map((middleware) => middleware.name)).toEqual(['sessiongate-closed']);
    // The cookie is stripped after the check, which needs it.
    expect(apiRoute.middlewares?.map((middleware) => middleware.name)).toEqual(['sessiongate-forward-auth', 'sessiongate-strip-cookie']);
  });

  it('has an Envoy ext_authz filter that fails closed and asks under the forward-auth path', () => {
    const [config] = yamlOf('envoy.yaml') as unknown as { http_filters: { name: string; typed_config: unknown }[] }[];
    const names = config!.http_filters.map((filter) => filter.name);
    expect(names.indexOf('envoy.filters.http.header_mutation')).toBeLessThan(names.indexOf('envoy.filters.http.ext_authz'));
    const extAuthz = config!.http_filters.find((filter) => filter.name === 'envoy.filters.http.ext_authz')!.typed_config as {
      failure_mode_allow: boolean;
      http_service: {
        server_uri: { uri: string };
        path_prefix: string;
        authorization_response: { allowed_upstream_headers: { patterns: { exact: string }[] } };
      };
    };
    expect(extAuthz.failure_mode_allow).toBe(false);
    expect(`${extAuthz.http_service.server_uri.uri}${extAuthz.http_service.path_prefix}`).toBe(authUrl());
    expect(extAuthz.http_service.authorization_response.allowed_upstream_headers.patterns.map((pattern) => pattern.exact)).toEqual([
      'authorization',
      'x-request-id',
    ]);
  });
});
