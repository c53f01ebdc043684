import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { BrowserClient, freePort, type RedisFixture, startOtlpReceiver, startRedis } from '#sessiongate/testing';
import type { BareProxyOptions } from './bare-proxy.child.js';
import { type ChildHandle, type Memory, startChild } from './child-process.js';
import type { GrantCounts } from './identity-provider.child.js';
import { assertCheckSays200, checkHeaders, FORWARD_AUTH_PATH, startForwardAuthNginx } from './forward-auth.js';
import { findNginx, type NginxBaseline, startNginxBaseline } from './nginx-baseline.js';
import { formatProfileSummary, type ProfileSummary, summarizeProfile } from './profile-summary.js';
import { runRefreshStorm } from './refresh-storm.js';
import type { UpstreamStats } from './upstream.child.js';

/**
 * `npm run bench`: the gateway against three baselines forwarding to the same upstream — a minimal `node:http`
 * + undici Pool forwarder (the primary one), a bare `@fastify/http-proxy` and nginx (one worker) — and the
 * upstream itself; with nginx, also forward-auth mode (nginx with the documented snippet asking a gateway per
 * request, bench/forward-auth.ts) and the check alone, all started here on loopback (Redis, upstream, provider, proxies), measured with autocannon
 * in one run so that the ratios compare like with like. Settings (environment, all optional):
 *   BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3), BENCH_CONNECTIONS (default 50),
 *   BENCH_SUSTAIN (s of load between the two RSS readings, default 60),
 *   BENCH_STORM_SESSIONS (default 20), BENCH_STORM_CONCURRENCY (per session, default 10), BENCH_STORM_WAVES (default 6),
 *   BENCH_LOG_LEVEL (the gateway's, default warn),
 *   BENCH_NGINX (the nginx binary; default `nginx` on the PATH or /usr/sbin/nginx; `off`: no nginx rows, forward-auth's included),
 *   BENCH_CPU_PROFILE (a folder: profile the gateway, the forwarder and the bare proxy under load, and print where their CPU goes).
 * Progress goes to stderr, the report to stdout.
 */

const settings = {
  duration: positive('BENCH_DURATION', 10),
  warmup: positive('BENCH_WARMUP', 3),
  connections: positive('BENCH_CONNECTIONS', 50),
  sustain: positive('BENCH_SUSTAIN', 60),
  stormSessions: positive('BENCH_STORM_SESSIONS', 20),
  stormConcurrency: positive('BENCH_STORM_CONCURRENCY', 10),
  stormWaves: positive('BENCH_STORM_WAVES', 6),
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
  nginx: process.env.BENCH_NGINX || undefined,
  profileDir: process.env.BENCH_CPU_PROFILE || undefined,
};

const ROUTE_PREFIX = '/api/echo';
const UPSTREAM_BASE = '/v1';
const RESOURCE = 'http://bench.api.test';
const CLIENT_ID = 'sessiongate-bench';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
/** The gateway's session cookie on an http PUBLIC_URL (SESSION_COOKIE_NAME's default). */
const SESSION_COOKIE = 'sessiongate';
/** The storm's provider issues access tokens for this long, and the gateway refreshes them this long before expiry. */
const STORM_TOKEN_TTL_S = 3;
const STORM_REFRESH_SKEW_S = 1;
const SIZES = [
  { label: '1 KB', path: '1kb' },
  { label: '100 KB', path: '100kb' },
] as const;

interface Measured {
  readonly result: autocannon.Result;
  /** CPU seconds each party used during the measured run (undefined without /proc). */
  readonly cpu: CpuUse | undefined;
}

interface Row extends Measured {
  readonly name: string;
  /** The baselines this row is compared with (none on the baselines' own rows). */
  readonly against?: Baselines;
}

/** The same load through each baseline, measured in the same run as the gateway rows compared with them. */
interface Baselines {
  /** The primary baseline: `node:http` + one undici Pool, nothing else. */
  readonly forwarder: Row;
  readonly bare: Row;
  /** Undefined where nginx is not installed (or did not start). */
  readonly nginx: Row | undefined;
}

/** One measured load: where autocannon sends it, and which processes' CPU time is the server's. */
interface Load {
  readonly url: string | string[];
  readonly headers?: Record<string, string>;
  /** The processes under test (none when the upstream itself is measured). */
  readonly pids: readonly number[];
  /** Some of `pids` by name, to show the server's CPU split between them (forward-auth: nginx and the gateway). */
  readonly parts?: Readonly<Record<string, readonly number[]>>;
  readonly duration?: number;
  readonly warmup?: number;
}

interface CpuUse {
  /** The proxy or gateway process(es) measured; undefined when the upstream itself is. */
  readonly server?: number;
  /** The load's `parts`, each one's CPU seconds. */
  readonly parts?: Readonly<Record<string, number>>;
  readonly redis: number;
  readonly upstream: number;
  /** autocannon, in this process. */
  readonly loadGenerator: number;
  /** Busy CPU seconds of the whole machine (all processes, ours and anyone else's). */
  readonly machine: number;
  readonly seconds: number;
}

/** Process ids of the parties whose CPU time is accounted for in each run. */
const pids = { redis: 0, upstream: 0 };

