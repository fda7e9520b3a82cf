// The audit log (platform admin): who changed what and when, filterable, newest first.
import { useState } from 'preact/hooks';
import { admin, qs } from '../api.ts';
import { ErrorNotice, LoadMore, Loading, PageHeader, Time, localToIso, useAction, useLoad } from '../components.tsx';
import { navigate } from '../router.ts';
import type { AuditEntry, Session } from '../types.ts';

interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string | null;
}

const FILTERS = ['action', 'actor', 'target', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];

function isoToLocal(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function AuditLogPage({ session: _session, query }: { session: Session; query: URLSearchParams }) {
  const applied = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<Filter, string>;
  const [form, setForm] = useState<Record<Filter, string>>({
    ...applied,
    from: applied.from ? isoToLocal(applied.from) : '',
    to: applied.to ? isoToLocal(applied.to) : '',
  });
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async () => {
    const page = await admin.get<AuditPage>(`/audit-log${qs({ ...applied, limit: 50 })}`);
    setEntries(page.entries);
    setCursor(page.next_cursor);
    return true;
  }, [query.toString()]);
  const more = useAction();

  const apply = (e: Event) => {
    e.preventDefault();
    const q = qs({ action: form.action.trim(), actor: form.actor.trim(), target: form.target.trim(), from: localToIso(form.from), to: localToIso(form.to) });
    navigate(`/audit-log${q}`, { replace: true });
  };
  const clear = () => {
    setForm({ action: '', actor: '', target: '', from: '', to: '' });
    navigate('/audit-log', { replace: true });
  };
  const loadMore = () =>
    more.run(async () => {
      const page = await admin.get<AuditPage>(`/audit-log${qs({ ...applied, limit: 50, cursor })}`);
      setEntries((e) => [...e, ...page.entries]);
      setCursor(page.next_cursor);
    });

  const field = (f: Filter, label: string, placeholder: string, type: 'text' | 'datetime-local' = 'text') => (
    <div class="field" key={f}>
      <label for={`audit-${f}`}>{label}</label>
      {type === 'text' ? (
        <input
          id={`audit-${f}`}
          type="text"
          value={form[f]}
          placeholder={placeholder}
          spellcheck={false}
          onInput={(e) => setForm({ ...form, [f]: e.currentTarget.value })}
        />
      ) : (
        <input id={`audit-${f}`} type="datetime-local" value={form[f]} onInput={(e) => setForm({ ...form, [f]: e.currentTarget.value })} />
      )}
    </div>
  );

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Audit log">Every change made through the admin API or this panel. Secrets never appear here.</PageHeader>
      <form class="card" onSubmit={apply} aria-label="Filter the audit log">
        <div class="form-grid">
          {field('action', 'Action', 'e.g. credential.create')}
          {field('actor', 'Actor', 'platform or apikey:ID')}
          {field('target', 'Target', 'e.g. organization:acme')}
          {field('from', 'From', '', 'datetime-local')}
          {field('to', 'To (exclusive)', '', 'datetime-local')}
        </div>
        <div class="actions">
          <button type="submit" class="button button-primary">
            Apply filters
          </button>
          <button type="button" class="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <div class="card">
        <h2>Entries</h2>
        <ErrorNotice error={list.error} />
        {list.loading && entries.length === 0 ? <Loading what="the audit log" /> : null}
        {!list.loading && !list.error && entries.length === 0 ? <p class="muted">No entries match.</p> : null}
        {entries.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Request id</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} data-audit-action={e.action}>
                    <td>
                      <Time value={e.at} />
                    </td>
                    <td>
                      <code>{e.actor}</code>
                    </td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      <code>{e.target}</code>
                    </td>
                    <td>
                      <code class="small">{e.request_id}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <LoadMore cursor={cursor} busy={more.busy} error={more.error} onLoad={loadMore} />
      </div>
    </section>
  );
}
