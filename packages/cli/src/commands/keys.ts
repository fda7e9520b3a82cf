// `portico keys …`: API keys of one organization (SPEC §8); org admins may manage their own.
import { CONNECTION, JSON_OPTION, oneOf, str, type Group } from '../lib/command.ts';
import { ADMIN, api, connection, listAll, seg } from '../lib/http.ts';
import { UsageError } from '../lib/errors.ts';
import { fields, out, printJson, shortTime, table } from '../lib/output.ts';

const COMMON = { ...CONNECTION, ...JSON_OPTION };

interface ApiKey {
  id: string;
  name: string;
  role: string;
  prefix: string;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  key?: string;
}

export const keysGroup: Group = {
  name: 'keys',
  summary: "Manage an organization's API keys (platform token or an admin key of that organization).",
  commands: [
    {
      name: 'keys list',
      summary: 'List the active API keys of an organization (never the secrets).',
      args: ['ORG'],
      options: COMMON,
      examples: ['portico keys list acme'],
      async run(p) {
        const conn = connection(p, 'admin', 'keys list');
        const keys = await listAll<ApiKey>(conn, `${ADMIN}/organizations/${seg(p.args.ORG!)}/api-keys`, 'api_keys');
        if (p.values.json) return printJson(keys);
        if (keys.length === 0) return out(`No API keys in ${p.args.ORG}. Create one with: portico keys create ${p.args.ORG} --name NAME`);
        out(
          table(
            ['ID', 'NAME', 'ROLE', 'PREFIX', 'EXPIRES', 'CREATED', 'LAST USED'],
            keys.map((k) => [
              k.id,
              k.name,
              k.role,
              k.prefix,
              shortTime(k.expires_at) ?? 'never',
              shortTime(k.created_at),
              shortTime(k.last_used_at) ?? 'never',
            ]),
          ),
        );
      },
    },
    {
      name: 'keys create',
      summary: 'Create an API key; the key is printed once and cannot be shown again.',
      args: ['ORG'],
      options: {
        name: { type: 'string', value: 'NAME', help: 'what the key is for (required)' },
        role: { type: 'string', value: 'admin|member', help: 'member (default): discovery and invoke; admin: also manages the organization' },
        'expires-at': { type: 'string', value: 'TIME', help: 'RFC 3339 expiry in the future, e.g. 2030-01-01T00:00:00Z' },
        ...COMMON,
      },
      examples: ['portico keys create acme --name backend', 'portico keys create acme --name ops --role admin --expires-at 2030-01-01T00:00:00Z'],
      async run(p) {
        const name = str(p, 'name');
        if (name === undefined) throw new UsageError('missing --name NAME', 'keys create');
        const role = oneOf(p, 'role', ['admin', 'member'] as const, 'keys create');
        const conn = connection(p, 'admin', 'keys create');
        const body: Record<string, unknown> = { name };
        if (role) body.role = role;
        const expires = str(p, 'expires-at');
        if (expires !== undefined) body.expires_at = expires;
        const key = await api<ApiKey>(conn, 'POST', `${ADMIN}/organizations/${seg(p.args.ORG!)}/api-keys`, { body });
        if (p.values.json) return printJson(key);
        out(
          `Created ${key.role} key '${key.name}' for ${p.args.ORG}.\n` +
            fields([
              ['ID', key.id],
              ['Role', key.role],
              ['Expires', shortTime(key.expires_at) ?? 'never'],
            ]) +
            `\n\nThe key is shown only this once; store it now:\n\n  ${key.key}\n`,
        );
      },
    },
    {
      name: 'keys revoke',
      summary: 'Revoke an API key (effective on the next request).',
      args: ['ORG', 'ID'],
      options: COMMON,
      examples: ['portico keys revoke acme 01JD3Y8ZQ6J8K9M2N4P5R6S7T8'],
      async run(p) {
        const conn = connection(p, 'admin', 'keys revoke');
        await api(conn, 'DELETE', `${ADMIN}/organizations/${seg(p.args.ORG!)}/api-keys/${seg(p.args.ID!)}`);
        if (p.values.json) return printJson({ revoked: true, id: p.args.ID });
        out(`Revoked API key ${p.args.ID} of ${p.args.ORG}.`);
      },
    },
  ],
};
