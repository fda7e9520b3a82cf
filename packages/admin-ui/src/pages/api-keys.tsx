// API keys of one organization: create (the key is shown once, with a copy button), expiry, revoke.
import { useEffect, useState } from 'preact/hooks';
import { admin, enc, qs } from '../api.ts';
import {
  LoadMore,
  CopyButton,
  ErrorNotice,
  Loading,
  OrgPicker,
  PageHeader,
  Time,
  localToIso,
  useAction,
  useConfirm,
  useLoad,
  useOrganizations,
} from '../components.tsx';
import { setQuery } from '../router.ts';
import type { ApiKey, NewApiKey, Session } from '../types.ts';

interface KeyPage {
  api_keys: ApiKey[];
  next_cursor: string | null;
}

export function ApiKeysPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const orgs = useOrganizations(session);
  const org = session.role === 'platform' ? (query.get('org') ?? '') : session.organization!;

  // The platform admin lands on the first organization when none is chosen.
  useEffect(() => {
    if (session.role === 'platform' && !org && orgs.data && orgs.data.length > 0) setQuery({ org: orgs.data[0]! });
  }, [orgs.data, org]);

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="API keys">Keys that client applications send. A key is shown once, when it is created; only a hash is stored.</PageHeader>
      <div class="card toolbar">
        <OrgPicker session={session} orgs={orgs.data ?? []} value={org} onChange={(v) => setQuery({ org: v })} />
      </div>
      <ErrorNotice error={orgs.error} />
      {session.role === 'platform' && orgs.data && orgs.data.length === 0 ? <p class="muted">Create an organization first.</p> : null}
      {org ? <OrgKeys key={org} org={org} session={session} /> : null}
    </section>
  );
}

function OrgKeys({ org, session }: { org: string; session: Session }) {
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [fresh, setFresh] = useState<NewApiKey | null>(null);
  const list = useLoad(async () => {
    const page = await admin.get<KeyPage>(`/organizations/${enc(org)}/api-keys${qs({ limit: 50 })}`);
    setKeys(page.api_keys);
    setCursor(page.next_cursor);
    return true;
  }, [org]);
  const more = useAction();
  const revoke = useAction();
  const { confirm, dialog } = useConfirm();

  const loadMore = () =>
    more.run(async () => {
      const page = await admin.get<KeyPage>(`/organizations/${enc(org)}/api-keys${qs({ limit: 50, cursor })}`);
      setKeys((k) => [...k, ...page.api_keys]);
      setCursor(page.next_cursor);
    });

  const onRevoke = async (k: ApiKey) => {
    const self = session.actor === `apikey:${k.id}`;
    const ok = await confirm(
      `Revoke the key “${k.name}”?`,
      <p>
        Requests with <code>{k.prefix}…</code> are refused from the next request on. This cannot be undone.
        {self ? <strong> You signed in with this key: revoking it signs you out.</strong> : null}
      </p>,
      'Revoke key',
    );
    if (!ok) return;
    await revoke.run(async () => {
      await admin.delete(`/organizations/${enc(org)}/api-keys/${enc(k.id)}`);
      setKeys((all) => all.filter((x) => x.id !== k.id));
      if (fresh?.id === k.id) setFresh(null);
    });
  };

  return (
    <>
      <CreateKey
        org={org}
        onCreated={(k) => {
          setFresh(k);
          const { key: _secret, ...listed } = k;
          setKeys((all) => [{ ...listed, last_used_at: null }, ...all]);
        }}
      />
      {fresh ? <NewKeyPanel created={fresh} onDone={() => setFresh(null)} /> : null}
      <div class="card">
        <h2>Keys of {org}</h2>
        <ErrorNotice error={list.error} />
        <ErrorNotice error={revoke.error} onDismiss={() => revoke.setError(null)} />
        {list.loading && keys.length === 0 ? <Loading what="API keys" /> : null}
        {!list.loading && !list.error && keys.length === 0 ? <p class="muted">No API keys yet.</p> : null}
        {keys.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} data-key-id={k.id}>
                    <td>
                      {k.name}
                      {session.actor === `apikey:${k.id}` ? <span class="badge badge-accent">this session</span> : null}
                    </td>
                    <td>
                      <span class={`badge ${k.role === 'admin' ? 'badge-accent' : ''}`}>{k.role}</span>
                    </td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>
                      <Time value={k.expires_at} empty="never" />
                    </td>
                    <td>
                      <Time value={k.created_at} />
                    </td>
                    <td>
                      <Time value={k.last_used_at} empty="never" />
                    </td>
                    <td class="row-actions">
                      <button type="button" class="button button-small button-danger-outline" disabled={revoke.busy} onClick={() => onRevoke(k)}>
                        Revoke<span class="sr-only"> key {k.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <LoadMore cursor={cursor} busy={more.busy} error={more.error} onLoad={loadMore} />
      </div>
      {dialog}
    </>
  );
}

function CreateKey({ org, onCreated }: { org: string; onCreated: (k: NewApiKey) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<'member' | 'admin'>('member');
  const [expires, setExpires] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { name, role };
    if (expires) body.expires_at = localToIso(expires) ?? expires;
    const k = await run(() => admin.post<NewApiKey>(`/organizations/${enc(org)}/api-keys`, body));
    if (k) {
      setName('');
      setExpires('');
      setRole('member');
      onCreated(k);
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create an API key</h2>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      <div class="form-grid">
        <div class="field">
          <label for="key-name">Name</label>
          <input id="key-name" required maxLength={200} value={name} placeholder="e.g. production backend" onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="key-role">Role</label>
          <select id="key-role" value={role} aria-describedby="key-role-hint" onChange={(e) => setRole(e.currentTarget.value as 'member' | 'admin')}>
            <option value="member">member (calls services)</option>
            <option value="admin">admin (also manages the organization)</option>
          </select>
          <small id="key-role-hint" class="hint">
            Admin keys can sign in to this panel.
          </small>
        </div>
        <div class="field">
          <label for="key-expires">Expires (optional)</label>
          <input
            id="key-expires"
            type="datetime-local"
            value={expires}
            aria-describedby="key-expires-hint"
            onInput={(e) => setExpires(e.currentTarget.value)}
          />
          <small id="key-expires-hint" class="hint">
            Your local time. Empty: never expires.
          </small>
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}

/** The one time the key is visible. Closing it forgets the key. */
function NewKeyPanel({ created, onDone }: { created: NewApiKey; onDone: () => void }) {
  return (
    <div class="card card-highlight" role="region" aria-labelledby="new-key-title" data-testid="new-key">
      <h2 id="new-key-title">New key “{created.name}”</h2>
      <p>
        <strong>Copy this key now.</strong> It is shown only once and cannot be retrieved later.
      </p>
      <div class="secret-row">
        <label for="new-key-value" class="sr-only">
          The new API key
        </label>
        <input id="new-key-value" class="secret" readOnly value={created.key} onFocus={(e) => e.currentTarget.select()} />
        <CopyButton text={created.key} label="Copy key" />
      </div>
      <div class="actions">
        <button type="button" class="button" onClick={onDone}>
          I have stored the key
        </button>
      </div>
    </div>
  );
}
