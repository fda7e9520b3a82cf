// Shapes of the admin API (SPEC §8) and of the panel's session routes, as the panel reads them.

export interface Session {
  actor: string;
  organization: string | null;
  role: 'platform' | 'admin';
  csrf_token: string;
  expires_at: string;
}

export interface Limits {
  requests_per_minute: number | null;
  concurrent_requests: number | null;
  monthly_requests: number | null;
  monthly_units: number | null;
}

export interface Organization {
  slug: string;
  name: string;
  plan: string | null;
  disabled: boolean;
  limits: Limits | null;
  created_at: string;
  updated_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  role: 'admin' | 'member';
  prefix: string;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface NewApiKey extends Omit<ApiKey, 'last_used_at'> {
  key: string;
}

export interface Plan {
  name: string;
  services: string[] | null;
  limits: Limits | null;
}

export interface CredentialPolicy {
  allow_tenant_key: boolean;
  allow_platform_key: boolean;
  default_source: 'tenant' | 'platform';
  fallback_to_platform_key: boolean;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  format?: string;
  writeOnly?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** `GET /api/v1/admin/services` (platform). */
export interface AdminService {
  slug: string;
  name: string;
  enabled: boolean;
  base_url: string;
  timeout_ms: number;
  credential_name: string;
  credential_schema: JsonSchema;
  credential_policy: CredentialPolicy;
  endpoint_count: number;
}

/** `GET /admin/session/services?organization=` (the panel's per-organization view). */
export interface OrgService {
  slug: string;
  name: string;
  description: string;
  enabled: boolean;
  in_plan: boolean;
  organization_enabled: boolean;
  credential_name: string;
  credential_schema: JsonSchema;
  credential_policy: CredentialPolicy;
  policy_override: CredentialPolicy | null;
}

export interface Credential {
  id: string;
  service: string;
  credential_name: string | null;
  scope: 'platform' | 'tenant';
  organization: string | null;
  label: string | null;
  status: 'active' | 'disabled';
  masked: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface CredentialTestResult {
  ok: boolean;
  status: number;
  latency_ms: number;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  request_id: string;
}
