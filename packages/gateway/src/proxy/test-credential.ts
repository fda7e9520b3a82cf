// POST /admin/credentials/{id}/test: call the service's test endpoint (SPEC §8, §9) with one
// credential, through the same dispatcher and header rules as invokes.
import type { Context } from '../context.ts';
import { GatewayError } from '../errors.ts';
import { decryptPayload } from '../credentials/crypto.ts';
import { payloadLooksMasked } from '../credentials/mask.ts';
import { renderAuthValue, sendableAuthValue } from '../credentials/auth-header.ts';
import { dispatch } from './dispatch.ts';
import { BoundedSink } from './relay-response.ts';

export interface CredentialTestResult {
  ok: boolean;
  status: number;
  latency_ms: number;
}

export async function testCredential(ctx: Context, id: string, requestId: string): Promise<CredentialTestResult> {
  const row = await ctx.store.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new GatewayError('not_found');
  const svc = await ctx.registry.service(row.service);
  if (!svc) throw new GatewayError('service_not_found', { params: { service: row.service } });
  let payload: Record<string, unknown>;
  try {
    payload = decryptPayload(ctx.config.masterKey, row, row.ciphertext) as Record<string, unknown>;
  } catch {
    throw new GatewayError('invalid_upstream_key_info');
  }
  if (payloadLooksMasked(payload)) throw new GatewayError('masked_upstream_key');
  const authValue = renderAuthValue(svc.def.auth, payload);
  if (!svc.validatePayload(payload) || !sendableAuthValue(authValue)) throw new GatewayError('invalid_upstream_key_info');

  const endpoint = svc.endpoints.get(svc.def.test_endpoint)!;
  const headers = { 'x-request-id': requestId, [svc.def.auth.header.toLowerCase()]: authValue };
  const started = performance.now();
  let status = 0;
  try {
    await dispatch(
      {
        origin: svc.origin,
        path: svc.basePath + endpoint.path_template,
        method: endpoint.method,
        headers,
        body: null,
        timeoutMs: endpoint.timeout_ms ?? svc.adminTimeoutMs ?? svc.def.timeout_ms,
      },
      (statusCode) => {
        status = statusCode;
        return new BoundedSink(0);
      },
    );
  } catch (err) {
    const code = (err as { code?: string }).code;
    status = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 504 : 502;
  }
  const latency = Math.round(performance.now() - started);
  if (status >= 200 && status < 300) ctx.registry.touchCredential(id);
  return { ok: status >= 200 && status < 300, status, latency_ms: latency };
}
