// The in-memory view of the database that the request path reads: services, organizations,
// API keys and credentials, loaded on first use and dropped whenever an admin change is
// published (this process at once, others through SharedState). A warm invoke does no query.
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { Config } from './config.ts';
import type { CatalogEndpoint, CatalogService, CredentialPolicy } from './catalog/load.ts';
import { decryptPayload, masterKeyId } from './credentials/crypto.ts';
import { payloadLooksMasked } from './credentials/mask.ts';
import { renderAuthValue, sendableAuthValue } from './credentials/auth-header.ts';
import type { CandidateInfo, PayloadCheck } from './credentials/resolve.ts';
import type { CredentialSource } from './credentials/policy.ts';
import type { Store } from './store/db.ts';
import type { SharedState } from './state/index.ts';

export interface Limits {
  requests_per_minute: number | null;
  concurrent_requests: number | null;
  monthly_requests: number | null;
  monthly_units: number | null;
}

export const NO_LIMITS: Limits = { requests_per_minute: null, concurrent_requests: null, monthly_requests: null, monthly_units: null };

export interface ServiceView {
  slug: string;
  def: CatalogService;
  enabled: boolean;
  /** Effective upstream base URL: PORTICO_BASE_URL_<SERVICE> > admin base_url > catalog. */
  baseUrl: string;
  /** `baseUrl` split once for the dispatcher: origin and path prefix ('' for none). */
  origin: string;
  basePath: string;
  /** The auth header's name, lower case. */
  authHeaderName: string;
  adminBaseUrl: string | null;
  adminTimeoutMs: number | null;
  policy: CredentialPolicy;
  endpoints: Map<string, CatalogEndpoint>;
  validatePayload: ValidateFunction;
}

export interface OrgView {
  slug: string;
  name: string;
  disabled: boolean;
  plan: string | null;
  /** null = every service. */
  planServices: Set<string> | null;
  /** Plan limits with the organization's own overrides applied. */
  limits: Limits;
  corsOrigins: string[];
  services: Map<string, { enabled: boolean; policy: CredentialPolicy | null }>;
}

export interface ApiKeyView {
  id: string;
  organization: string;
  role: 'admin' | 'member';
  expiresAt: number | null;
}

export interface CredentialView extends CandidateInfo {
  service: string;
  scope: CredentialSource;
  organization: string | null;
  ciphertext: string;
  keyId: string;
  /** Decrypted payload, once checked ok. Lives only in memory. */
  payload: Record<string, unknown> | null;
  /** The auth header value rendered from the payload, once checked ok. */
  authValue: string | null;
  verdict: PayloadCheck | null;
}

/**
 * Thrown by the registry's `…Now` lookups when a view is not loaded yet. `warm(f)` catches it,
 * waits for the load and runs `f` again, so that the request path reads the registry
 * synchronously (no promise, no microtask) whenever it is warm, which is nearly always.
 */
export class Cold {
  readonly loading: Promise<unknown>;
  constructor(loading: Promise<unknown>) {
    this.loading = loading;
  }
}

/** `f()` now if every view it reads is loaded; else a promise of it once they are. `f` must only read until it returns. */
export function warm<T>(f: () => T): T | Promise<T> {
  try {
    return f();
  } catch (err) {
    if (err instanceof Cold) return err.loading.then(() => warm(f));
    throw err;
  }
}

/** A cached load: its promise, and its value once fulfilled (unless dropped by `clear()` first). */
interface Entry<T> {
  readonly p: Promise<T>;
  settled: boolean;
  value: T | undefined;
}

