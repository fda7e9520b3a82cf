// What every route and pipeline stage can reach: built once per gateway process.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Registry } from './registry.ts';
import type { SharedState } from './state/index.ts';
import type { Store } from './store/db.ts';
import type { Principal } from './auth/authenticate.ts';
import { ulid } from './ids.ts';

export interface Context {
  config: Config;
  store: Store;
  registry: Registry;
  state: SharedState;
  log: Logger;
}

export interface AuditEvent {
  principal: Principal;
  action: string;
  target: string;
  requestId: string;
}

/** Records who changed what. Never pass secrets in `target`. */
export async function audit(ctx: Context, e: AuditEvent): Promise<void> {
  await ctx.store.db
    .insertInto('audit_log')
    .values({
      id: ulid(),
      at: new Date().toISOString(),
      actor: e.principal.kind === 'platform' ? 'platform' : `apikey:${e.principal.keyId}`,
      action: e.action,
      target: e.target,
      request_id: e.requestId,
    })
    .execute();
}
