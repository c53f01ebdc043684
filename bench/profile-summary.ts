import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** The parts of a V8 `.cpuprofile` (inspector `Profiler.stop`) this summary reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by group (framework, undici, crypto, logging, GC, each gateway lib …), biggest first: what to aim at. */
  readonly selfByGroup: readonly (readonly [string, number])[];
  /** Share of samples with at least one frame of the group on the stack (inclusive), biggest first. */
  readonly inclusiveByGroup: readonly (readonly [string, number])[];
  /** Self time by component (package, Node subsystem, gateway lib), biggest first. */
  readonly selfByComponent: readonly (readonly [string, number])[];
  /** Share of samples with at least one frame of the component on the stack (inclusive), biggest first. */
  readonly inclusiveByComponent: readonly (readonly [string, number])[];
  /** Self time by function, biggest first. */
  readonly selfByFunction: readonly (readonly [string, number])[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
/** Groups that are no code of anyone's: left out of the inclusive view, where they would only repeat their self time. */
const NOT_CODE = new Set(['idle', 'garbage collection', 'V8: compiler, runtime (program)', 'other: (root)']);

/** What a frame belongs to: a gateway lib, an npm package, a Node subsystem, or V8 itself. */
export function componentOf(url: string, functionName: string): string {
  if (url === '') return SPECIAL.has(functionName) ? functionName : '(native)';
  const lib = /\/dist\/libs\/([^/]+)\//.exec(url);
  if (lib) return `sessiongate/${lib[1]}`;
  if (url.includes('/dist/bench/')) return 'bench';
  const packages = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (packages.length > 0) return packages[packages.length - 1]![1]!;
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    const sub = parts[0] === 'internal' ? parts[1] : parts[0];
    return `node:${(sub ?? '').replace(/\.js$/, '').replace(/^(_http_\w+|http|https)$/, 'http')}`;
  }
  return url;
}

/** Packages by the part of the request's work they do, so that a profile says where the time goes, not only in which package. */
const GROUPS: readonly (readonly [string, RegExp])[] = [
  [
    'framework: Fastify',
    /^(fastify|@fastify\/.+|find-my-way|avvio|fast-json-stringify|fast-querystring|fast-uri|fast-decode-uri-component|light-my-request|toad-cache|secure-json-parse|rfdc|fastq|abstract-logging|process-warning|safe-regex2|ret)$/,
  ],
  ['framework: Nest', /^(@nestjs\/.+|rxjs|reflect-metadata|iterare|tslib|path-to-regexp|uid)$/],
  // undici parses responses with llhttp compiled to WebAssembly: its frames have a wasm:// URL.
  ['undici (upstream client)', /^(undici|wasm:\/\/.*)$/],
  ['crypto (node:crypto, jose)', /^(node:crypto|jose)$/],
  ['Redis client (ioredis)', /^(ioredis|@ioredis\/.+|redis-errors|redis-parser|cluster-key-slot|denque|standard-as-callback)$/],
  [
    'logging (pino)',
    /^(pino|pino-.+|@pinojs\/.+|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free)$/,
  ],
  ['metrics (prom-client)', /^(prom-client|tdigest|bintrees)$/],
  ['helmet', /^helmet$/],
  ['Node: socket writes and reads (net, stream_base_commons)', /^node:(net|stream_base_commons|dns)$/],
  ['Node: HTTP server (parser, headers, responses)', /^node:http$/],
  ['Node: streams', /^node:(streams?)$/],
  ['Node: events, ticks, timers', /^node:(events|process|timers|async_hooks)$/],
  // The profiler's own start and the parent's IPC calls run in the profiled process, but are no work of the server's.
  ['bench harness (profiler start, IPC)', /^(bench|node:inspector|node:child_process)$/],
  ['Node: other core modules', /^node:/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8: compiler, runtime (program)', /^\(program\)$/],
  ['idle', /^\(idle\)$/],
];

/** The group of a component (as componentOf names it): one of GROUPS, `ours: <lib>` for a gateway lib, else `other: <component>`. */
export function groupOf(component: string): string {
  if (component.startsWith('sessiongate/')) return `ours: ${component.slice('sessiongate/'.length)}`;
  return GROUPS.find(([, pattern]) => pattern.test(component))?.[0] ?? `other: ${component}`;
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const component = new Map<number, string>();
  // A native frame (no URL: a builtin, a binding) counts for the JS code that called it: `writev` under node:net is the socket's.
  const componentAt = (id: number): string => {
    const known = component.get(id);
    if (known !== undefined) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    const own = componentOf(url, functionName);
    const above = parent.get(id);
    const found = own === '(native)' && above !== undefined && componentAt(above) !== '(root)' ? componentAt(above) : own;
    component.set(id, found);
    return found;
  };
  for (const node of profile.nodes) componentAt(node.id);
  const fn = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    return `${functionName || '(anonymous)'}${where}`;
  };

  const self = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const selfGroup = new Map<string, number>();
  const inclusiveGroup = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    total += ms;
    add(self, component.get(id)!, ms);
    add(selfGroup, groupOf(component.get(id)!), ms);
    add(selfFn, fn(id), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(component.get(at)!);
    for (const name of seen) add(inclusive, name, ms);
    for (const name of new Set([...seen].map(groupOf))) add(inclusiveGroup, name, ms);
  });
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total,
    selfByGroup: sorted(selfGroup),
    inclusiveByGroup: sorted(inclusiveGroup),
    selfByComponent: sorted(self),
    inclusiveByComponent: sorted(inclusive),
    selfByFunction: sorted(selfFn),
  };
}

export function formatProfileSummary(title: string, summary: ProfileSummary, top = 20): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  const busy = summary.totalMs - (summary.selfByComponent.find(([name]) => name === '(idle)')?.[1] ?? 0);
  const lines = [`${title}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${pct(busy).trim()} busy`];
  const section = (heading: string, entries: readonly (readonly [string, number])[]) => {
    lines.push(`  ${heading}:`);
    for (const [name, ms] of entries.slice(0, top)) lines.push(`    ${pct(ms)}  ${name}`);
  };
  section('self time by group (native frames count for their JS caller)', summary.selfByGroup);
  section(
    'on the stack (inclusive) by group',
    summary.inclusiveByGroup.filter(([name]) => !NOT_CODE.has(name)),
  );
  section('self time by component', summary.selfByComponent);
  section(
    'on the stack (inclusive) by component',
    summary.inclusiveByComponent.filter(([name]) => !SPECIAL.has(name)),
  );
  section('self time by function', summary.selfByFunction);
  return lines.join('\n');
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

// `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: the same summary for any saved profile.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  console.log(formatProfileSummary(file, summarizeProfile(profile), Number(top ?? 20)));
}
