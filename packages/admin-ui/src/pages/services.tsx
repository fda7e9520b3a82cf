// Services: enable or disable platform-wide (platform admin), upstream base URL and timeout, and
// enable or disable for one organization (platform admin, or an organization admin for its own).
import { useState } from 'preact/hooks';
import { admin, enc, listAll, qs, request } from '../api.ts';
import { ErrorNotice, Link, Loading, OrgPicker, PageHeader, StatusBadge, useAction, useLoad, useOrganizations } from '../components.tsx';
import { describePolicy } from '../policy.ts';
import { setQuery } from '../router.ts';
import type { AdminService, OrgService, Session } from '../types.ts';

export function ServicesPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const platform = session.role === 'platform';
  const orgs = useOrganizations(session);
  const org = platform ? (query.get('org') ?? '') : session.organization!;
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Services">
        {platform
          ? 'Every service of the catalog. Turn one off for everybody, point it at another upstream, or turn it off for one organization.'
          : 'The services your organization can use. Turning one off here makes it invisible to your keys (404).'}
      </PageHeader>
      {platform ? <PlatformServices /> : null}
      <div class="card">
        <h2>{platform ? 'For one organization' : `Services of ${org}`}</h2>
        <div class="toolbar">
          <OrgPicker
            session={session}
            orgs={orgs.data ?? []}
            value={org}
            allowNone="Choose an organization…"
            id="services-org"
            onChange={(v) => setQuery({ org: v })}
          />
        </div>
        <ErrorNotice error={orgs.error} />
        {org ? <OrgServices key={org} org={org} platform={platform} /> : null}
      </div>
    </section>
  );
}

function PlatformServices() {
  const [services, setServices] = useState<AdminService[]>([]);
  const list = useLoad(async () => {
    const all = await listAll<AdminService>('/services', 'services');
    all.sort((a, b) => a.slug.localeCompare(b.slug));
    setServices(all);
    return true;
  }, []);
  return (
    <div class="card">
      <h2>Platform-wide</h2>
      <ErrorNotice error={list.error} />
      {list.loading && services.length === 0 ? <Loading what="services" /> : null}
      <div class="service-list">
        {services.map((s) => (
          <PlatformServiceRow key={s.slug} service={s} onChange={(n) => setServices((all) => all.map((x) => (x.slug === n.slug ? n : x)))} />
        ))}
      </div>
    </div>
  );
}

function PlatformServiceRow({ service: s, onChange }: { service: AdminService; onChange: (s: AdminService) => void }) {
  const [baseUrl, setBaseUrl] = useState(s.base_url);
  const [timeout, setTimeoutMs] = useState(String(s.timeout_ms));
  const toggle = useAction();
  const save = useAction();
  const [saved, setSaved] = useState(false);

  const onToggle = (enabled: boolean) =>
    toggle.run(async () => {
      onChange(await admin.patch<AdminService>(`/services/${enc(s.slug)}`, { enabled }));
    });

  const onSave = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const body: Record<string, unknown> = {};
    if (baseUrl.trim() !== s.base_url) body.base_url = baseUrl.trim() === '' ? null : baseUrl.trim();
    if (timeout.trim() !== String(s.timeout_ms)) body.timeout_ms = timeout.trim() === '' ? null : Number(timeout);
    const n = await save.run(() => admin.patch<AdminService>(`/services/${enc(s.slug)}`, body));
    if (n) {
      onChange(n);
      setBaseUrl(n.base_url);
      setTimeoutMs(String(n.timeout_ms));
      setSaved(true);
    }
  };

  const id = `svc-${s.slug}`;
  return (
    <article class="service" data-service={s.slug} aria-labelledby={`${id}-name`}>
      <header class="service-head">
        <h3 id={`${id}-name`}>
          {s.name} <code class="muted">{s.slug}</code>
        </h3>
        <StatusBadge ok={s.enabled} yes="Enabled" no="Disabled" />
      </header>
      <ErrorNotice error={toggle.error ?? save.error} />
      <div class="switch-row">
        <input
          id={`${id}-enabled`}
          type="checkbox"
          role="switch"
          checked={s.enabled}
          disabled={toggle.busy}
          onChange={(e) => onToggle(e.currentTarget.checked)}
        />
        <label for={`${id}-enabled`}>Enabled platform-wide</label>
      </div>
      <form class="form-grid" onSubmit={onSave}>
        <div class="field field-wide">
          <label for={`${id}-base`}>Upstream base URL</label>
          <input
            id={`${id}-base`}
            type="url"
            value={baseUrl}
            spellcheck={false}
            aria-describedby={`${id}-base-hint`}
            onInput={(e) => setBaseUrl(e.currentTarget.value)}
          />
          <small id={`${id}-base-hint`} class="hint">
            Empty: the catalog's URL. <code>PORTICO_BASE_URL_{s.slug.toUpperCase().replace(/-/g, '_')}</code> wins over this setting.
          </small>
        </div>
        <div class="field">
          <label for={`${id}-timeout`}>Timeout (ms)</label>
          <input id={`${id}-timeout`} type="number" min={100} max={600000} step={1} value={timeout} onInput={(e) => setTimeoutMs(e.currentTarget.value)} />
        </div>
        <div class="actions field-wide">
          <button type="submit" class="button" disabled={save.busy}>
            Save<span class="sr-only"> {s.name} settings</span>
          </button>
          <span role="status" class="muted">
            {saved ? 'Saved.' : ''}
          </span>
        </div>
      </form>
      <p class="policy-line">
        Credential order: <strong>{describePolicy(s.credential_policy)}</strong> · <Link href={`/policies?service=${enc(s.slug)}`}>Edit policy</Link>
      </p>
    </article>
  );
}

