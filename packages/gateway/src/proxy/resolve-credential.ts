// Stage 4: the credential to inject (SPEC §6), from the in-memory registry: no query when warm.
// Synchronous; throws Cold when the organization's credentials are not loaded (run it through `warm`).
import { effectivePolicy } from '../catalog/access.ts';
import type { CredentialPolicy, CredentialSource } from '../credentials/policy.ts';
import { nextCandidate, resolveCredential, type PayloadCheck, type ResolveInput, type Resolved } from '../credentials/resolve.ts';
import type { Context } from '../context.ts';
import type { CredentialView, OrgView, ServiceView } from '../registry.ts';
import { renderAuthValue } from '../credentials/auth-header.ts';

/** `now` (Date.now()) is the time credential expiry is checked against. */
export function resolveCredentialFor(
  ctx: Context,
  org: OrgView,
  svc: ServiceView,
  explicit: CredentialSource | undefined,
  now: number,
): Resolved<CredentialView> {
  return resolveCredential(new RegistryInput(ctx, org, svc, explicit, now));
}

/** The resolver's input read from the registry and shared state: a class, so that its three callbacks are not three closures per invoke. */
class RegistryInput implements ResolveInput<CredentialView> {
  readonly service: string;
  readonly policy: CredentialPolicy;
  readonly explicit: CredentialSource | undefined;
  readonly credentials: Record<CredentialSource, readonly CredentialView[]>;
  readonly now: number;
  private readonly ctx: Context;
  private readonly org: OrgView;
  private readonly svc: ServiceView;

  constructor(ctx: Context, org: OrgView, svc: ServiceView, explicit: CredentialSource | undefined, now: number) {
    this.ctx = ctx;
    this.org = org;
    this.svc = svc;
    this.service = svc.slug;
    this.policy = effectivePolicy(org, svc);
    this.explicit = explicit;
    this.credentials = ctx.registry.credentialsNow(svc.slug, org.slug);
    this.now = now;
  }

  isCoolingDown(id: string): boolean {
    return this.ctx.state.cooldowns.isCoolingDown(id);
  }

  check(c: CredentialView): PayloadCheck {
    return this.ctx.registry.checkCredential(c, this.svc);
  }

  poolStart(source: CredentialSource): number {
    return this.ctx.registry.poolStart(`${this.svc.slug}|${source}|${source === 'tenant' ? this.org.slug : ''}`);
  }
}

/** SPEC §6.5: after a cool-down, the one retry goes to the next candidate of the same source. */
export function retryCandidate(ctx: Context, svc: ServiceView, resolved: Resolved<CredentialView>): CredentialView | null {
  return nextCandidate(
    resolved.rest,
    (id) => ctx.state.cooldowns.isCoolingDown(id),
    (c) => ctx.registry.checkCredential(c, svc),
  );
}

/** The auth header value (sent as `svc.authHeaderName`): the catalog template with payload fields filled in. */
export function authValue(svc: ServiceView, cred: CredentialView): string {
  return cred.authValue ?? renderAuthValue(svc.def.auth, cred.payload ?? {});
}

/** How long a credential cools down after the upstream answered `status` (SPEC §6.5). */
export function cooldownMs(ctx: Context, status: number, retryAfter: string | string[] | undefined): number {
  if (status !== 429) return ctx.config.authCooldownMs;
  const raw = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (raw) {
    const secs = Number(raw);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  return 60_000;
}