interface GatewayPair {
  readonly idp: ChildHandle;
  readonly publicUrl: string;
  readonly instances: readonly [ChildHandle, ChildHandle];
  /** A third instance with SESSION_CACHE=verify (every request reads Redis), when asked for. */
  readonly verifying: ChildHandle | undefined;
  /** More instances, each with settings of its own (tracing on), by the names they were asked for under. */
  readonly variants: Readonly<Record<string, ChildHandle>>;
}

interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/** Everything started, stopped in reverse order whatever happens. */
const running: Stoppable[] = [];

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** A URL through a proxy or gateway: the route prefix, which each of them rewrites to the upstream's base path. */
function at(server: { readonly url: string }, path: string): string {
  return `${server.url}${ROUTE_PREFIX}/${path}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  progress(`settings: ${JSON.stringify(settings)}`);
  const redis = await startRedis();
  running.push({ name: 'redis', stop: () => redis.stop() });
  pids.redis = Number(/process_id:(\d+)/.exec(await redis.client.info('server'))?.[1] ?? 0);
  const upstream = await child('upstream', 'upstream.child.js', {});
  pids.upstream = upstream.pid;
  const forwarding: BareProxyOptions = { upstream: upstream.url, prefix: ROUTE_PREFIX, rewritePrefix: UPSTREAM_BASE };
  const bare = await child('bare-proxy', 'bare-proxy.child.js', forwarding);
  const forwarder = await child('forwarder', 'forwarder.child.js', forwarding);
  const nginx = await startNginxIfInstalled(forwarding);
  // Spans go to a collector that only accepts them (OTLP/HTTP, in this process); it reads and drops each batch.
  const otlpSink = await startOtlpReceiver({ decode: false });
  running.push({ name: 'otlp-sink', stop: () => otlpSink.stop() });
  const tracingAt = (ratio: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpSink.url,
    OTEL_TRACES_SAMPLER: 'traceidratio',
    OTEL_TRACES_SAMPLER_ARG: ratio,
  });
  const gateways = await startGatewayPair('gateway', redis, upstream.url, { accessTokenTtlSeconds: 3600 }, {}, true, {
    traced: tracingAt('1'),
    sampled: tracingAt('0.01'),
    // The route's target has the path the browser asks for, as forward-auth mode needs (the ingress forwards the URI as is).
    forwardAuth: {
      FORWARD_AUTH_PATH,
      TRUST_PROXY: '127.0.0.1',
      API_ROUTES: JSON.stringify([{ prefix: ROUTE_PREFIX, target: `${upstream.url}${ROUTE_PREFIX}`, token: 'user' }]),
    },
  });
  const [gateway, second] = gateways.instances;
  const verifying = gateways.verifying!;
  const { traced, sampled, forwardAuth } = gateways.variants as Record<'traced' | 'sampled' | 'forwardAuth', ChildHandle>;
  const ingress = nginx.server && (await startForwardAuthIngress(forwardAuth, upstream));

  const cookie = await logIn(gateways.publicUrl);
  const headers = { cookie, 'x-csrf': '1' };
  const upstreamUrl = (path: string) => `${upstream.url}${UPSTREAM_BASE}/${path}`;
  const smallBytes = await sanityCheck(upstream, [
    { url: upstreamUrl('small'), headers: {}, bearer: false },
    ...[bare, forwarder, ...(nginx.server ? [nginx.server] : [])].map((server) => ({
      url: at(server, 'small'),
      headers: {},
      bearer: false,
    })),
    ...[gateway, second, verifying, traced, sampled, ...(ingress ? [ingress] : [])].map((instance) => ({
      url: at(instance, 'small'),
      headers,
      bearer: true,
    })),
  ]);
  const check = {
    url: `${forwardAuth.url}${FORWARD_AUTH_PATH}`,
    headers: checkHeaders(`${ROUTE_PREFIX}/small`, new URL(gateways.publicUrl).host, headers),
    pids: [forwardAuth.pid],
  };
  if (ingress) await assertCheckSays200(check.url, check.headers);

  const memory: [string, Memory][] = [['idle, after start-up and login', await gateway.memory()]];
  const baselinesFor = async (label: string, path: string): Promise<Baselines> => ({
    forwarder: await row(`${label}minimal forwarder (node:http + undici Pool)`, { url: at(forwarder, path), pids: [forwarder.pid] }),
    bare: await row(`${label}bare @fastify/http-proxy`, { url: at(bare, path), pids: [bare.pid] }),
    nginx:
      nginx.server && (await row(`${label}nginx, 1 worker, keep-alive upstream`, { url: at(nginx.server, path), pids: nginx.server.pids })),
  });
  const through = (path: string, instance = gateway): Load => ({ url: at(instance, path), headers, pids: [instance.pid] });

  const direct = await row('upstream directly (node:http)', { url: upstreamUrl('small'), pids: [] });
  const small = await baselinesFor('', 'small');
  const single = await row('gateway, 1 instance', through('small'), small);
  const forwardAuthRows = ingress
    ? [
        await row(
          'nginx + forward-auth (documented snippet, 1 worker) asking the gateway, then the upstream',
          {
            url: at(ingress, 'small'),
            headers,
            pids: [...ingress.pids, forwardAuth.pid],
            parts: { nginx: ingress.pids, gateway: [forwardAuth.pid] },
          },
          small,
        ),
        await row(`forward-auth check alone (${FORWARD_AUTH_PATH} with nginx's headers, from 127.0.0.1)`, check),
      ]
    : [];
  const strict = await row('gateway, 1 instance, SESSION_CACHE=verify (Redis on every request)', through('small', verifying), small);
  const tracedRows = [
    await row('gateway, 1 instance, tracing on, every request sampled (OTLP/HTTP to a local sink)', through('small', traced), small),
    await row('gateway, 1 instance, tracing on, 1% sampled', through('small', sampled), small),
  ];
  const pair = await row(
    `gateway, 2 instances (round-robin, ${Math.ceil(settings.connections / 2)}+${Math.floor(settings.connections / 2)})`,
    { url: [at(gateway, 'small'), at(second, 'small')], headers, pids: [gateway.pid, second.pid] },
    small,
  );
  const sizes: Row[] = [];
  for (const { label, path } of SIZES) {
    const baselines = await baselinesFor(`${label}: `, path);
    sizes.push(...baselineRows(baselines), await row(`${label}: gateway`, through(path), baselines));
  }
  memory.push(['after the runs above', await gateway.memory()]);
  progress(`sustained load on the gateway: ${settings.sustain} s`);
  const sustained = await row(
    `gateway, sustained ${settings.sustain} s`,
    { ...through('small'), duration: settings.sustain, warmup: 0 },
    small,
  );
  memory.push([`after ${settings.sustain} s more of sustained load`, await gateway.memory()]);

  const profiles: Profiled[] = [];
  if (settings.profileDir) {
    const dir = resolve(settings.profileDir);
    await mkdir(dir, { recursive: true });
    for (const [handle, load] of [
      [gateway, through('small')],
      [forwarder, { url: at(forwarder, 'small'), pids: [] }],
      [bare, { url: at(bare, 'small'), pids: [] }],
    ] as const)
      profiles.push(await profileUnderLoad(dir, handle, load));
  }
  const upstreamStats = await upstream.call<UpstreamStats>('stats');
  await stopAll(
    gateways.instances,
    verifying,
    traced,
    sampled,
    forwardAuth,
    gateways.idp,
    bare,
    forwarder,
    ...(nginx.server ? [nginx.server] : []),
    ...(ingress ? [ingress] : []),
  );

  const storm = await refreshStorm(redis, upstream.url);
  const totalSeconds = (performance.now() - started) / 1000;
  const rows = [direct, ...baselineRows(small), single, ...forwardAuthRows, strict, ...tracedRows, pair, ...sizes, sustained];

  const report = [
    `# Sessiongate benchmark (${new Date().toISOString()})`,
    '',
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}. autocannon, ${settings.connections} connections, ` +
      `${settings.duration} s per run after ${settings.warmup} s of warm-up (not measured). Every server is a process of its own; ` +
      `the gateway logs at ${settings.logLevel}, with Redis on loopback and one logged-in session (cookie + \`x-csrf: 1\`). ` +
      'Each gateway row is compared with the baselines measured for the same body in this run: the minimal forwarder ' +
      '(`node:http` + one undici Pool, the primary baseline), the bare `@fastify/http-proxy` and nginx (one worker).',
    '',
    `## Throughput and latency (small JSON GET: ${ROUTE_PREFIX}/small, a ${smallBytes} B body, unless the row says otherwise)`,
    '',
    rowsTable(rows),
    ...(nginx.note ? ['', nginx.note] : []),
    '',
    targets(single, strict, rows),
    '',
    ...forwardAuthReport(forwardAuthRows),
    '## CPU per request (same runs; all processes share the machine)',
    '',
    cpuTable(rows),
    '',
    `## Gateway memory (RSS of the gateway's own process) under sustained load`,
    '',
    'Each reading is taken after a full garbage collection, so the heap shows what is still reachable.',
    '',
    memoryTable(memory),
    '',
    stormReport(storm),
    '',
    `Upstream: ${upstreamStats.requests.toLocaleString('en')} requests answered, ${upstreamStats.withBearerToken.toLocaleString('en')} of them ` +
      `with a bearer token (the gateway's). OTLP sink: ${otlpSink.exports.toLocaleString('en')} span exports received ` +
      `(${(otlpSink.bytes / 1e6).toFixed(1)} MB), from the two tracing rows. Whole benchmark: ${totalSeconds.toFixed(0)} s.`,
    ...(profiles.length > 0 ? profilesReport(profiles) : []),
  ];
  process.stdout.write(`${report.join('\n')}\n`);
}