function OrgServices({ org, platform }: { org: string; platform: boolean }) {
  const [services, setServices] = useState<OrgService[]>([]);
  const list = useLoad(async () => {
    const r = await request<{ services: OrgService[] }>('GET', `/admin/session/services${qs({ organization: org })}`);
    setServices(r.services);
    return true;
  }, [org]);
  const toggle = useAction();

  const onToggle = (s: OrgService, enabled: boolean) =>
    toggle.run(async () => {
      await admin.patch(`/organizations/${enc(org)}/services/${enc(s.slug)}`, { enabled });
      setServices((all) => all.map((x) => (x.slug === s.slug ? { ...x, organization_enabled: enabled } : x)));
    });

  return (
    <>
      <ErrorNotice error={list.error} />
      <ErrorNotice error={toggle.error} onDismiss={() => toggle.setError(null)} />
      {list.loading && services.length === 0 ? <Loading what="services" /> : null}
      {!list.loading && !list.error && services.length === 0 ? <p class="muted">No service is available to this organization.</p> : null}
      {services.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Enabled for {org}</th>
                {platform ? <th scope="col">Platform / plan</th> : null}
                <th scope="col">Credential order</th>
              </tr>
            </thead>
            <tbody>
              {services.map((s) => (
                <tr key={s.slug} data-org-service={s.slug}>
                  <td>
                    {s.name} <code class="muted">{s.slug}</code>
                  </td>
                  <td>
                    <div class="switch-row">
                      <input
                        id={`orgsvc-${s.slug}`}
                        type="checkbox"
                        role="switch"
                        checked={s.organization_enabled}
                        disabled={toggle.busy}
                        onChange={(e) => onToggle(s, e.currentTarget.checked)}
                      />
                      <label for={`orgsvc-${s.slug}`}>
                        <span class="sr-only">{s.name} </span>
                        {s.organization_enabled ? 'Enabled' : 'Disabled'}
                      </label>
                    </div>
                  </td>
                  {platform ? (
                    <td>
                      <StatusBadge ok={s.enabled} yes="on" no="off platform-wide" /> <StatusBadge ok={s.in_plan} yes="in plan" no="not in plan" />
                    </td>
                  ) : null}
                  <td>
                    {describePolicy(s.credential_policy)}
                    {s.policy_override ? <span class="badge badge-accent">override</span> : null}
                    {platform ? (
                      <>
                        {' '}
                        · <Link href={`/policies?service=${enc(s.slug)}&org=${enc(org)}`}>Edit</Link>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
