import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  readonly nodes: ReadonlyArray<{ id: number; callFrame: { functionName: string; url: string } }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  /** Where it lives: a src/ file, a package, node core, or V8. */
  readonly where: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly sampledMs: number;
  /** Share of the samples in which the thread was idle (waiting on I/O). */
  readonly idlePct: number;
  /** Functions by self time, idle excluded. */
  readonly topFunctions: readonly SelfTime[];
  /** Self time by area: our layers, each package, node core, GC. */
  readonly byArea: readonly SelfTime[];
}

/**
 * Self time per function: each sample is charged to the frame on top of the stack, for the time
 * until the next sample. Functions are told apart by name and file, not line: the profile's lines
 * are those of the compiled JavaScript, not of the TypeScript a reader would open.
 */
export const summarizeProfile = (file: string, top = 12): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id);
    const us = profile.timeDeltas[index] ?? 0;
    if (frame === undefined) return;
    total += us;
    const where = locate(frame.url, frame.functionName);
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${name}\u0000${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(where, name);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  });
  const share = (us: number): number => Math.round((us / Math.max(1, total)) * 1000) / 10;
  const idleUs = byArea.get('idle') ?? 0;
  return {
    sampledMs: Math.round(total / 1000),
    idlePct: share(idleUs),
    topFunctions: [...byFunction.values()]
      .filter((entry) => entry.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({ name: entry.name, where: entry.where, selfMs: Math.round(entry.us / 1000), selfPct: share(entry.us) })),
    byArea: [...byArea]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ name: area, where: area, selfMs: Math.round(us / 1000), selfPct: share(us) })),
  };
};

const locate = (url: string, functionName: string): string => {
  if (url === '') return functionName.startsWith('(') ? 'V8' : 'V8 builtin';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch !== null) return packageMatch[1]!;
  if (url.startsWith('node:')) return url;
  // Compiled bench and src files: name the TypeScript source a reader would open.
  const ours = /\/(src|bench)\/(.*)\.js$/.exec(url);
  if (ours !== null) return `${ours[1]}/${ours[2]}.ts`;
  return url;
};

const areaOf = (where: string, name: string): string => {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collection';
  if (where === 'V8' || where === 'V8 builtin') return 'V8 (builtins, JSON, RegExp, compiler)';
  if (where.startsWith('node:')) return 'node core (http, net, streams, buffers)';
  const layer = /^src\/(domain|application|adapters\/[^/]+|main)\//.exec(where);
  if (layer !== null) return `orderflow src/${layer[1]}`;
  if (where.startsWith('bench/')) return 'benchmark harness';
  return where;
};
