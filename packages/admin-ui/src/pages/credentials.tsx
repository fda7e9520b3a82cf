// Provider credentials: add one through a form generated from the service's credential schema,
// see it masked with its status and last use, test it against the provider, disable, replace the
// secret, or delete it. A secret is sent once and never shown again.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { admin, enc, listAll, qs, request } from '../api.ts';
import {
  LoadMore,
  ErrorNotice,
  Loading,
  Notice,
  OrgPicker,
  PageHeader,
  StatusBadge,
  Time,
  localToIso,
  useAction,
  useConfirm,
  useLoad,
  useOrganizations,
} from '../components.tsx';
import { setQuery } from '../router.ts';
import { payloadFrom, schemaFields, type FormValues } from '../schema-fields.ts';
import { SchemaFields } from '../schema-form.tsx';
import type { AdminService, Credential, CredentialTestResult, JsonSchema, OrgService, Session } from '../types.ts';

interface ServiceInfo {
  slug: string;
  name: string;
  credential_name: string;
  credential_schema: JsonSchema;
}

interface CredPage {
  credentials: Credential[];
  next_cursor: string | null;
}

/** Services with their credential schema: all of them for the platform, the organization's own for its admin. */
function useServiceInfo(session: Session) {
  return useLoad<ServiceInfo[]>(async () => {
    const list =
      session.role === 'platform'
        ? await listAll<AdminService>('/services', 'services')
        : (await request<{ services: OrgService[] }>('GET', `/admin/session/services${qs({ organization: session.organization })}`)).services;
    return list
      .map((s) => ({ slug: s.slug, name: s.name, credential_name: s.credential_name, credential_schema: s.credential_schema }))
      .sort((a, b) => a.slug.localeCompare(b.slug));
  }, [session.actor]);
}

