// `portico policy …`: which credential a call uses (SPEC §6): the service's policy, or an
// organization's override of it.
import { CONNECTION, JSON_OPTION, flag, oneOf, str, type Group, type Parsed } from '../lib/command.ts';
import { UsageError } from '../lib/errors.ts';
import { ADMIN, ApiError, PROXY, api, connection, seg, type Connection } from '../lib/http.ts';
import { fields, out, printJson } from '../lib/output.ts';
import { describeOrder, sourceOrder, type CredentialPolicy } from '../lib/policy.ts';

const COMMON = { ...CONNECTION, ...JSON_OPTION };
const ORG = { org: { type: 'string' as const, value: 'ORG', help: "the organization's effective policy / override" } };

/** The service's policy, or the effective one for an organization (its override, else the service's). */
async function currentPolicy(conn: Connection, service: string, org: string | undefined): Promise<CredentialPolicy> {
  if (org) {
    const detail = await api<{ credential_policy: CredentialPolicy }>(conn, 'GET', `${PROXY}/services/${seg(service)}`, { actAs: org });
    return detail.credential_policy;
  }
  try {
    const svc = await api<{ credential_policy: CredentialPolicy }>(conn, 'GET', `${ADMIN}/services/${seg(service)}`);
    return svc.credential_policy;
  } catch (err) {
    // An organization key: the policy in effect for its own organization.
    if (!(err instanceof ApiError) || err.code !== 'permission_denied') throw err;
    const detail = await api<{ credential_policy: CredentialPolicy }>(conn, 'GET', `${PROXY}/services/${seg(service)}`);
    return detail.credential_policy;
  }
}

function show(p: Parsed, service: string, org: string | undefined, policy: CredentialPolicy): void {
  const order = sourceOrder(policy);
  if (p.values.json) {
    printJson({ service, organization: org ?? null, credential_policy: policy, order, description: describeOrder(policy) });
    return;
  }
  const pairs: [string, string][] = [['Service', service]];
  if (org) pairs.push(['Organization', org]);
  pairs.push(
    ['Tenant key', policy.allow_tenant_key ? 'allowed' : 'not allowed'],
    ['Platform key', policy.allow_platform_key ? 'allowed' : 'not allowed'],
    ['Default source', policy.default_source],
    ['Fallback', policy.fallback_to_platform_key ? 'to the platform key' : 'no'],
    ['Order', describeOrder(policy)],
  );
  out(fields(pairs));
}

export const policyGroup: Group = {
  name: 'policy',
  summary: 'Show or change which credential (tenant or platform key) a service call uses.',
  commands: [
    {
      name: 'policy get',
      summary: 'Show the credential policy of a service (the effective one for --org) and the order it tries.',
      args: ['SERVICE'],
      options: { ...ORG, ...COMMON },
      examples: ['portico policy get elevenlabs', 'portico policy get elevenlabs --org acme'],
      async run(p) {
        const conn = connection(p, 'admin', 'policy get');
        const service = p.args.SERVICE!;
        const org = str(p, 'org');
        show(p, service, org, await currentPolicy(conn, service, org));
      },
    },
    {
      name: 'policy set',
      summary: "Change a service's policy, or set an organization's override with --org; unnamed fields keep their value.",
      args: ['SERVICE'],
      options: {
        ...ORG,
        tenant: { type: 'boolean', negatable: true, help: "allow (or not) the organization's own key" },
        platform: { type: 'boolean', negatable: true, help: "allow (or not) the platform's key" },
        default: { type: 'string', value: 'tenant|platform', help: 'the source tried first' },
        fallback: { type: 'boolean', negatable: true, help: 'fall back to the platform key when the tenant has none' },
        ...COMMON,
      },
      examples: [
        'portico policy set elevenlabs --tenant --platform --default tenant --fallback',
        'portico policy set heygen --org acme --tenant --no-platform --default tenant --no-fallback',
      ],
      async run(p) {
        const def = oneOf(p, 'default', ['tenant', 'platform'] as const, 'policy set');
        const change: Partial<CredentialPolicy> = {};
        const t = flag(p, 'tenant');
        const pl = flag(p, 'platform');
        const fb = flag(p, 'fallback');
        if (t !== undefined) change.allow_tenant_key = t;
        if (pl !== undefined) change.allow_platform_key = pl;
        if (def !== undefined) change.default_source = def;
        if (fb !== undefined) change.fallback_to_platform_key = fb;
        if (Object.keys(change).length === 0) {
          throw new UsageError('nothing to change: give --[no-]tenant, --[no-]platform, --default or --[no-]fallback', 'policy set');
        }
        const conn = connection(p, 'admin', 'policy set');
        const service = p.args.SERVICE!;
        const org = str(p, 'org');
        const full = Object.keys(change).length === 4;
        const base = full ? (change as CredentialPolicy) : await currentPolicy(conn, service, org);
        const policy: CredentialPolicy = {
          allow_tenant_key: base.allow_tenant_key,
          allow_platform_key: base.allow_platform_key,
          default_source: base.default_source,
          fallback_to_platform_key: base.fallback_to_platform_key,
          ...change,
        };
        const path = org
          ? `${ADMIN}/organizations/${seg(org)}/services/${seg(service)}/credential-policy`
          : `${ADMIN}/services/${seg(service)}/credential-policy`;
        const stored = await api<CredentialPolicy>(conn, 'PUT', path, { body: policy });
        show(p, service, org, stored && typeof stored === 'object' && 'allow_tenant_key' in stored ? stored : policy);
      },
    },
    {
      name: 'policy reset',
      summary: "Remove an organization's override: the service's policy applies to it again.",
      args: ['SERVICE'],
      options: { ...ORG, ...COMMON },
      examples: ['portico policy reset heygen --org acme'],
      async run(p) {
        const org = str(p, 'org');
        if (!org) throw new UsageError('missing --org ORG (a service policy cannot be removed, only changed)', 'policy reset');
        const conn = connection(p, 'admin', 'policy reset');
        await api(conn, 'DELETE', `${ADMIN}/organizations/${seg(org)}/services/${seg(p.args.SERVICE!)}/credential-policy`);
        if (p.values.json) return printJson({ service: p.args.SERVICE, organization: org, override: null });
        out(`Removed the ${p.args.SERVICE} policy override of ${org}.`);
      },
    },
  ],
};
