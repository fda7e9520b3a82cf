// Catalog files → the services table. A new service is enabled with the catalog's policy;
// for a known one only the definition is refreshed, so what admins changed (enabled,
// base URL, timeout, policy) survives restarts and catalog updates (SPEC §9).
import type { Store } from '../store/db.ts';
import type { CatalogService } from './load.ts';

export async function syncCatalog(store: Store, services: CatalogService[]): Promise<void> {
  const now = new Date().toISOString();
  for (const svc of services) {
    const definition = JSON.stringify(svc);
    await store.db
      .insertInto('services')
      .values({ slug: svc.slug, definition, enabled: 1, base_url: null, timeout_ms: null, credential_policy: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('slug').doUpdateSet({ definition }))
      .execute();
  }
}
