// Small shared pieces: loading state, error display (message, code and request id), the
// confirmation dialog, the copy button, times, links and the organization picker.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, listAll } from './api.ts';
import { BASE, navigate } from './router.ts';
import type { Organization, Session } from './types.ts';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'client_error', err instanceof Error ? err.message : String(err), null);
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; stale answers are dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (err) => live && setState({ data: undefined, error: toApiError(err), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}

/** An async action with its busy flag and last error. */
export function useAction(): {
  busy: boolean;
  error: ApiError | null;
  setError: (e: ApiError | null) => void;
  run: <T>(fn: () => Promise<T>) => Promise<T | undefined>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      setError(toApiError(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

/** Every error the gateway returns, with its message, code and request id. */
export function ErrorNotice({ error, onDismiss }: { error: ApiError | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div class="notice notice-error" role="alert" data-testid="error">
      <p class="notice-message">
        <strong>{error.message}</strong>
      </p>
      <p class="notice-meta">
        {error.status > 0 ? <span>HTTP {error.status}</span> : null}
        <span>
          code <code>{error.code}</code>
        </span>
        {error.requestId ? (
          <span>
            request id <code data-testid="request-id">{error.requestId}</code>
          </span>
        ) : null}
      </p>
      {onDismiss ? (
        <button type="button" class="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'success' | 'warning' }) {
  return (
    <div class={`notice notice-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** A date-time in the reader's locale, with the exact value in `datetime`; "—" for none. */
export function Time({ value, empty = '—' }: { value: string | null | undefined; empty?: string }) {
  if (!value) return <span class="muted">{empty}</span>;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return <span>{value}</span>;
  return (
    <time dateTime={value} title={value}>
      {d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}
    </time>
  );
}

export function Link({
  href,
  children,
  class: className,
  ...aria
}: {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page' | undefined;
}) {
  const full = href.startsWith(BASE) ? href : BASE + href;
  return (
    <a
      href={full}
      class={className}
      {...aria}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(full);
      }}
    >
      {children}
    </a>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Portico admin`;
  }, [title]);
  return (
    <header class="page-header">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      {children ? <p class="page-intro">{children}</p> : null}
    </header>
  );
}

/** Copies `text` to the clipboard (with a fallback for browsers without the async API). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'offscreen';
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand('copy');
      ta.remove();
      setState(ok ? 'copied' : 'failed');
    }
  };
  return (
    <>
      <button type="button" class="button" onClick={copy}>
        {label}
      </button>
      <span class="copy-state" role="status" aria-live="polite">
        {state === 'copied' ? 'Copied to the clipboard.' : state === 'failed' ? 'Copy failed: select the text and copy it.' : ''}
      </span>
    </>
  );
}

interface ConfirmRequest {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  resolve: (ok: boolean) => void;
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). */
export function useConfirm(): { confirm: (title: string, message: ComponentChildren, confirmLabel: string) => Promise<boolean>; dialog: JSX.Element } {
  const [req, setReq] = useState<ConfirmRequest | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (req && d && !d.open) d.showModal();
  }, [req]);
  const close = (ok: boolean) => {
    ref.current?.close();
    req?.resolve(ok);
    setReq(null);
  };
  const confirm = useCallback(
    (title: string, message: ComponentChildren, confirmLabel: string) => new Promise<boolean>((resolve) => setReq({ title, message, confirmLabel, resolve })),
    [],
  );
  const dialog = (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" onCancel={() => close(false)}>
      {req ? (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            close(true);
          }}
        >
          <h2 id="confirm-title">{req.title}</h2>
          <div class="dialog-body">{req.message}</div>
          <div class="actions">
            <button type="button" class="button" onClick={() => close(false)}>
              Cancel
            </button>
            <button type="submit" class="button button-danger">
              {req.confirmLabel}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
  return { confirm, dialog };
}

/** Organizations the session may manage: all of them for the platform, its own for an organization admin. */
export function useOrganizations(session: Session): Loaded<string[]> {
  return useLoad<string[]>(async () => {
    if (session.role !== 'platform') return [session.organization!];
    const orgs = await listAll<Organization>('/organizations', 'organizations');
    return orgs.map((o) => o.slug).sort();
  }, [session.actor]);
}

/** Picks the organization a page works on; an organization admin has exactly one. */
export function OrgPicker({
  session,
  orgs,
  value,
  onChange,
  id = 'org-picker',
  label = 'Organization',
  allowNone,
}: {
  session: Session;
  orgs: string[];
  value: string;
  onChange: (v: string) => void;
  id?: string;
  label?: string;
  allowNone?: string;
}) {
  if (session.role !== 'platform') {
    return (
      <div class="field">
        <span class="label">{label}</span>
        <span class="static-value" data-testid="own-org">
          {session.organization}
        </span>
      </div>
    );
  }
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {allowNone !== undefined ? <option value="">{allowNone}</option> : value === '' ? <option value="">Choose an organization…</option> : null}
        {(value && !orgs.includes(value) ? [value, ...orgs] : orgs).map((o) => (
          <option value={o} key={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

export function StatusBadge({ ok, yes, no }: { ok: boolean; yes: string; no: string }) {
  return <span class={`badge ${ok ? 'badge-ok' : 'badge-off'}`}>{ok ? yes : no}</span>;
}

/** `datetime-local` input value → RFC 3339 (UTC), or null when empty. */
export function localToIso(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The error of the last "load more" and the button that fetches the next page (lists with a cursor). */
export function LoadMore({ cursor, busy, error, onLoad }: { cursor: string | null; busy: boolean; error: ApiError | null; onLoad: () => void }) {
  return (
    <>
      <ErrorNotice error={error} />
      {cursor ? (
        <button type="button" class="button" onClick={onLoad} disabled={busy}>
          {busy ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
    </>
  );
}