export function CredentialsPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const platform = session.role === 'platform';
  const services = useServiceInfo(session);
  const orgs = useOrganizations(session);
  const filter = {
    service: query.get('service') ?? '',
    scope: platform ? (query.get('scope') ?? '') : '',
    org: platform ? (query.get('org') ?? '') : '',
  };
  const [creds, setCreds] = useState<Credential[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const listPath = (cursor: string | null) =>
    `/credentials${qs({ service: filter.service, scope: filter.org ? 'tenant' : filter.scope, organization: filter.org, limit: 50, cursor })}`;
  const list = useLoad(async () => {
    const page = await admin.get<CredPage>(listPath(null));
    setCreds(page.credentials);
    setCursor(page.next_cursor);
    return true;
  }, [filter.service, filter.scope, filter.org]);
  const more = useAction();

  const loadMore = () =>
    more.run(async () => {
      const page = await admin.get<CredPage>(listPath(cursor));
      setCreds((c) => [...c, ...page.credentials]);
      setCursor(page.next_cursor);
    });

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Credentials">
        Provider keys, encrypted at rest.{' '}
        {platform ? 'Platform keys serve every organization the policy allows; tenant keys belong to one organization.' : `Keys of ${session.organization}.`}
      </PageHeader>
      <ErrorNotice error={services.error ?? orgs.error} />
      {services.data ? (
        <AddCredential
          session={session}
          services={services.data}
          orgs={orgs.data ?? []}
          initialService={filter.service}
          initialOrg={filter.org}
          onAdded={(c) => setCreds((all) => [c, ...all])}
        />
      ) : (
        <Loading what="services" />
      )}
      <div class="card">
        <h2>Stored credentials</h2>
        <div class="toolbar">
          <div class="field">
            <label for="filter-service">Service</label>
            <select id="filter-service" value={filter.service} onChange={(e) => setQuery({ service: e.currentTarget.value })}>
              <option value="">All services</option>
              {(services.data ?? []).map((s) => (
                <option key={s.slug} value={s.slug}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
          {platform ? (
            <>
              <div class="field">
                <label for="filter-scope">Scope</label>
                <select
                  id="filter-scope"
                  value={filter.org ? 'tenant' : filter.scope}
                  disabled={!!filter.org}
                  onChange={(e) => setQuery({ scope: e.currentTarget.value })}
                >
                  <option value="">Platform and tenant</option>
                  <option value="platform">Platform</option>
                  <option value="tenant">Tenant</option>
                </select>
              </div>
              <OrgPicker
                session={session}
                orgs={orgs.data ?? []}
                value={filter.org}
                id="filter-org"
                allowNone="All organizations"
                onChange={(v) => setQuery({ org: v })}
              />
            </>
          ) : null}
        </div>
        <ErrorNotice error={list.error} />
        {list.loading && creds.length === 0 ? <Loading what="credentials" /> : null}
        {!list.loading && !list.error && creds.length === 0 ? <p class="muted">No credentials match.</p> : null}
        {creds.length > 0 ? (
          <CredentialTable
            creds={creds}
            services={services.data ?? []}
            onChanged={(c) => setCreds((all) => all.map((x) => (x.id === c.id ? c : x)))}
            onDeleted={(id) => setCreds((all) => all.filter((x) => x.id !== id))}
          />
        ) : null}
        <LoadMore cursor={cursor} busy={more.busy} error={more.error} onLoad={loadMore} />
      </div>
    </section>
  );
}

function AddCredential({
  session,
  services,
  orgs,
  initialService,
  initialOrg,
  onAdded,
}: {
  session: Session;
  services: ServiceInfo[];
  orgs: string[];
  initialService: string;
  initialOrg: string;
  onAdded: (c: Credential) => void;
}) {
  const platform = session.role === 'platform';
  const [service, setService] = useState(initialService || services[0]?.slug || '');
  const [scope, setScope] = useState<'platform' | 'tenant'>(platform && !initialOrg ? 'platform' : 'tenant');
  const [org, setOrg] = useState(platform ? initialOrg : session.organization!);
  const [label, setLabel] = useState('');
  const [expires, setExpires] = useState('');
  const [values, setValues] = useState<FormValues>({});
  const [saved, setSaved] = useState<Credential | null>(null);
  const { busy, error, setError, run } = useAction();

  const svc = services.find((s) => s.slug === service);
  const fields = useMemo(() => schemaFields(svc?.credential_schema), [svc]);

  useEffect(() => {
    if (platform && !org && orgs.length > 0) setOrg(orgs[0]!);
  }, [orgs]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const body: Record<string, unknown> = { service, scope, secret: payloadFrom(fields, values) };
    if (scope === 'tenant') body.organization = platform ? org : session.organization;
    if (label.trim()) body.label = label.trim();
    if (expires) body.expires_at = localToIso(expires) ?? expires;
    const c = await run(() => admin.post<Credential>('/credentials', body));
    if (c) {
      setValues({}); // the secret leaves the page's memory
      setLabel('');
      setExpires('');
      setSaved(c);
      onAdded(c);
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="add-cred-title" autocomplete="off">
      <h2 id="add-cred-title">Add a credential</h2>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      {saved ? (
        <Notice kind="success">
          Saved {saved.label ? `“${saved.label}”` : 'the credential'} for {saved.service} ({saved.scope === 'platform' ? 'platform' : saved.organization}). It
          is stored encrypted and shown only as <code>{saved.masked}</code>.
        </Notice>
      ) : null}
      <div class="form-grid">
        <div class="field">
          <label for="cred-service">Service</label>
          <select
            id="cred-service"
            value={service}
            onChange={(e) => {
              setService(e.currentTarget.value);
              setValues({});
            }}
          >
            {services.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.name}
              </option>
            ))}
          </select>
          {svc ? (
            <small class="hint">
              Credential <code>{svc.credential_name}</code>
            </small>
          ) : null}
        </div>
        {platform ? (
          <fieldset class="field">
            <legend>Scope</legend>
            <div class="switch-row">
              <input id="cred-scope-platform" type="radio" name="scope" checked={scope === 'platform'} onChange={() => setScope('platform')} />
              <label for="cred-scope-platform">Platform (shared)</label>
            </div>
            <div class="switch-row">
              <input id="cred-scope-tenant" type="radio" name="scope" checked={scope === 'tenant'} onChange={() => setScope('tenant')} />
              <label for="cred-scope-tenant">One organization (tenant)</label>
            </div>
          </fieldset>
        ) : null}
        {scope === 'tenant' ? <OrgPicker session={session} orgs={orgs} value={org} id="cred-org" onChange={setOrg} /> : null}
        <div class="field">
          <label for="cred-label">Label (optional)</label>
          <input id="cred-label" maxLength={200} value={label} placeholder="e.g. production pool 1" onInput={(e) => setLabel(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="cred-expires">Expires (optional)</label>
          <input id="cred-expires" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </div>
      </div>
      <fieldset class="form-grid schema-fields">
        <legend>{svc ? `${svc.name} secret` : 'Secret'}</legend>
        <SchemaFields key={service} fields={fields} values={values} onChange={setValues} idPrefix="cred-secret" />
      </fieldset>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy || !service || (scope === 'tenant' && !org)}>
          {busy ? 'Saving…' : 'Save credential'}
        </button>
      </div>
    </form>
  );
}

function CredentialTable({
  creds,
  services,
  onChanged,
  onDeleted,
}: {
  creds: Credential[];
  services: ServiceInfo[];
  onChanged: (c: Credential) => void;
  onDeleted: (id: string) => void;
}) {
  const { confirm, dialog } = useConfirm();
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Credential</th>
            <th scope="col">Scope</th>
            <th scope="col">Value</th>
            <th scope="col">Status</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        {creds.map((c) => (
          <CredentialRow
            key={c.id}
            cred={c}
            service={services.find((s) => s.slug === c.service)}
            confirm={confirm}
            onChanged={onChanged}
            onDeleted={onDeleted}
          />
        ))}
      </table>
      {dialog}
    </div>
  );
}

