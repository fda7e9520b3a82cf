// `portico orgs …`: organizations (tenants), platform admin only (SPEC §8).
import { CONNECTION, JSON_OPTION, str, type Group } from '../lib/command.ts';
import { ADMIN, api, connection, listAll, seg } from '../lib/http.ts';
import { confirm } from '../lib/input.ts';
import { fields, out, printJson, shortTime, table } from '../lib/output.ts';
import { CliError } from '../lib/errors.ts';

const COMMON = { ...CONNECTION, ...JSON_OPTION };

export interface Organization {
  slug: string;
  name: string;
  plan: string | null;
  disabled: boolean;
  created_at: string;
}

export function organizationFields(o: Organization): string {
  return fields([
    ['Slug', o.slug],
    ['Name', o.name],
    ['Plan', o.plan ?? 'all services'],
    ['Disabled', o.disabled],
    ['Created', shortTime(o.created_at)],
  ]);
}

export const orgsGroup: Group = {
  name: 'orgs',
  summary: 'Manage organizations (tenants). Needs the platform admin token.',
  commands: [
    {
      name: 'orgs list',
      summary: 'List organizations, newest first.',
      options: COMMON,
      examples: ['portico orgs list', 'portico orgs list --json'],
      async run(p) {
        const conn = connection(p, 'admin', 'orgs list');
        const orgs = await listAll<Organization>(conn, `${ADMIN}/organizations`, 'organizations');
        if (p.values.json) return printJson(orgs);
        if (orgs.length === 0) return out('No organizations yet. Create one with: portico orgs create SLUG --name NAME');
        out(
          table(
            ['SLUG', 'NAME', 'PLAN', 'DISABLED', 'CREATED'],
            orgs.map((o) => [o.slug, o.name, o.plan ?? '(all)', o.disabled, shortTime(o.created_at)]),
          ),
        );
      },
    },
    {
      name: 'orgs create',
      summary: 'Create an organization.',
      args: ['SLUG'],
      description: 'SLUG: lower-case letters, digits and `-`, at most 63 characters.',
      options: {
        name: { type: 'string', value: 'NAME', help: 'display name (default: the slug)' },
        plan: { type: 'string', value: 'PLAN', help: 'plan name (default: none, every service)' },
        ...COMMON,
      },
      examples: ['portico orgs create acme --name "Acme Inc." --plan pro'],
      async run(p) {
        const conn = connection(p, 'admin', 'orgs create');
        const slug = p.args.SLUG!;
        const body: Record<string, unknown> = { slug, name: str(p, 'name') ?? slug };
        const plan = str(p, 'plan');
        if (plan !== undefined) body.plan = plan;
        const org = await api<Organization>(conn, 'POST', `${ADMIN}/organizations`, { body });
        if (p.values.json) return printJson(org);
        out(`Created organization ${org.slug}.\n${organizationFields(org)}`);
      },
    },
    {
      name: 'orgs delete',
      summary: 'Delete an organization with its API keys and tenant credentials.',
      args: ['SLUG'],
      options: { yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation on a terminal' }, ...COMMON },
      examples: ['portico orgs delete acme --yes'],
      async run(p) {
        const conn = connection(p, 'admin', 'orgs delete');
        const slug = p.args.SLUG!;
        if (!p.values.yes && process.stdin.isTTY && process.stderr.isTTY) {
          if (!(await confirm(`Delete organization '${slug}' with all its API keys and credentials?`))) throw new CliError('not deleted');
        }
        await api(conn, 'DELETE', `${ADMIN}/organizations/${seg(slug)}`);
        if (p.values.json) return printJson({ deleted: true, slug });
        out(`Deleted organization ${slug}.`);
      },
    },
  ],
};
