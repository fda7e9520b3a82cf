// Credential policy editor (platform admin): a service's policy, or one organization's override,
// with a live plain-language preview of the resolution order it produces (SPEC §6).
import { useEffect, useState } from 'preact/hooks';
import { admin, enc, listAll, qs, request } from '../api.ts';
import { ErrorNotice, Loading, Notice, OrgPicker, PageHeader, useAction, useConfirm, useLoad, useOrganizations } from '../components.tsx';
import { describePolicy, policyNotes } from '../policy.ts';
import { setQuery } from '../router.ts';
import type { AdminService, CredentialPolicy, OrgService, Session } from '../types.ts';

export function PoliciesPage({ session, query }: { session: Session; query: URLSearchParams }) {
  const services = useLoad(async () => {
    const all = await listAll<AdminService>('/services', 'services');
    return all.sort((a, b) => a.slug.localeCompare(b.slug));
  }, []);
  const orgs = useOrganizations(session);
  const service = query.get('service') ?? '';
  const org = query.get('org') ?? '';

  useEffect(() => {
    if (!service && services.data && services.data.length > 0) setQuery({ service: services.data[0]!.slug });
  }, [services.data, service]);

  const svc = services.data?.find((s) => s.slug === service);

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Credential policies">
        Which provider key a call uses: the organization's own key (tenant key), the platform's key, or one and then the other.
      </PageHeader>
      <div class="card toolbar">
        <div class="field">
          <label for="policy-service">Service</label>
          <select id="policy-service" value={service} onChange={(e) => setQuery({ service: e.currentTarget.value })}>
            {(services.data ?? []).map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.name} ({s.slug})
              </option>
            ))}
          </select>
        </div>
        <OrgPicker
          session={session}
          orgs={orgs.data ?? []}
          value={org}
          id="policy-org"
          label="Applies to"
          allowNone="Every organization (service policy)"
          onChange={(v) => setQuery({ org: v })}
        />
      </div>
      <ErrorNotice error={services.error ?? orgs.error} />
      {services.loading ? <Loading what="services" /> : null}
      {svc ? <PolicyEditor key={`${svc.slug}/${org}`} service={svc} org={org} onServiceChanged={services.reload} /> : null}
    </section>
  );
}

