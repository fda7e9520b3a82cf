// Path-template routing (`/v1/voices/{voice_id}`), the same template syntax as the catalog.
// Static paths are one Map lookup, which is what the benchmark hot paths hit.
import type { Handler } from './http.ts';

export interface Route {
  method: string;
  path: string;
  handler: Handler;
  /** Answers without an API key (ElevenLabs' default voice settings, pre-signed media URLs). */
  public?: boolean;
}

interface Compiled {
  route: Route;
  segments: string[];
  /** Index → parameter name for `{name}` segments. */
  names: (string | null)[];
  literals: number;
}

export type Match = { route: Route; params: Record<string, string> } | { route: null; allowed: string[] };

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export class Router {
  private readonly exact = new Map<string, Route>();
  private readonly dynamic: Compiled[] = [];
  private readonly pathsByMethod = new Map<string, Set<string>>();

  constructor(routes: Route[]) {
    for (const route of routes) this.add(route);
    // More literal segments first: `/v3/avatars/looks/{id}` before `/v3/avatars/{a}/{b}`.
    this.dynamic.sort((a, b) => b.literals - a.literals);
  }

  private add(route: Route): void {
    const key = `${route.method} ${route.path}`;
    if (!route.path.includes('{')) {
      if (this.exact.has(key)) throw new Error(`duplicate route ${key}`);
      this.exact.set(key, route);
    } else {
      const segments = route.path.split('/');
      const names = segments.map((s) => (s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1) : null));
      this.dynamic.push({ route, segments, names, literals: names.filter((n) => n === null).length });
    }
    let paths = this.pathsByMethod.get(route.path);
    if (!paths) this.pathsByMethod.set(route.path, (paths = new Set()));
    paths.add(route.method);
  }

  match(method: string, path: string): Match {
    const m = method === 'HEAD' ? 'GET' : method;
    const hit = this.exact.get(`${m} ${path}`);
    if (hit) return { route: hit, params: NO_PARAMS };
    const parts = path.split('/');
    let allowed: string[] = [];
    for (const c of this.dynamic) {
      const params = matchSegments(c, parts);
      if (!params) continue;
      if (c.route.method === m) return { route: c.route, params };
      allowed.push(c.route.method);
    }
    const staticMethods = this.pathsByMethod.get(path);
    if (staticMethods) allowed = allowed.concat([...staticMethods]);
    return { route: null, allowed: [...new Set(allowed)] };
  }
}

function matchSegments(c: Compiled, parts: string[]): Record<string, string> | null {
  if (parts.length !== c.segments.length) return null;
  let params: Record<string, string> | null = null;
  for (let i = 0; i < parts.length; i++) {
    const name = c.names[i];
    const part = parts[i]!;
    if (name === null || name === undefined) {
      if (part !== c.segments[i]) return null;
      continue;
    }
    if (part === '') return null;
    let value: string;
    try {
      value = decodeURIComponent(part);
    } catch {
      return null;
    }
    (params ??= {})[name] = value;
  }
  return params ?? {};
}
