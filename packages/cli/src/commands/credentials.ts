// `portico credentials …`: provider keys stored encrypted by the gateway (SPEC §6, §8).
// Secrets are read from piped stdin or a hidden prompt, never from the command line, and the
// gateway only ever answers with a masked value.
import { CONNECTION, JSON_OPTION, oneOf, str, type Group } from '../lib/command.ts';
import { CliError, UsageError } from '../lib/errors.ts';
import { ADMIN, api, connection, listAll, seg } from '../lib/http.ts';
import { readSecret } from '../lib/input.ts';
import { fields, out, printJson, shortTime, table } from '../lib/output.ts';

const COMMON = { ...CONNECTION, ...JSON_OPTION };

export interface Credential {
  id: string;
  service: string;
  credential_name: string;
  scope: 'platform' | 'tenant';
  organization: string | null;
  label: string | null;
  status: string;
  masked: string;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

function credentialFields(c: Credential): string {
  return fields([
    ['ID', c.id],
    ['Service', c.service],
    ['Scope', c.scope],
    ['Organization', c.organization],
    ['Label', c.label],
    ['Status', c.status],
    ['Secret', c.masked],
    ['Expires', shortTime(c.expires_at) ?? 'never'],
  ]);
}

export const credentialsGroup: Group = {
  name: 'credentials',
  summary: 'Manage provider credentials (platform-wide or per organization).',
  description: 'Platform credentials need the platform admin token; an admin key of an organization manages its own tenant credentials.',
  commands: [
    {
      name: 'credentials list',
      summary: 'List credentials (masked).',
      options: {
        service: { type: 'string', value: 'SERVICE', help: 'only this service' },
        org: { type: 'string', value: 'ORG', help: "only this organization's tenant credentials" },
        scope: { type: 'string', value: 'platform|tenant', help: 'only this scope' },
        ...COMMON,
      },
      examples: ['portico credentials list', 'portico credentials list --service elevenlabs --org acme'],
      async run(p) {
        const scope = oneOf(p, 'scope', ['platform', 'tenant'] as const, 'credentials list');
        const conn = connection(p, 'admin', 'credentials list');
        const creds = await listAll<Credential>(conn, `${ADMIN}/credentials`, 'credentials', {
          service: str(p, 'service'),
          organization: str(p, 'org'),
          scope,
        });
        if (p.values.json) return printJson(creds);
        if (creds.length === 0) return out('No credentials. Add one with: portico credentials add SERVICE --scope platform < key.txt');
        out(
          table(
            ['ID', 'SERVICE', 'SCOPE', 'ORG', 'LABEL', 'STATUS', 'SECRET', 'EXPIRES', 'LAST USED'],
            creds.map((c) => [
              c.id,
              c.service,
              c.scope,
              c.organization,
              c.label,
              c.status,
              c.masked,
              shortTime(c.expires_at) ?? 'never',
              shortTime(c.last_used_at) ?? 'never',
            ]),
          ),
        );
      },
    },
    {
      name: 'credentials add',
      summary: 'Store a provider secret, read from standard input (or a hidden prompt on a terminal).',
      args: ['SERVICE'],
      description: [
        'The secret is never taken from the command line. Pipe it in, or type it at the prompt.',
        'A plain string is the provider key; a JSON object is the full credential payload.',
      ].join('\n'),
      options: {
        scope: { type: 'string', value: 'platform|tenant', help: 'platform-wide, or one organization (required)' },
        org: { type: 'string', value: 'ORG', help: 'the organization of a tenant credential' },
        label: { type: 'string', value: 'LABEL', help: 'a name to recognise it by' },
        'expires-at': { type: 'string', value: 'TIME', help: 'RFC 3339 expiry in the future' },
        ...COMMON,
      },
      examples: [
        'printenv ELEVENLABS_API_KEY | portico credentials add elevenlabs --scope platform --label main',
        'portico credentials add heygen --scope tenant --org acme < heygen-key.txt',
      ],
      async run(p) {
        const scope = oneOf(p, 'scope', ['platform', 'tenant'] as const, 'credentials add');
        if (!scope) throw new UsageError('missing --scope platform|tenant', 'credentials add');
        const org = str(p, 'org');
        if (scope === 'platform' && org !== undefined) throw new UsageError('--org is only for --scope tenant', 'credentials add');
        const conn = connection(p, 'admin', 'credentials add');
        const service = p.args.SERVICE!;
        const secret = await readSecret(`${service} secret`);
        const body: Record<string, unknown> = { service, scope, secret };
        if (org !== undefined) body.organization = org;
        const label = str(p, 'label');
        if (label !== undefined) body.label = label;
        const expires = str(p, 'expires-at');
        if (expires !== undefined) body.expires_at = expires;
        const cred = await api<Credential>(conn, 'POST', `${ADMIN}/credentials`, { body });
        if (p.values.json) return printJson(cred);
        out(`Stored ${cred.scope} credential for ${cred.service}.\n${credentialFields(cred)}`);
      },
    },
    {
      name: 'credentials test',
      summary: "Call the service's test endpoint with one credential; exits 1 when the provider refuses it.",
      args: ['ID'],
      options: COMMON,
      examples: ['portico credentials test 01JD3Y8ZQ6J8K9M2N4P5R6S7T8'],
      async run(p) {
        const conn = connection(p, 'admin', 'credentials test');
        const r = await api<{ ok: boolean; status: number; latency_ms: number }>(conn, 'POST', `${ADMIN}/credentials/${seg(p.args.ID!)}/test`);
        if (p.values.json) printJson(r);
        else if (r.ok) out(`ok: the provider accepted credential ${p.args.ID} (HTTP ${r.status}, ${r.latency_ms} ms)`);
        if (!r.ok) throw new CliError(`credential ${p.args.ID} failed its test: the provider answered HTTP ${r.status} (${r.latency_ms} ms)`);
      },
    },
    {
      name: 'credentials delete',
      summary: 'Delete a credential.',
      args: ['ID'],
      options: COMMON,
      examples: ['portico credentials delete 01JD3Y8ZQ6J8K9M2N4P5R6S7T8'],
      async run(p) {
        const conn = connection(p, 'admin', 'credentials delete');
        await api(conn, 'DELETE', `${ADMIN}/credentials/${seg(p.args.ID!)}`);
        if (p.values.json) return printJson({ deleted: true, id: p.args.ID });
        out(`Deleted credential ${p.args.ID}.`);
      },
    },
  ],
};
