// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) without any dependency and sums self
// time per function and per module. Each sample's time is the gap to the next sample (as
// Chrome DevTools attributes it); the last sample gets the average gap.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  scriptId: string | number;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Row {
  name: string;
  where: string;
  module: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not spent idle: program, GC and JavaScript. */
  busyMs: number;
  functions: Row[];
  modules: { module: string; selfMs: number; share: number }[];
}

function location(url: string, root: string): string {
  if (!url) return '';
  let path = url;
  if (url.startsWith('file://')) {
    try {
      path = fileURLToPath(url);
    } catch {
      path = url;
    }
  }
  if (path.startsWith('/')) {
    const rel = relative(root, path);
    return rel.startsWith('..') ? path : rel;
  }
  return path;
}

/** The module a frame belongs to: an npm package, a Portico source folder, Node's internals, or a VM state. */
export function moduleOf(where: string, name: string): string {
  if (!where) return name.startsWith('(') ? name : '(native)';
  const nm = where.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = where.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (where.startsWith('wasm:')) return 'wasm (undici llhttp parser)';
  if (where.startsWith('node:')) return 'node:' + (where.slice(5).split('/')[0] ?? '');
  const m = /^packages\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(where);
  if (m) return `portico ${m[1]}/${m[2] && !m[2].endsWith('.ts') ? m[2] : '(root)'}`;
  return where.split('/').slice(0, 2).join('/');
}

/**
 * `window` (microseconds on the monotonic clock, the one process.hrtime uses and V8 stamps
 * profiles with) keeps only the samples taken in it: the measured load, not start-up.
 */
export function summarizeProfile(p: CpuProfile, root: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    const total = p.endTime - p.startTime;
    const avg = total / samples.length;
    let at = p.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i]!;
      if (window && (at < window.fromUs || at > window.toUs)) continue;
      const us = i + 1 < deltas.length ? Math.max(0, deltas[i + 1]!) : avg;
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + us);
    }
  } else {
    // Older format: hit counts only.
    const total = p.endTime - p.startTime;
    const hits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
    for (const n of p.nodes) if (n.hitCount) self.set(n.id, (n.hitCount / hits) * total);
  }

  const fns = new Map<string, Row>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    totalUs += us;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') idleUs += us;
    const where = location(cf.url, root);
    const loc = where ? `${where}:${cf.lineNumber + 1}` : '';
    const key = `${name}|${loc}`;
    const row = fns.get(key) ?? { name, where: loc, module: moduleOf(where, name), selfMs: 0, share: 0 };
    row.selfMs += us / 1000;
    fns.set(key, row);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const functions = [...fns.values()].filter((r) => r.name !== '(idle)').sort((a, b) => b.selfMs - a.selfMs);
  for (const r of functions) r.share = busyMs > 0 ? r.selfMs / busyMs : 0;
  const mods = new Map<string, number>();
  for (const r of functions) mods.set(r.module, (mods.get(r.module) ?? 0) + r.selfMs);
  const modules = [...mods.entries()]
    .map(([module, selfMs]) => ({ module, selfMs, share: busyMs > 0 ? selfMs / busyMs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, busyMs, functions, modules };
}

export function formatProfile(s: ProfileSummary, opts: { top: number; requests?: number; rps?: number; windowed?: boolean; title?: string }): string {
  const lines: string[] = [];
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  const ms = (x: number): string => x.toFixed(1).padStart(9);
  const perReq = (x: number): string => (opts.requests ? `${((x * 1000) / opts.requests).toFixed(2).padStart(7)} µs/req` : '');
  lines.push(`${opts.title ?? 'Portico CPU profile, small JSON scenario'}${opts.rps ? ` (${opts.rps} req/s under the profiler)` : ''}`);
  lines.push(
    `${opts.windowed ? 'measured phase' : 'whole process'}: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy (shares are of busy time${opts.requests ? `; µs/req over ${opts.requests} requests` : ''})`,
  );
  lines.push('');
  lines.push(`Top ${opts.top} functions by self time:`);
  lines.push(`${'self ms'.padStart(9)}  ${'share'.padStart(6)}  ${opts.requests ? 'per request'.padStart(14) + '  ' : ''}function — location`);
  for (const r of s.functions.slice(0, opts.top)) {
    lines.push(`${ms(r.selfMs)}  ${pct(r.share)}  ${opts.requests ? perReq(r.selfMs) + '  ' : ''}${r.name}${r.where ? ` — ${r.where}` : ''}`);
  }
  lines.push('');
  lines.push('Self time by module:');
  for (const m of s.modules.slice(0, 25)) lines.push(`${ms(m.selfMs)}  ${pct(m.share)}  ${m.module}`);
  return lines.join('\n') + '\n';
}
