// Row types of every table (Kysely's view of the database). Times are RFC 3339 text,
// booleans 0/1, JSON columns text.

export interface OrganizationsTable {
  slug: string;
  name: string;
  plan: string | null;
  disabled: number;
  limits: string | null; // JSON: per-organization overrides of the plan's limits
  cors_origins: string | null; // JSON array of origins allowed to call from browsers
  created_at: string;
  updated_at: string;
}

export interface PlansTable {
  name: string;
  services: string | null; // JSON array of slugs, null = every service
  limits: string | null; // JSON
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  organization: string;
  name: string;
  role: string;
  prefix: string;
  hash: string; // SHA-256 of the whole key, hex
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ServicesTable {
  slug: string;
  definition: string; // JSON: the catalog entry as last loaded
  enabled: number;
  base_url: string | null; // admin override
  timeout_ms: number | null; // admin override
  credential_policy: string | null; // JSON admin override of the catalog policy
  created_at: string;
  updated_at: string;
}

export interface OrganizationServicesTable {
  organization: string;
  service: string;
  enabled: number;
  credential_policy: string | null; // JSON override, null = the service's policy
  updated_at: string;
}

export interface CredentialsTable {
  id: string;
  service: string;
  scope: string; // platform | tenant
  organization: string | null;
  label: string | null;
  status: string; // active | disabled
  masked: string;
  ciphertext: string; // base64(nonce | tag | ciphertext)
  key_id: string; // which master key encrypted it
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  request_id: string;
}

/** What usage is counted by (SPEC §13): a rollup holds the invokes that share all of these. */
export interface UsageDimensions {
  organization: string;
  api_key_id: string | null;
  service: string;
  action: string;
  status: number;
  upstream_status: number | null;
  credential_source: string | null;
}

/** One invoke, as metered (never stored as such: it is counted into a UsageRollupsTable row). */
export interface UsageEvent extends UsageDimensions {
  /** Epoch milliseconds. */
  at: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  units: number;
}

/** Invokes of one minute with the same UsageDimensions. */
export interface UsageRollupsTable extends UsageDimensions {
  /** The minute's start, RFC 3339 (e.g. 2026-11-24T01:52:00.000Z). */
  minute: string;
  requests: number;
  units: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms_sum: number;
  /** Durations as a histogram: JSON object of bucket index → count (see limits/usage.ts). */
  latency: string;
}

export interface IdempotencyTable {
  organization: string;
  key: string;
  fingerprint: string;
  state: string; // in_flight | done | unstorable
  response: string | null; // JSON {status, headers, body(base64)}
  expires_at: string;
}

export interface AdminSessionsTable {
  id_hash: string;
  actor: string; // platform | apikey:<id>
  organization: string | null;
  csrf_token: string;
  expires_at: string;
  created_at: string;
}

export interface DB {
  organizations: OrganizationsTable;
  plans: PlansTable;
  api_keys: ApiKeysTable;
  services: ServicesTable;
  organization_services: OrganizationServicesTable;
  credentials: CredentialsTable;
  audit_log: AuditLogTable;
  usage_rollups: UsageRollupsTable;
  idempotency: IdempotencyTable;
  admin_sessions: AdminSessionsTable;
}