function PolicyEditor({ service, org, onServiceChanged }: { service: AdminService; org: string; onServiceChanged: () => void }) {
  const current = useLoad(async (): Promise<{ saved: CredentialPolicy; override: boolean }> => {
    if (!org) return { saved: service.credential_policy, override: false };
    const r = await request<{ services: OrgService[] }>('GET', `/admin/session/services${qs({ organization: org })}`);
    const s = r.services.find((x) => x.slug === service.slug);
    return { saved: s?.policy_override ?? service.credential_policy, override: !!s?.policy_override };
  }, [service.slug, org]);

  const [draft, setDraft] = useState<CredentialPolicy | null>(null);
  const [saved, setSaved] = useState<{ saved: CredentialPolicy; override: boolean } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const save = useAction();
  const { confirm, dialog } = useConfirm();

  useEffect(() => {
    if (current.data) {
      setSaved(current.data);
      setDraft(current.data.saved);
    }
  }, [current.data]);

  if (current.error) return <ErrorNotice error={current.error} />;
  if (!draft || !saved) return <Loading what="the policy" />;

  const set = (patch: Partial<CredentialPolicy>) => {
    setMessage(null);
    setDraft({ ...draft, ...patch });
  };
  const dirty = JSON.stringify(draft) !== JSON.stringify(saved.saved) || (org !== '' && !saved.override);
  const path = org ? `/organizations/${enc(org)}/services/${enc(service.slug)}/credential-policy` : `/services/${enc(service.slug)}/credential-policy`;
  const none = !draft.allow_tenant_key && !draft.allow_platform_key;

  const onSave = async (e: Event) => {
    e.preventDefault();
    if (none) {
      const ok = await confirm(
        'Save a policy that allows no key?',
        <p>
          Every call to {service.name} {org ? `from ${org} ` : ''}will fail with 400 invalid_credential_policy.
        </p>,
        'Save anyway',
      );
      if (!ok) return;
    }
    const p = await save.run(() => admin.put<CredentialPolicy>(path, draft));
    if (p) {
      setSaved({ saved: p, override: org !== '' });
      setDraft(p);
      setMessage('Policy saved.');
      if (!org) onServiceChanged();
    }
  };

  const onRemoveOverride = async () => {
    const ok = await confirm(
      `Remove the override for ${org}?`,
      <p>
        {org} then follows the service policy: {describePolicy(service.credential_policy)}.
      </p>,
      'Remove override',
    );
    if (!ok) return;
    const done = await save.run(async () => {
      await admin.delete(path);
      return true;
    });
    if (done) {
      setSaved({ saved: service.credential_policy, override: false });
      setDraft(service.credential_policy);
      setMessage('Override removed.');
    }
  };

  const id = 'policy';
  return (
    <>
      <form class="card" onSubmit={onSave} aria-labelledby="policy-title">
        <h2 id="policy-title">
          {service.name}: {org ? `override for ${org}` : 'service policy'}
        </h2>
        {org && !saved.override ? <Notice>{org} has no override and follows the service policy. Saving creates an override.</Notice> : null}
        <p class="muted">
          Saved order: <strong data-testid="saved-order">{describePolicy(saved.saved)}</strong>
        </p>
        <ErrorNotice error={save.error} onDismiss={() => save.setError(null)} />
        <div class="policy-grid">
          <fieldset>
            <legend>Allowed keys</legend>
            <div class="switch-row">
              <input
                id={`${id}-tenant`}
                type="checkbox"
                checked={draft.allow_tenant_key}
                onChange={(e) => set({ allow_tenant_key: e.currentTarget.checked })}
              />
              <label for={`${id}-tenant`}>Allow the organization's own key (tenant key)</label>
            </div>
            <div class="switch-row">
              <input
                id={`${id}-platform`}
                type="checkbox"
                checked={draft.allow_platform_key}
                onChange={(e) => set({ allow_platform_key: e.currentTarget.checked })}
              />
              <label for={`${id}-platform`}>Allow the platform key</label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Try first</legend>
            <div class="switch-row">
              <input
                id={`${id}-default-tenant`}
                type="radio"
                name="default_source"
                checked={draft.default_source === 'tenant'}
                onChange={() => set({ default_source: 'tenant' })}
              />
              <label for={`${id}-default-tenant`}>Tenant key</label>
            </div>
            <div class="switch-row">
              <input
                id={`${id}-default-platform`}
                type="radio"
                name="default_source"
                checked={draft.default_source === 'platform'}
                onChange={() => set({ default_source: 'platform' })}
              />
              <label for={`${id}-default-platform`}>Platform key</label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Fallback</legend>
            <div class="switch-row">
              <input
                id={`${id}-fallback`}
                type="checkbox"
                checked={draft.fallback_to_platform_key}
                onChange={(e) => set({ fallback_to_platform_key: e.currentTarget.checked })}
              />
              <label for={`${id}-fallback`}>Fall back to the platform key when the organization has no usable key of its own</label>
            </div>
          </fieldset>
        </div>
        <div class={`preview ${none ? 'preview-bad' : ''}`}>
          <span class="label" id="policy-preview-label">
            Resolution order
          </span>
          <output id="policy-preview" aria-labelledby="policy-preview-label" aria-live="polite" data-testid="policy-preview">
            {describePolicy(draft)}
          </output>
          {policyNotes(draft).map((n) => (
            <p class="hint" key={n}>
              {n}
            </p>
          ))}
        </div>
        <div class="actions">
          <button type="submit" class="button button-primary" disabled={save.busy || !dirty}>
            {save.busy ? 'Saving…' : 'Save policy'}
          </button>
          <button type="button" class="button" disabled={!dirty} onClick={() => setDraft(saved.saved)}>
            Reset
          </button>
          {org && saved.override ? (
            <button type="button" class="button button-danger-outline" disabled={save.busy} onClick={onRemoveOverride}>
              Remove override
            </button>
          ) : null}
          <span role="status" class="muted">
            {message ?? ''}
          </span>
        </div>
      </form>
      {dialog}
    </>
  );
}
