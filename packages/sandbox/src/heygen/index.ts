// The HeyGen fake (CATALOG §2): legacy v1/v2 (§2.3a, without the upload-host rows 19-20) and
// v3 (§2.3b), `X-Api-Key` auth, each generation's own envelopes and errors (§2.5).
import type { Provider, ProviderEnv } from '../provider.ts';
import { familyOf, hgError, hgFault } from './errors.ts';
import { legacyRoutes } from './legacy.ts';
import { HeyGenState } from './state.ts';
import { translationRoutes } from './translations.ts';
import { v3Routes } from './v3.ts';
import { videoRoutes } from './videos.ts';
import { webhookRoutes } from './webhooks.ts';

export function createHeyGen(env: ProviderEnv): Provider {
  const state = new HeyGenState();
  const unauthorized: Provider['unauthorized'] = (info) => {
    const family = familyOf(info.path);
    // v2 legacy answers its own shape (CATALOG §2.5 reconstruction) with code `unauthorized`.
    return family === 'v2' ? hgError({ status: 401, family, code: 'unauthorized', message: 'Unauthorized' }) : hgError({ status: 401, family });
  };
  return {
    slug: 'heygen',
    authHeader: 'x-api-key',
    routes: [...v3Routes(env, state), ...videoRoutes(env, state), ...translationRoutes(env, state), ...webhookRoutes(state), ...legacyRoutes(env, state)],
    // HeyGen's own request id (the official CLI reads it); a gateway returns it as X-Upstream-Request-Id.
    baseHeaders: (requestId) => ({ 'x-request-id': requestId }),
    unauthorized,
    fault: (status, info) => (status === 401 && info.code === undefined ? unauthorized(info) : hgFault(status, info)),
    notFound: (info) => hgError({ status: 404, family: familyOf(info.path), message: 'Not found.' }),
    methodNotAllowed: (info, allowed) => ({ ...hgError({ status: 405, family: familyOf(info.path) }), headers: { allow: allowed.join(', ') } }),
  };
}