export class Registry {
  private servicesE: Entry<Map<string, ServiceView>> | null = null;
  private corsE: Entry<Set<string>> | null = null;
  private readonly orgs = new Map<string, Entry<OrgView | null>>();
  private readonly keys = new Map<string, Entry<ApiKeyView | null>>();
  private readonly creds = new Map<string, Entry<CredentialView[]>>();
  /** Per organization, then per service: keyed by the views' own slugs, so that an invoke's
   * lookup builds no key string (and hashes none). */
  private readonly credPairs = new Map<string, Map<string, Entry<Record<CredentialSource, CredentialView[]>>>>();
  private readonly pools = new Map<string, number>();
  // Last use per id, as epoch ms (turned into text only when flushed).
  private readonly touchedKeys = new Map<string, number>();
  private readonly touchedCreds = new Map<string, number>();
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  private readonly keyId: string;
  private readonly flushTimer: NodeJS.Timeout;

  private readonly store: Store;
  private readonly config: Config;
  private readonly state: SharedState;

  constructor(store: Store, config: Config, state: SharedState) {
    this.store = store;
    this.config = config;
    this.state = state;
    this.keyId = masterKeyId(config.masterKey);
    state.onInvalidation(() => this.clear());
    // last_used_at is written in batches, never once per request.
    this.flushTimer = setInterval(() => void this.flushTouches().catch(() => {}), 5000);
    this.flushTimer.unref();
  }

  /** Drop every cached view (after any admin change). */
  clear(): void {
    this.servicesE = null;
    this.corsE = null;
    this.orgs.clear();
    this.keys.clear();
    this.creds.clear();
    this.credPairs.clear();
  }

  /** An admin change happened: invalidate here and in every other process. */
  changed(): void {
    this.clear();
    this.state.publishInvalidation();
  }

  /**
   * The entry for `key`, loading it when absent. A failed load does not stay; one that raced
   * `clear()` is not kept. The hot lookups (`orgEntry`, `apiKeyEntry`, `credentialsEntry`) look in
   * their map first and call the loader only on a miss: a loader closure made on every call, even
   * unused, costs an allocation per invoke.
   */
  private entry<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Entry<T> {
    const hit = map.get(key);
    if (hit) return hit;
    const e = this.track(
      load(),
      (x) => map.get(key) === x,
      () => map.delete(key),
    );
    map.set(key, e);
    return e;
  }

  /** Settles `e` when `p` fulfils while `e` is still the cached one (`clear()` drops them all). */
  private track<T>(p: Promise<T>, current: (e: Entry<T>) => boolean, drop: () => void): Entry<T> {
    const e: Entry<T> = { p, settled: false, value: undefined };
    p.then(
      (v) => {
        if (!current(e)) return;
        e.value = v;
        e.settled = true;
      },
      () => {
        if (current(e)) drop();
      },
    );
    return e;
  }

  private static now<T>(e: Entry<T>): T {
    if (e.settled) return e.value as T;
    throw new Cold(e.p);
  }

  private servicesEntry(): Entry<Map<string, ServiceView>> {
    if (this.servicesE) return this.servicesE;
    const e = this.track(
      this.loadServices(),
      (x) => this.servicesE === x,
      () => (this.servicesE = null),
    );
    this.servicesE = e;
    return e;
  }

  services(): Promise<Map<string, ServiceView>> {
    return this.servicesEntry().p;
  }

  async service(slug: string): Promise<ServiceView | undefined> {
    return (await this.services()).get(slug);
  }

  /** `service` when loaded; else throws Cold (see `warm`). */
  serviceNow(slug: string): ServiceView | undefined {
    return Registry.now(this.servicesEntry()).get(slug);
  }

  private async loadServices(): Promise<Map<string, ServiceView>> {
    const rows = await this.store.db.selectFrom('services').selectAll().orderBy('slug').execute();
    const out = new Map<string, ServiceView>();
    for (const row of rows) {
      const def = JSON.parse(row.definition) as CatalogService;
      const baseUrl = this.config.baseUrlOverrides.get(row.slug) ?? row.base_url ?? def.base_url;
      const url = new URL(baseUrl);
      out.set(row.slug, {
        slug: row.slug,
        def,
        enabled: row.enabled === 1,
        baseUrl,
        origin: url.origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        authHeaderName: def.auth.header.toLowerCase(),
        adminBaseUrl: row.base_url,
        adminTimeoutMs: row.timeout_ms,
        policy: row.credential_policy ? (JSON.parse(row.credential_policy) as CredentialPolicy) : def.credential_policy,
        endpoints: new Map(def.endpoints.map((e) => [e.slug, e])),
        validatePayload: this.ajv.compile(def.credential_schema),
      });
    }
    return out;
  }

