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
  /** Self time by component (package, Node subsystem, gateway lib), biggest first. */
  readonly selfByComponent: readonly (readonly [string, number])[];
  /** Share of samples with at least one frame of the component on the stack (inclusive), biggest first. */
  readonly inclusiveByComponent: readonly (readonly [string, number])[];
  /** Self time by function, biggest first. */
  readonly selfByFunction: readonly (readonly [string, number])[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

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

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const component = new Map(profile.nodes.map((node) => [node.id, componentOf(node.callFrame.url, node.callFrame.functionName)]));
  const fn = (id: number) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    return `${functionName || '(anonymous)'}${where}`;
  };

  const self = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    total += ms;
    add(self, component.get(id)!, ms);
    add(selfFn, fn(id), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(component.get(at)!);
    for (const name of seen) add(inclusive, name, ms);
  });
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, selfByComponent: sorted(self), inclusiveByComponent: sorted(inclusive), selfByFunction: sorted(selfFn) };
}

export function formatProfileSummary(title: string, summary: ProfileSummary, top = 20): string {
  const pct = (ms: number) => `${((100 * ms) / summary.totalMs).toFixed(1).padStart(5)}%`;
  const busy = summary.totalMs - (summary.selfByComponent.find(([name]) => name === '(idle)')?.[1] ?? 0);
  const lines = [`${title}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${pct(busy).trim()} busy`, '  self time by component:'];
  for (const [name, ms] of summary.selfByComponent.slice(0, top)) lines.push(`    ${pct(ms)}  ${name}`);
  lines.push('  on the stack (inclusive) by component:');
  for (const [name, ms] of summary.inclusiveByComponent.filter(([name]) => !SPECIAL.has(name)).slice(0, top))
    lines.push(`    ${pct(ms)}  ${name}`);
  lines.push('  self time by function:');
  for (const [name, ms] of summary.selfByFunction.slice(0, top)) lines.push(`    ${pct(ms)}  ${name}`);
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
