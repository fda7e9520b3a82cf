// `portico services …`: the catalog services and their platform-wide / per-organization switch.
import { CONNECTION, JSON_OPTION, str, type Command, type Group } from '../lib/command.ts';
import { ADMIN, ApiError, PROXY, api, connection, listAll, seg } from '../lib/http.ts';
import { out, printJson, table } from '../lib/output.ts';
import { describeOrder, type CredentialPolicy } from '../lib/policy.ts';

const COMMON = { ...CONNECTION, ...JSON_OPTION };

interface AdminService {
  slug: string;
  name: string;
  enabled: boolean;
  base_url: string | null;
  timeout_ms: number;
  credential_name: string;
  credential_policy: CredentialPolicy;
  endpoint_count: number;
}

function toggle(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `services ${verb}`,
    summary: `${enabled ? 'Enable' : 'Disable'} a service platform-wide, or for one organization with --org.`,
    args: ['SERVICE'],
    options: { org: { type: 'string', value: 'ORG', help: 'only for this organization (an org admin key may do this)' }, ...COMMON },
    examples: [`portico services ${verb} heygen`, `portico services ${verb} heygen --org acme`],
    async run(p) {
      const conn = connection(p, 'admin', `services ${verb}`);
      const service = p.args.SERVICE!;
      const org = str(p, 'org');
      const path = org ? `${ADMIN}/organizations/${seg(org)}/services/${seg(service)}` : `${ADMIN}/services/${seg(service)}`;
      const result = await api(conn, 'PATCH', path, { body: { enabled } });
      if (p.values.json) return printJson(result);
      out(`${enabled ? 'Enabled' : 'Disabled'} ${service}${org ? ` for ${org}` : ' platform-wide'}.`);
    },
  };
}

export const servicesGroup: Group = {
  name: 'services',
  summary: 'List the catalog services and enable or disable them.',
  commands: [
    {
      name: 'services list',
      summary: 'List every service (platform token), or the ones your API key may use.',
      options: COMMON,
      examples: ['portico services list'],
      async run(p) {
        const conn = connection(p, 'admin', 'services list');
        let services: AdminService[];
        try {
          services = await listAll<AdminService>(conn, `${ADMIN}/services`, 'services');
        } catch (err) {
          // An organization key cannot read the platform list: show what discovery offers it.
          if (!(err instanceof ApiError) || err.code !== 'permission_denied') throw err;
          const r = await api<{ services: { slug: string; name: string; endpoint_count: number; credential_name: string }[] }>(
            conn,
            'GET',
            `${PROXY}/services`,
          );
          if (p.values.json) return printJson(r.services);
          return out(
            table(
              ['SLUG', 'NAME', 'ENDPOINTS', 'CREDENTIAL'],
              r.services.map((s) => [s.slug, s.name, s.endpoint_count, s.credential_name]),
            ),
          );
        }
        if (p.values.json) return printJson(services);
        if (services.length === 0) return out('No services.');
        out(
          table(
            ['SLUG', 'NAME', 'ENABLED', 'ENDPOINTS', 'CREDENTIAL ORDER', 'BASE URL'],
            services.map((s) => [s.slug, s.name, s.enabled, s.endpoint_count, describeOrder(s.credential_policy), s.base_url]),
          ),
        );
      },
    },
    toggle(true),
    toggle(false),
  ],
};