  /** Every organization's browser origins (preflights carry no credentials to tell which). */
  corsOrigins(): Promise<Set<string>> {
    return this.corsEntry().p;
  }

  /** `corsOrigins` when loaded; else throws Cold (see `warm`). */
  corsOriginsNow(): Set<string> {
    return Registry.now(this.corsEntry());
  }

  private corsEntry(): Entry<Set<string>> {
    if (this.corsE) return this.corsE;
    const load = this.store.db
      .selectFrom('organizations')
      .select('cors_origins')
      .where('cors_origins', 'is not', null)
      .execute()
      .then((rows) => new Set(rows.flatMap((r) => JSON.parse(r.cors_origins!) as string[])));
    const e = this.track(
      load,
      (x) => this.corsE === x,
      () => (this.corsE = null),
    );
    this.corsE = e;
    return e;
  }

  org(slug: string): Promise<OrgView | null> {
    return this.orgEntry(slug).p;
  }

  /** `org` when loaded; else throws Cold (see `warm`). */
  orgNow(slug: string): OrgView | null {
    return Registry.now(this.orgEntry(slug));
  }

  private orgEntry(slug: string): Entry<OrgView | null> {
    return this.orgs.get(slug) ?? this.loadOrg(slug);
  }

  private loadOrg(slug: string): Entry<OrgView | null> {
    return this.entry(this.orgs, slug, async () => {
      const db = this.store.db;
      const row = await db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst();
      if (!row) return null;
      const plan = row.plan ? await db.selectFrom('plans').selectAll().where('name', '=', row.plan).executeTakeFirst() : undefined;
      const services = await db.selectFrom('organization_services').selectAll().where('organization', '=', slug).execute();
      const planLimits = { ...NO_LIMITS, ...(plan?.limits ? (JSON.parse(plan.limits) as Partial<Limits>) : {}) };
      const own = row.limits ? (JSON.parse(row.limits) as Partial<Limits>) : {};
      const limits = { ...planLimits };
      for (const [k, v] of Object.entries(own) as [keyof Limits, number | null][]) if (v !== null && v !== undefined) limits[k] = v;
      return {
        slug: row.slug,
        name: row.name,
        disabled: row.disabled === 1,
        plan: row.plan,
        planServices: plan?.services ? new Set(JSON.parse(plan.services) as string[]) : null,
        limits,
        corsOrigins: row.cors_origins ? (JSON.parse(row.cors_origins) as string[]) : [],
        services: new Map(
          services.map((s) => [
            s.service,
            { enabled: s.enabled === 1, policy: s.credential_policy ? (JSON.parse(s.credential_policy) as CredentialPolicy) : null },
          ]),
        ),
      };
    });
  }

  apiKey(hash: string): Promise<ApiKeyView | null> {
    return this.apiKeyEntry(hash).p;
  }

  /** `apiKey` when loaded; else throws Cold (see `warm`). */
  apiKeyNow(hash: string): ApiKeyView | null {
    return Registry.now(this.apiKeyEntry(hash));
  }

  private apiKeyEntry(hash: string): Entry<ApiKeyView | null> {
    return this.keys.get(hash) ?? this.loadApiKey(hash);
  }

  private loadApiKey(hash: string): Entry<ApiKeyView | null> {
    return this.entry(this.keys, hash, async () => {
      const row = await this.store.db
        .selectFrom('api_keys')
        .select(['id', 'organization', 'role', 'expires_at', 'revoked_at'])
        .where('hash', '=', hash)
        .executeTakeFirst();
      if (!row || row.revoked_at) return null;
      return {
        id: row.id,
        organization: row.organization,
        role: row.role === 'admin' ? 'admin' : 'member',
        expiresAt: row.expires_at ? Date.parse(row.expires_at) : null,
      };
    });
  }