function CredentialRow({
  cred: c,
  service,
  confirm,
  onChanged,
  onDeleted,
}: {
  cred: Credential;
  service: ServiceInfo | undefined;
  confirm: (title: string, message: ComponentChildren, label: string) => Promise<boolean>;
  onChanged: (c: Credential) => void;
  onDeleted: (id: string) => void;
}) {
  const act = useAction();
  const [test, setTest] = useState<CredentialTestResult | null>(null);
  const [replacing, setReplacing] = useState(false);
  const name = c.label ?? c.masked;

  const onTest = () =>
    act.run(async () => {
      setTest(null);
      setTest(await admin.post<CredentialTestResult>(`/credentials/${enc(c.id)}/test`));
    });
  const onToggle = () =>
    act.run(async () => {
      onChanged(await admin.patch<Credential>(`/credentials/${enc(c.id)}`, { status: c.status === 'active' ? 'disabled' : 'active' }));
    });
  const onDelete = async () => {
    const ok = await confirm(
      `Delete the credential “${name}”?`,
      <p>
        The {c.service} key <code>{c.masked}</code> ({c.scope === 'platform' ? 'platform' : c.organization}) is deleted for good. Calls that relied on it will
        use another key or fail.
      </p>,
      'Delete credential',
    );
    if (!ok) return;
    await act.run(async () => {
      await admin.delete(`/credentials/${enc(c.id)}`);
      onDeleted(c.id);
    });
  };

  return (
    <tbody data-credential={c.id}>
      <tr>
        <td>
          <strong>{c.label ?? <span class="muted">no label</span>}</strong>
          <div class="muted small">{service?.name ?? c.service}</div>
        </td>
        <td>{c.scope === 'platform' ? <span class="badge">platform</span> : <span class="badge badge-accent">{c.organization}</span>}</td>
        <td>
          <code data-testid="masked">{c.masked}</code>
        </td>
        <td>
          <StatusBadge ok={c.status === 'active'} yes="active" no="disabled" />
        </td>
        <td>
          <Time value={c.expires_at} empty="never" />
        </td>
        <td>
          <Time value={c.last_used_at} empty="never" />
        </td>
        <td class="row-actions">
          <button type="button" class="button button-small" disabled={act.busy} onClick={onTest}>
            Test<span class="sr-only"> credential {name}</span>
          </button>
          <button type="button" class="button button-small" disabled={act.busy} aria-expanded={replacing} onClick={() => setReplacing(!replacing)}>
            Replace secret<span class="sr-only"> of {name}</span>
          </button>
          <button type="button" class="button button-small" disabled={act.busy} onClick={onToggle}>
            {c.status === 'active' ? 'Disable' : 'Enable'}
            <span class="sr-only"> credential {name}</span>
          </button>
          <button type="button" class="button button-small button-danger-outline" disabled={act.busy} onClick={onDelete}>
            Delete<span class="sr-only"> credential {name}</span>
          </button>
        </td>
      </tr>
      {test || act.error || act.busy ? (
        <tr class="detail-row">
          <td colSpan={7}>
            {act.busy ? <span role="status">Working…</span> : null}
            {test ? <TestResult result={test} /> : null}
            <ErrorNotice error={act.error} onDismiss={() => act.setError(null)} />
          </td>
        </tr>
      ) : null}
      {replacing ? (
        <tr class="detail-row">
          <td colSpan={7}>
            <ReplaceSecret
              cred={c}
              schema={service?.credential_schema}
              onDone={(n) => {
                setReplacing(false);
                if (n) onChanged(n);
              }}
            />
          </td>
        </tr>
      ) : null}
    </tbody>
  );
}

function TestResult({ result }: { result: CredentialTestResult }) {
  return (
    <p class={`test-result ${result.ok ? 'test-ok' : 'test-failed'}`} role="status" data-testid="test-result">
      <strong>{result.ok ? 'OK' : 'Failed'}</strong> · status {result.status} · {result.latency_ms} ms
      {!result.ok ? <span class="muted"> (the provider refused this key or did not answer)</span> : null}
    </p>
  );
}

function ReplaceSecret({ cred, schema, onDone }: { cred: Credential; schema: JsonSchema | undefined; onDone: (c: Credential | null) => void }) {
  const fields = useMemo(() => schemaFields(schema), [schema]);
  const [values, setValues] = useState<FormValues>({});
  const { busy, error, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const c = await run(() => admin.patch<Credential>(`/credentials/${enc(cred.id)}`, { secret: payloadFrom(fields, values) }));
    setValues({});
    if (c) onDone(c);
  };
  return (
    <form class="inline-form" onSubmit={submit} autocomplete="off" aria-label={`Replace the secret of ${cred.label ?? cred.masked}`}>
      <ErrorNotice error={error} />
      <div class="form-grid">
        <SchemaFields fields={fields} values={values} onChange={setValues} idPrefix={`replace-${cred.id}`} />
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          Save new secret
        </button>
        <button type="button" class="button" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