function baselineRows({ forwarder, bare, nginx }: Baselines): Row[] {
  return [forwarder, bare, ...(nginx ? [nginx] : [])];
}

/** nginx with the forward-auth snippet in front of the gateway started for it, beside the nginx baseline (same binary). */
async function startForwardAuthIngress(gateway: ChildHandle, upstream: ChildHandle): Promise<NginxBaseline | undefined> {
  const binary = findNginx(settings.nginx)!;
  try {
    const server = await startForwardAuthNginx(binary, { gateway: new URL(gateway.url).host, api: new URL(upstream.url).host });
    running.push(server);
    progress(`nginx + forward-auth (pids ${server.pids.join(', ')}) at ${server.url}`);
    return server;
  } catch (error) {
    progress(`nginx + forward-auth: not measured (${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
}

/** nginx, one worker, where it is installed; otherwise (or when it does not start) a note saying why its rows are missing. */
async function startNginxIfInstalled(forwarding: BareProxyOptions): Promise<{ readonly server?: NginxBaseline; readonly note?: string }> {
  const binary = findNginx(settings.nginx);
  if (binary === undefined)
    return {
      note:
        settings.nginx === 'off'
          ? 'nginx: not measured (BENCH_NGINX=off).'
          : `nginx: not measured (${settings.nginx ?? 'no `nginx` on the PATH nor /usr/sbin/nginx'} does not run).`,
    };
  try {
    const server = await startNginxBaseline(binary, forwarding);
    running.push(server);
    progress(`nginx (pids ${server.pids.join(', ')}) at ${server.url}`);
    return { server };
  } catch (error) {
    const note = `nginx: not measured (${binary} did not start: ${error instanceof Error ? error.message : String(error)}).`;
    progress(note);
    return { note };
  }
}

interface Profiled {
  readonly name: string;
  readonly file: string;
  readonly summary: ProfileSummary;
  /** Requests answered while the profile ran, to put each group's time per request. */
  readonly requests: number;
}

/** Profiles one server under the small JSON GET load. */
async function profileUnderLoad(dir: string, handle: ChildHandle, { url, headers = {} }: Load): Promise<Profiled> {
  const file = join(dir, `${handle.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  progress(`profiling ${handle.name} under load: ${settings.duration} s`);
  await handle.call('profile-start');
  const result = await load(url, headers, settings.duration);
  await handle.call('profile-stop', file);
  return { name: handle.name, file, summary: summarizeProfile(JSON.parse(await readFile(file, 'utf8'))), requests: result.requests.total };
}

async function child(name: string, script: string, payload: unknown): Promise<ChildHandle> {
  const handle = await startChild(name, new URL(`./${script}`, import.meta.url), payload);
  running.push(handle);
  progress(`${name} (pid ${handle.pid}) at ${handle.url}`);
  return handle;
}

/** A provider and two gateway instances sharing one Redis and one encryption key, as replicas behind a load balancer would. */
async function startGatewayPair(
  name: string,
  redis: RedisFixture,
  upstream: string,
  idpOptions: { readonly accessTokenTtlSeconds: number },
  env: Readonly<Record<string, string>>,
  withVerifying = false,
  variants: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): Promise<GatewayPair> {
  const ports = [await freePort(), await freePort(), await freePort()] as const;
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  const idp = await child(`${name}-idp`, 'identity-provider.child.js', {
    ...idpOptions,
    resources: { [RESOURCE]: { scope: 'bench:read' } },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${publicUrl}/bff/callback`],
        post_logout_redirect_uris: [`${publicUrl}/`],
      },
    ],
  });
  const settingsFor = (port: number) => ({
    PUBLIC_URL: publicUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: settings.logLevel,
    OIDC_ISSUER: idp.url,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    REDIS_URL: redis.url,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_ROUTES: JSON.stringify([{ prefix: ROUTE_PREFIX, target: `${upstream}${UPSTREAM_BASE}`, token: 'user' }]),
    // The refresh storm logs in BENCH_STORM_SESSIONS times from one address; logins are not what is measured.
    RATE_LIMIT_LOGIN: '0',
    RATE_LIMIT_CALLBACK: '0',
    ...env,
  });
  const key = settingsFor(0).SESSION_ENCRYPTION_KEY;
  const instances = [
    await child(`${name}-a`, 'gateway.child.js', { ...settingsFor(ports[0]), SESSION_ENCRYPTION_KEY: key }),
    await child(`${name}-b`, 'gateway.child.js', { ...settingsFor(ports[1]), SESSION_ENCRYPTION_KEY: key }),
  ] as const;
  const verifying = withVerifying
    ? await child(`${name}-verify`, 'gateway.child.js', { ...settingsFor(ports[2]), SESSION_ENCRYPTION_KEY: key, SESSION_CACHE: 'verify' })
    : undefined;
  const started: Record<string, ChildHandle> = {};
  for (const [variant, own] of Object.entries(variants)) {
    const port = await freePort();
    started[variant] = await child(`${name}-${variant}`, 'gateway.child.js', { ...settingsFor(port), SESSION_ENCRYPTION_KEY: key, ...own });
  }
  return { idp, publicUrl, instances, verifying, variants: started };
}

/** Logs in through the gateway and the provider's login form, as a browser; answers the `Cookie` header the SPA's calls carry. */
async function logIn(publicUrl: string, username = 'alice'): Promise<string> {
  const browser = new BrowserClient();
  await browser.login(publicUrl, { username, password: username });
  const session = browser.cookies(publicUrl)[SESSION_COOKIE];
  if (session === undefined) throw new Error(`no ${SESSION_COOKIE} cookie after logging in at ${publicUrl}`);
  return `${SESSION_COOKIE}=${session}`;
}

/** One request to each target before measuring anything: a benchmark of 401s or 404s would be worthless. */
async function sanityCheck(
  upstream: ChildHandle,
  targets: readonly { url: string; headers: Record<string, string>; bearer: boolean }[],
): Promise<number> {
  let bytes = 0;
  for (const { url, headers, bearer } of targets) {
    const before = await upstream.call<UpstreamStats>('stats');
    const response = await fetch(url, { headers });
    const body = await response.text();
    const after = await upstream.call<UpstreamStats>('stats');
    if (response.status !== 200 || !body.includes('Buy milk')) throw new Error(`${url} answered ${response.status}: ${body.slice(0, 200)}`);
    if (after.withBearerToken - before.withBearerToken !== (bearer ? 1 : 0))
      throw new Error(`${url}: the upstream did not get the expected Authorization header`);
    bytes = Buffer.byteLength(body);
  }
  return bytes;
}

function load(url: string | string[], headers: Record<string, string>, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: settings.connections, duration, headers, timeout: 10 });
}

async function row(name: string, measured: Load, against?: Baselines): Promise<Row> {
  return { name, ...(await measure(name, measured)), ...(against ? { against } : {}) };
}

async function measure(
  name: string,
  { url, headers = {}, pids: server, parts = {}, duration = settings.duration, warmup = settings.warmup }: Load,
): Promise<Measured> {
  progress(`${name}: ${warmup > 0 ? `${warmup} s warm-up, then ` : ''}${duration} s measured`);
  if (warmup > 0) await load(url, headers, warmup);
  const parties: Record<string, readonly number[]> = {
    ...parts,
    server,
    redis: [pids.redis],
    upstream: [pids.upstream],
    loadGenerator: [process.pid],
  };
  const before = await cpuSeconds(parties);
  const machineBefore = await machineBusySeconds();
  const started = performance.now();
  const result = await load(url, headers, duration);
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuSeconds(parties);
  const machineAfter = await machineBusySeconds();
  const used = (party: string) => after![party]! - before![party]!;
  const cpu =
    before && after && machineBefore !== undefined && machineAfter !== undefined
      ? {
          ...(server.length > 0 ? { server: used('server') } : {}),
          ...(Object.keys(parts).length > 0 ? { parts: Object.fromEntries(Object.keys(parts).map((part) => [part, used(part)])) } : {}),
          redis: used('redis'),
          upstream: used('upstream'),
          loadGenerator: used('loadGenerator'),
          machine: machineAfter - machineBefore,
          seconds,
        }
      : undefined;
  return { result, cpu };
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Busy CPU seconds of the whole machine so far, summed over its CPUs (/proc/stat: all but idle and iowait). */
async function machineBusySeconds(): Promise<number | undefined> {
  try {
    const [, ...ticks] = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) used so far by each group of processes, from /proc; undefined where there is none. */
async function cpuSeconds<K extends string>(groups: Record<K, readonly number[]>): Promise<Record<K, number> | undefined> {
  try {
    const totals = {} as Record<K, number>;
    for (const [group, members] of Object.entries(groups) as [K, readonly number[]][]) {
      totals[group] = 0;
      for (const pid of members) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        totals[group] += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      }
    }
    return totals;
  } catch {
    return undefined;
  }
}

async function refreshStorm(redis: RedisFixture, upstream: string) {
  const { stormSessions: sessions, stormConcurrency: concurrency, stormWaves: waves } = settings;
  const pair = await startGatewayPair(
    'storm',
    redis,
    upstream,
    { accessTokenTtlSeconds: STORM_TOKEN_TTL_S },
    { TOKEN_REFRESH_SKEW: String(STORM_REFRESH_SKEW_S) },
  );
  progress(`refresh storm: logging in ${sessions} sessions`);
  const memoryBefore = await redisUsedMemory(redis);
  const cookies: string[] = [];
  for (let next = 0; next < sessions; next += 5) {
    const batch = Array.from({ length: Math.min(5, sessions - next) }, (_, index) =>
      logIn(pair.publicUrl, (next + index) % 2 === 0 ? 'alice' : 'bob'),
    );
    cookies.push(...(await Promise.all(batch)));
  }
  const loggedIn = performance.now();
  const redisBytesPerSession = (await redisUsedMemory(redis)) - memoryBefore;
  await pair.idp.call('reset-events');
  const refreshInterval = (STORM_TOKEN_TTL_S - STORM_REFRESH_SKEW_S) * 1000;
  // A wave starts once every token is due and ends before the token it got is due again: one refresh per session per wave.
  const periodMs = refreshInterval + 500;
  const loadMs = refreshInterval / 2;
  progress(`refresh storm: ${sessions} sessions × ${concurrency} concurrent requests, ${waves} waves, 2 gateway instances`);
  const result = await runRefreshStorm({
    instances: pair.instances.map((instance) => instance.url),
    cookies,
    concurrency,
    waves,
    startAt: loggedIn + refreshInterval + 300,
    periodMs,
    loadMs,
    path: `${ROUTE_PREFIX}/small`,
    refreshGrants: async () => (await pair.idp.call<GrantCounts>('grants')).refreshGrants,
  });
  const grants = await pair.idp.call<GrantCounts>('grants');
  await stopAll(pair.instances, pair.idp);
  const sessionKeys = await redisSessionKeys(redis);
  return {
    sessions,
    concurrency,
    waves,
    periodMs,
    loadMs,
    result,
    grants,
    redisBytesPerSession: redisBytesPerSession / sessions,
    sessionKeys,
  };
}

async function redisUsedMemory(redis: RedisFixture): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))?.[1] ?? 0);
}

/** `MEMORY USAGE` of each session record (hash keys `sg:{…}:s`, the store's layout today; none found if it changes). */
async function redisSessionKeys(redis: RedisFixture): Promise<number[]> {
  const sizes: number[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'MATCH', 'sg:{*}:s', 'COUNT', 1000);
    for (const key of keys) sizes.push(Number(await redis.client.call('MEMORY', 'USAGE', key)));
    cursor = next;
  } while (cursor !== '0');
  return sizes;
}

async function stopAll(...handles: (Stoppable | readonly Stoppable[])[]): Promise<void> {
  const stopping = handles.flat();
  await Promise.all(stopping.map((handle) => handle.stop()));
  for (const handle of stopping) {
    const index = running.indexOf(handle);
    if (index >= 0) running.splice(index, 1);
  }
}

// ---- Report ----

function requestsPerSecond(row: Row): number {
  return row.result.requests.average;
}

/** `row`'s throughput as a share of `base`'s ('' without a base). */
function share(row: Row, base: Row | undefined): string {
  return base ? `${((100 * requestsPerSecond(row)) / requestsPerSecond(base)).toFixed(0)}%` : '';
}

/** `row`'s p99 as a multiple of `base`'s (latencies are whole milliseconds: a 0 ms p99 counts as 1). */
function p99Multiple(row: Row, base: Row): number {
  return row.result.latency.p99 / Math.max(base.result.latency.p99, 1);
}

/** CPU µs per request of `seconds` spent over the row's requests ('—' where not measured). */
function perRequest(seconds: number | undefined, row: Row): string {
  return seconds === undefined ? '—' : ((seconds * 1e6) / row.result.requests.total).toFixed(0);
}

function rowsTable(rows: readonly Row[]): string {
  return table(
    [
      '',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'non-2xx',
      'server µs/req',
      'MB/s',
      'vs forwarder',
      'p99 vs forwarder',
      'vs bare proxy',
      'vs nginx',
    ],
    rows.map((row) => {
      const { name, result, against } = row;
      return [
        name,
        Math.round(requestsPerSecond(row)).toLocaleString('en'),
        String(result.latency.p50),
        String(result.latency.p99),
        String(result.errors),
        String(result.non2xx),
        perRequest(row.cpu?.server, row),
        (result.throughput.average / 1e6).toFixed(1),
        share(row, against?.forwarder),
        against ? `${p99Multiple(row, against.forwarder).toFixed(1)}×` : '',
        share(row, against?.bare),
        share(row, against?.nginx),
      ];
    }),
  );
}

function cpuTable(rows: readonly Row[]): string {
  const measured = rows.filter((row) => row.cpu !== undefined);
  if (measured.length === 0) return '(no /proc on this system: CPU use not measured)';
  return table(
    [
      '',
      'req/s',
      'server, % of a core',
      'server µs/req',
      'Redis µs/req',
      'upstream µs/req',
      'autocannon µs/req',
      `cores busy: these`,
      `machine (of ${cpus().length})`,
    ],
    measured.map((row) => {
      const cpu = row.cpu!;
      const total = (cpu.server ?? 0) + cpu.redis + cpu.upstream + cpu.loadGenerator;
      return [
        row.name,
        Math.round(requestsPerSecond(row)).toLocaleString('en'),
        cpu.server === undefined ? '—' : `${((100 * cpu.server) / cpu.seconds).toFixed(0)}%`,
        perRequest(cpu.server, row),
        perRequest(cpu.redis, row),
        perRequest(cpu.upstream, row),
        perRequest(cpu.loadGenerator, row),
        (total / cpu.seconds).toFixed(2),
        (cpu.machine / cpu.seconds).toFixed(2),
      ];
    }),
  );
}

/** Issue 16's targets for the small JSON GET, each met or not in this run; errors count over every gateway row. */
function targets(single: Row, strict: Row, rows: readonly Row[]): string {
  const { forwarder, bare } = single.against!;
  const ratio = (row: Row, base: Row) => requestsPerSecond(row) / requestsPerSecond(base);
  const p99 = p99Multiple(single, forwarder);
  const gatewayRows = rows.filter((row) => row.against !== undefined);
  const errors = gatewayRows.reduce((sum, row) => sum + row.result.errors, 0);
  const non2xx = gatewayRows.reduce((sum, row) => sum + row.result.non2xx, 0);
  const check = (met: boolean, target: string, measured: string) => `- ${met ? 'met' : 'NOT met'}: ${target} (${measured})`;
  return [
    'Targets (issue 16, "a lean data plane"), gateway (1 instance, small JSON GET) in this run:',
    '',
    check(ratio(single, forwarder) >= 0.75, 'throughput ≥ 75% of the minimal forwarder', share(single, forwarder)),
    check(ratio(single, forwarder) >= 0.9, 'stretch: throughput ≥ 90% of the minimal forwarder', share(single, forwarder)),
    check(
      p99 <= 1.5,
      "p99 ≤ 1.5× the forwarder's",
      `${p99.toFixed(1)}×: ${single.result.latency.p99} against ${forwarder.result.latency.p99} ms`,
    ),
    check(errors === 0 && non2xx === 0, 'zero errors and non-2xx over every gateway row', `${errors} errors, ${non2xx} non-2xx`),
    check(ratio(single, bare) >= 1, 'throughput ≥ the bare Fastify proxy', share(single, bare)),
    check(ratio(strict, forwarder) >= 0.6, 'SESSION_CACHE=verify: throughput ≥ 60% of the forwarder', share(strict, forwarder)),
    '',
    cpuCrossCheck(single, forwarder),
    ...contention(rows),
  ].join('\n');
}

/**
 * Forward-auth mode in a few lines: where the nginx row's server CPU goes (nginx's worker and master, the gateway's
 * checks), and the check's own latency and cost when asked straight, at the rate 50 connections get from it.
 */
function forwardAuthReport(rows: readonly Row[]): string[] {
  const [through, check] = rows;
  if (!through || !check) return [];
  const parts = through.cpu?.parts;
  const split = parts ? `: nginx ${perRequest(parts.nginx, through)} + the gateway's checks ${perRequest(parts.gateway, through)}` : '';
  return [
    `Forward-auth (issue 15, docs/FORWARD-AUTH.md): nginx with deploy/forward-auth/nginx.conf asks the gateway (FORWARD_AUTH_PATH, ` +
      `TRUST_PROXY=127.0.0.1) before each request goes to the upstream. Its server CPU is both: ` +
      `${perRequest(through.cpu?.server, through)} µs per request${split}. ` +
      `The check alone, asked straight with nginx's headers: p50 ${check.result.latency.p50} ms, p99 ${check.result.latency.p99} ms ` +
      `at ${Math.round(requestsPerSecond(check)).toLocaleString('en')} checks/s, ${perRequest(check.cpu?.server, check)} µs of the gateway's ` +
      `CPU per check (${check.result.errors} errors, ${check.result.non2xx} non-2xx).`,
    '',
  ];
}

/** Server CPU per request, which moves less than req/s when the machine is shared: the same comparison at equal CPU. */
function cpuCrossCheck(gateway: Row, forwarder: Row): string {
  if (gateway.cpu?.server === undefined || forwarder.cpu?.server === undefined) return 'CPU per request not measured (no /proc).';
  const seconds = (row: Row) => row.cpu!.server! / row.result.requests.total;
  return (
    `At equal CPU: the gateway uses ${perRequest(gateway.cpu.server, gateway)} µs of CPU per request against the forwarder's ` +
    `${perRequest(forwarder.cpu.server, forwarder)} µs, so on a core of its own it would reach ` +
    `${((100 * seconds(forwarder)) / seconds(gateway)).toFixed(0)}% of the forwarder's throughput.`
  );
}

/** Cores other processes (not the ones measured) kept busy: with much of that, req/s ratios say more about the neighbours. */
const CONTENTION_CORES = 0.25;

function contention(rows: readonly Row[]): string[] {
  const others = rows.flatMap(({ cpu }) =>
    cpu ? [(cpu.machine - (cpu.server ?? 0) - cpu.redis - cpu.upstream - cpu.loadGenerator) / cpu.seconds] : [],
  );
  const worst = Math.max(0, ...others);
  if (worst < CONTENTION_CORES) return [];
  return [
    '',
    `Warning: other processes kept up to ${worst.toFixed(2)} of ${cpus().length} cores busy during these runs ` +
      '(the CPU table\'s machine column against its "these" one): the req/s ratios above depend on what each run had left; ' +
      'compare the CPU per request, and rerun on a quiet machine before trusting a ratio.',
  ];
}

/**
 * The profiled servers side by side: sampled self time per request by group (servers answer at different rates,
 * so shares of each profile would not compare), the first profile (the gateway) against the second (the forwarder);
 * then each profile's own summary.
 */
function profilesReport(profiles: readonly Profiled[]): string[] {
  const [gateway, forwarder] = profiles;
  const perRequest = (profiled: Profiled, group: string) =>
    ((profiled.summary.selfByGroup.find(([name]) => name === group)?.[1] ?? 0) * 1000) / Math.max(profiled.requests, 1);
  const groups = gateway!.summary.selfByGroup.map(([name]) => name).filter((name) => name !== 'idle');
  for (const other of profiles)
    for (const [name] of other.summary.selfByGroup) if (name !== 'idle' && !groups.includes(name)) groups.push(name);
  const busy = (profiled: Profiled) => groups.reduce((sum, group) => sum + perRequest(profiled, group), 0);
  const line = (label: string, value: (profiled: Profiled) => number) => [
    label,
    ...profiles.map((profiled) => value(profiled).toFixed(1)),
    (value(gateway!) - value(forwarder!)).toFixed(1),
  ];
  const comparison = table(
    ['self time by group, µs per request (sampled)', ...profiles.map(({ name }) => name), `${gateway!.name} − ${forwarder!.name}`],
    [...groups.map((group) => line(group, (profiled) => perRequest(profiled, group))), line('all but idle', busy)],
  );
  return [
    '',
    '## CPU profiles (same small JSON GET load)',
    '',
    "Sampled time is wall-clock time with the server not idle: it includes the profiler's own cost and, on a shared machine, " +
      'time spent waiting for a core, so it exceeds the CPU per request above; compare the groups between servers.',
    '',
    `Requests answered while profiled: ${profiles.map(({ name, requests }) => `${name} ${requests.toLocaleString('en')}`).join(', ')}.`,
    '',
    comparison,
    '',
    '```',
    profiles.map(({ name, file, summary }) => formatProfileSummary(`CPU profile of the ${name} (${file})`, summary)).join('\n\n'),
    '```',
  ];
}

function memoryTable(points: readonly [string, Memory][]): string {
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const first = points[0]![1].rss;
  return table(
    ['gateway process', 'RSS MB', 'vs idle', 'JS heap used MB', 'external MB'],
    points.map(([name, memory]) => [
      name,
      mb(memory.rss),
      `${memory.rss >= first ? '+' : ''}${mb(memory.rss - first)}`,
      mb(memory.heapUsed),
      mb(memory.external),
    ]),
  );
}

function stormReport(storm: Awaited<ReturnType<typeof refreshStorm>>): string {
  const { sessions, concurrency, waves, periodMs, loadMs, result, grants } = storm;
  const expected = sessions * waves;
  const ok = Object.entries(result.statusCounts).reduce((sum, [status, count]) => sum + (status.startsWith('2') ? count : 0), 0);
  const statuses = Object.entries(result.statusCounts)
    .map(([status, count]) => `${status}: ${count.toLocaleString('en')}`)
    .join(', ');
  return [
    `## Refresh storm (issue 3): ${sessions} sessions × ${concurrency} concurrent requests, 2 gateway instances, one Redis`,
    '',
    `Access tokens live ${STORM_TOKEN_TTL_S} s and are refreshed ${STORM_REFRESH_SKEW_S} s before expiry (TOKEN_REFRESH_SKEW). ${waves} waves ` +
      `${periodMs / 1000} s apart, each ${loadMs / 1000} s of back-to-back requests starting when every session's token is due: ` +
      `one refresh per session per wave, each session's requests spread over both instances.`,
    '',
    table(
      [
        'requests',
        'req/s in waves',
        '2xx',
        'other statuses',
        'errors',
        'p50 ms',
        'p99 ms',
        'max ms',
        'refresh grants',
        'expected (sessions × expiries)',
        'grant errors',
        'refresh-token reuse',
      ],
      [
        [
          result.requests.toLocaleString('en'),
          Math.round(result.requests / ((waves * loadMs) / 1000)).toLocaleString('en'),
          ok.toLocaleString('en'),
          statuses.replace(/(^|, )2\d\d: [\d,]+/g, '').replace(/^, /, '') || '0',
          String(result.errors),
          result.p50.toFixed(1),
          result.p99.toFixed(1),
          result.max.toFixed(1),
          String(grants.refreshGrants),
          `${expected} (${sessions} × ${waves})${grants.refreshGrants === expected ? '' : ' ≠'}`,
          String(grants.grantErrors),
          grants.refreshTokenReuseDetected ? 'DETECTED' : 'none',
        ],
      ],
    ),
    '',
    `Refresh grants per wave: ${result.grantsPerWave.join(', ')}.`,
    '',
    `Redis memory per session (issue 7, ≤ 4 KB): ${(storm.redisBytesPerSession / 1024).toFixed(1)} KB of \`used_memory\` per login ` +
      `(session, indexes, audit entry); MEMORY USAGE of the ${storm.sessionKeys.length} session records: ` +
      (storm.sessionKeys.length > 0
        ? `${(Math.min(...storm.sessionKeys) / 1024).toFixed(1)}–${(Math.max(...storm.sessionKeys) / 1024).toFixed(1)} KB.`
        : 'none found.'),
  ].join('\n');
}

/** A Markdown table with padded columns (numbers right-aligned), readable as is and pasteable into a note. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const numeric = headers.map(
    (header, column) => header !== '' && rows.every((row) => /^[\d,.+\-%×—]*$/.test(row[column]!.split(' ')[0]!)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (numeric[column] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${raw})`);
  return value;
}

let exitCode = 0;
const interrupted = () => {
  progress('interrupted: stopping everything');
  void shutdown().then(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

async function shutdown(): Promise<void> {
  for (const handle of running.reverse())
    await handle.stop().catch((error: unknown) => progress(`stopping ${handle.name}: ${String(error)}`));
  running.length = 0;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitCode = 1;
} finally {
  await shutdown();
}
process.exit(exitCode);