  /** Platform credentials of a service plus the organization's tenant ones, in pool order. */
  credentials(service: string, org: string): Promise<Record<CredentialSource, CredentialView[]>> {
    return this.credentialsEntry(service, org).p;
  }

  /** `credentials` when loaded; else throws Cold (see `warm`). */
  credentialsNow(service: string, org: string): Record<CredentialSource, CredentialView[]> {
    return Registry.now(this.credentialsEntry(service, org));
  }

  private credentialsEntry(service: string, org: string): Entry<Record<CredentialSource, CredentialView[]>> {
    return this.credPairs.get(org)?.get(service) ?? this.loadCredentials(service, org);
  }

  private loadCredentials(service: string, org: string): Entry<Record<CredentialSource, CredentialView[]>> {
    let byService = this.credPairs.get(org);
    if (byService === undefined) this.credPairs.set(org, (byService = new Map()));
    return this.entry(byService, service, async () => {
      const [platform, tenant] = await Promise.all([this.credentialRows(service, null), this.credentialRows(service, org)]);
      return { platform, tenant };
    });
  }

  private credentialRows(service: string, org: string | null): Promise<CredentialView[]> {
    return this.entry(this.creds, `${service}\u0000${org ?? ''}`, async () => {
      let q = this.store.db.selectFrom('credentials').selectAll().where('service', '=', service);
      q = org === null ? q.where('scope', '=', 'platform') : q.where('scope', '=', 'tenant').where('organization', '=', org);
      const rows = await q.orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        service: r.service,
        scope: r.scope as CredentialSource,
        source: r.scope as CredentialSource,
        organization: r.organization,
        status: r.status === 'active' ? 'active' : 'disabled',
        expiresAt: r.expires_at ? Date.parse(r.expires_at) : null,
        ciphertext: r.ciphertext,
        keyId: r.key_id,
        payload: null,
        authValue: null,
        verdict: null,
      }));
    }).p;
  }

  /** Decrypt and validate once per cached view (SPEC §6 step 3). */
  checkCredential(c: CredentialView, svc: ServiceView): PayloadCheck {
    if (c.verdict) return c.verdict;
    let verdict: PayloadCheck = 'invalid';
    if (c.keyId === this.keyId) {
      try {
        const payload = decryptPayload(this.config.masterKey, c, c.ciphertext);
        if (payloadLooksMasked(payload)) verdict = 'masked';
        else if (svc.validatePayload(payload)) {
          const authValue = renderAuthValue(svc.def.auth, payload as Record<string, unknown>);
          if (sendableAuthValue(authValue)) {
            verdict = 'ok';
            c.payload = payload as Record<string, unknown>;
            c.authValue = authValue;
          }
        }
      } catch {
        verdict = 'invalid';
      }
    }
    c.verdict = verdict;
    return verdict;
  }

  /** Round-robin position for a key pool. */
  poolStart(key: string): number {
    const n = this.pools.get(key) ?? 0;
    this.pools.set(key, n + 1);
    return n;
  }

  touchApiKey(id: string, now = Date.now()): void {
    this.touchedKeys.set(id, now);
  }

  touchCredential(id: string, now = Date.now()): void {
    this.touchedCreds.set(id, now);
  }

  async flushTouches(): Promise<void> {
    if (this.touchedKeys.size === 0 && this.touchedCreds.size === 0) return;
    const keys = [...this.touchedKeys];
    const creds = [...this.touchedCreds];
    this.touchedKeys.clear();
    this.touchedCreds.clear();
    const db = this.store.db;
    for (const [id, at] of keys)
      await db
        .updateTable('api_keys')
        .set({ last_used_at: new Date(at).toISOString() })
        .where('id', '=', id)
        .execute();
    for (const [id, at] of creds)
      await db
        .updateTable('credentials')
        .set({ last_used_at: new Date(at).toISOString() })
        .where('id', '=', id)
        .execute();
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushTouches().catch(() => {});
  }
}
