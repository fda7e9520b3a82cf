// Organizations (platform admin): create, change plan, disable or enable.
import { useState } from 'preact/hooks';
import { admin, enc, listAll, qs } from '../api.ts';
import { ErrorNotice, Link, LoadMore, Loading, Notice, PageHeader, StatusBadge, Time, useAction, useConfirm, useLoad } from '../components.tsx';
import type { Organization, Plan, Session } from '../types.ts';

interface OrgPage {
  organizations: Organization[];
  next_cursor: string | null;
}

export function OrganizationsPage({ session: _session }: { session: Session }) {
  const [orgs, setOrgs] = useState<Organization[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useLoad(async () => {
    const page = await admin.get<OrgPage>(`/organizations${qs({ limit: 50 })}`);
    setOrgs(page.organizations);
    setCursor(page.next_cursor);
    return true;
  }, []);
  const plans = useLoad(() => listAll<Plan>('/plans', 'plans'), []);
  const more = useAction();
  const row = useAction();
  const { confirm, dialog } = useConfirm();
  const [created, setCreated] = useState<string | null>(null);

  const loadMore = () =>
    more.run(async () => {
      const page = await admin.get<OrgPage>(`/organizations${qs({ limit: 50, cursor })}`);
      setOrgs((o) => [...o, ...page.organizations]);
      setCursor(page.next_cursor);
    });

  const update = (slug: string, patch: Partial<Pick<Organization, 'plan' | 'disabled'>>) =>
    row.run(async () => {
      const o = await admin.patch<Organization>(`/organizations/${enc(slug)}`, patch);
      setOrgs((all) => all.map((x) => (x.slug === slug ? o : x)));
    });

  const toggle = async (o: Organization) => {
    if (!o.disabled) {
      const ok = await confirm(
        `Disable ${o.slug}?`,
        <p>Every API key of this organization will be refused (403) until it is enabled again. Nothing is deleted.</p>,
        'Disable organization',
      );
      if (!ok) return;
    }
    await update(o.slug, { disabled: !o.disabled });
  };

  const planNames = (plans.data ?? []).map((p) => p.name);

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Organizations">Each organization (tenant) has a plan, its own API keys and its own credentials.</PageHeader>
      <CreateOrganization
        plans={planNames}
        onCreated={(o) => {
          setOrgs((all) => [o, ...all]);
          setCreated(o.slug);
        }}
      />
      {created ? (
        <Notice kind="success">
          Organization <strong>{created}</strong> created. Next: <Link href={`/api-keys?org=${enc(created)}`}>create an API key for it</Link>.
        </Notice>
      ) : null}
      <div class="card">
        <h2>All organizations</h2>
        <ErrorNotice error={list.error ?? plans.error} />
        <ErrorNotice error={row.error} onDismiss={() => row.setError(null)} />
        {list.loading && orgs.length === 0 ? <Loading what="organizations" /> : null}
        {!list.loading && orgs.length === 0 && !list.error ? <p class="muted">No organizations yet.</p> : null}
        {orgs.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Slug</th>
                  <th scope="col">Name</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {orgs.map((o) => (
                  <tr key={o.slug} data-org={o.slug}>
                    <td>
                      <code>{o.slug}</code>
                    </td>
                    <td>{o.name}</td>
                    <td>
                      <label class="sr-only" for={`plan-${o.slug}`}>
                        Plan of {o.slug}
                      </label>
                      <select
                        id={`plan-${o.slug}`}
                        value={o.plan ?? ''}
                        disabled={row.busy}
                        onChange={(e) => update(o.slug, { plan: e.currentTarget.value || null })}
                      >
                        <option value="">All services (no plan)</option>
                        {[...new Set([...planNames, ...(o.plan ? [o.plan] : [])])].map((p) => (
                          <option key={p} value={p}>
                            {p}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <StatusBadge ok={!o.disabled} yes="Active" no="Disabled" />
                    </td>
                    <td>
                      <Time value={o.created_at} />
                    </td>
                    <td class="row-actions">
                      <Link href={`/api-keys?org=${enc(o.slug)}`} class="button button-small">
                        API keys
                      </Link>
                      <Link href={`/credentials?org=${enc(o.slug)}`} class="button button-small">
                        Credentials
                      </Link>
                      <button
                        type="button"
                        class={`button button-small ${o.disabled ? '' : 'button-danger-outline'}`}
                        disabled={row.busy}
                        onClick={() => toggle(o)}
                      >
                        {o.disabled ? 'Enable' : 'Disable'}
                        <span class="sr-only"> {o.slug}</span>
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
    </section>
  );
}

function CreateOrganization({ plans, onCreated }: { plans: string[]; onCreated: (o: Organization) => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [plan, setPlan] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    const o = await run(() => admin.post<Organization>('/organizations', { slug, name, plan: plan || null }));
    if (o) {
      setSlug('');
      setName('');
      setPlan('');
      onCreated(o);
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-org-title">
      <h2 id="create-org-title">Create an organization</h2>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      <div class="form-grid">
        <div class="field">
          <label for="org-slug">Slug</label>
          <input
            id="org-slug"
            required
            pattern="[a-z0-9][a-z0-9\-]{0,62}"
            aria-describedby="org-slug-hint"
            value={slug}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => setSlug(e.currentTarget.value)}
          />
          <small id="org-slug-hint" class="hint">
            Lower-case letters, digits and dashes, e.g. <code>acme</code>. Cannot be changed later.
          </small>
        </div>
        <div class="field">
          <label for="org-name">Name</label>
          <input id="org-name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="org-plan">Plan</label>
          <select id="org-plan" value={plan} onChange={(e) => setPlan(e.currentTarget.value)}>
            <option value="">All services (no plan)</option>
            {plans.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create organization'}
        </button>
      </div>
    </form>
  );
}
