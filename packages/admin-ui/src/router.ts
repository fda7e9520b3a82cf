// A minimal client-side router over the History API, below the /admin base path.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/admin';

export interface Location {
  /** Path below /admin, e.g. '/credentials' ('' for the root). */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  let path = window.location.pathname;
  if (path.startsWith(BASE)) path = path.slice(BASE.length);
  path = path.replace(/\/+$/, '');
  return { path, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = to.startsWith(BASE) ? to : BASE + to;
  if (url === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

/** Changes the query of the current page without a new history entry. */
export function setQuery(params: Record<string, string | null | undefined>): void {
  const loc = current();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') loc.query.delete(k);
    else loc.query.set(k, v);
  }
  const q = loc.query.toString();
  navigate(`${loc.path}${q ? `?${q}` : ''}`, { replace: true });
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}
