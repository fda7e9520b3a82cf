// Plans (platform admin): which services an organization on the plan may use, and its limits.
import { useState } from 'preact/hooks';
import { admin, enc, listAll } from '../api.ts';
import { ErrorNotice, Loading, Notice, PageHeader, useAction, useLoad } from '../components.tsx';
import type { AdminService, Limits, Plan, Session } from '../types.ts';

const LIMITS: { key: keyof Limits; label: string }[] = [
  { key: 'requests_per_minute', label: 'Requests per minute' },
  { key: 'concurrent_requests', label: 'Concurrent requests' },
  { key: 'monthly_requests', label: 'Requests per month' },
  { key: 'monthly_units', label: 'Units per month' },
];

export function PlansPage({ session: _session }: { session: Session }) {
  const plans = useLoad(() => listAll<Plan>('/plans', 'plans'), []);
  const services = useLoad(async () => (await listAll<AdminService>('/services', 'services')).map((s) => s.slug).sort(), []);
  const [editing, setEditing] = useState<Plan | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Plans">A plan names the services its organizations may use and their traffic limits. Empty limits are unlimited.</PageHeader>
      <ErrorNotice error={plans.error ?? services.error} />
      <PlanForm
        key={editing?.name ?? 'new'}
        plan={editing}
        services={services.data ?? []}
        onSaved={(p) => {
          setMessage(`Plan ${p.name} saved.`);
          setEditing(null);
          plans.reload();
        }}
        onCancel={() => setEditing(null)}
      />
      {message ? <Notice kind="success">{message}</Notice> : null}
      <div class="card">
        <h2>All plans</h2>
        {plans.loading && !plans.data ? <Loading what="plans" /> : null}
        {plans.data && plans.data.length === 0 ? <p class="muted">No plans yet. Organizations without a plan may use every service.</p> : null}
        {plans.data && plans.data.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Services</th>
                  {LIMITS.map((l) => (
                    <th scope="col" key={l.key}>
                      {l.label}
                    </th>
                  ))}
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {plans.data.map((p) => (
                  <tr key={p.name} data-plan={p.name}>
                    <td>
                      <code>{p.name}</code>
                    </td>
                    <td>
                      {p.services === null ? (
                        <span class="muted">all services</span>
                      ) : p.services.length === 0 ? (
                        <span class="muted">none</span>
                      ) : (
                        p.services.join(', ')
                      )}
                    </td>
                    {LIMITS.map((l) => (
                      <td key={l.key}>{p.limits?.[l.key] ?? <span class="muted">unlimited</span>}</td>
                    ))}
                    <td class="row-actions">
                      <button
                        type="button"
                        class="button button-small"
                        onClick={() => {
                          setMessage(null);
                          setEditing(p);
                          document.getElementById('plan-form-title')?.scrollIntoView({ block: 'start' });
                        }}
                      >
                        Edit<span class="sr-only"> plan {p.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}

function PlanForm({ plan, services, onSaved, onCancel }: { plan: Plan | null; services: string[]; onSaved: (p: Plan) => void; onCancel: () => void }) {
  const [name, setName] = useState(plan?.name ?? '');
  const [all, setAll] = useState(plan ? plan.services === null : true);
  const [chosen, setChosen] = useState<Set<string>>(new Set(plan?.services ?? []));
  const [limits, setLimits] = useState<Record<string, string>>(() =>
    Object.fromEntries(LIMITS.map((l) => [l.key, plan?.limits?.[l.key] === null || plan?.limits?.[l.key] === undefined ? '' : String(plan.limits[l.key])])),
  );
  const { busy, error, setError, run } = useAction();

  const submit = async (e: Event) => {
    e.preventDefault();
    const body = {
      services: all ? null : [...chosen].sort(),
      limits: Object.fromEntries(LIMITS.map((l) => [l.key, limits[l.key] === '' ? null : Number(limits[l.key])])),
    };
    const p = await run(() => admin.put<Plan>(`/plans/${enc(name)}`, body));
    if (p) onSaved(p);
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="plan-form-title">
      <h2 id="plan-form-title">{plan ? `Edit plan ${plan.name}` : 'Create a plan'}</h2>
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
      <div class="form-grid">
        <div class="field">
          <label for="plan-name">Name</label>
          <input
            id="plan-name"
            required
            readOnly={!!plan}
            pattern="[a-z0-9][a-z0-9\-]{0,62}"
            value={name}
            spellcheck={false}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </div>
        <fieldset class="field field-wide">
          <legend>Services</legend>
          <div class="switch-row">
            <input id="plan-all" type="radio" name="plan-services" checked={all} onChange={() => setAll(true)} />
            <label for="plan-all">Every service</label>
          </div>
          <div class="switch-row">
            <input id="plan-some" type="radio" name="plan-services" checked={!all} onChange={() => setAll(false)} />
            <label for="plan-some">Only these:</label>
          </div>
          <div class="checkbox-list">
            {services.map((s) => (
              <div class="switch-row" key={s}>
                <input
                  id={`plan-svc-${s}`}
                  type="checkbox"
                  disabled={all}
                  checked={!all && chosen.has(s)}
                  onChange={(e) => {
                    const next = new Set(chosen);
                    if (e.currentTarget.checked) next.add(s);
                    else next.delete(s);
                    setChosen(next);
                  }}
                />
                <label for={`plan-svc-${s}`}>{s}</label>
              </div>
            ))}
          </div>
        </fieldset>
        {LIMITS.map((l) => (
          <div class="field" key={l.key}>
            <label for={`plan-${l.key}`}>{l.label}</label>
            <input
              id={`plan-${l.key}`}
              type="number"
              min={0}
              step={1}
              placeholder="unlimited"
              value={limits[l.key]}
              onInput={(e) => setLimits({ ...limits, [l.key]: e.currentTarget.value })}
            />
          </div>
        ))}
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : plan ? 'Save plan' : 'Create plan'}
        </button>
        {plan ? (
          <button type="button" class="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
