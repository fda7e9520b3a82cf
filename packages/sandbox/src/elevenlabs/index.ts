// The ElevenLabs fake (CATALOG §1): every endpoint of §1.2, `xi-api-key` auth, errors of §1.5.
import type { Headers } from '../http.ts';
import type { Provider, ProviderEnv } from '../provider.ts';
import { accountRoutes } from './account.ts';
import { audioToolRoutes } from './audio-tools.ts';
import { createMeter } from './audio-common.ts';
import { dubbingRoutes } from './dubbing.ts';
import { elError, elFault } from './errors.ts';
import { historyRoutes } from './history.ts';
import { ElevenLabsState } from './state.ts';
import { ttsRoutes } from './tts.ts';
import { voiceRoutes } from './voices.ts';

const EXPOSED = ['request-id', 'history-item-id', 'character-cost', 'tts-latency-ms', 'current-concurrent-requests', 'maximum-concurrent-requests'].join(', ');

export function createElevenLabs(env: ProviderEnv): Provider {
  const state = new ElevenLabsState();
  const meter = createMeter();
  return {
    slug: 'elevenlabs',
    authHeader: 'xi-api-key',
    routes: [
      ...voiceRoutes(state),
      ...accountRoutes(state),
      ...ttsRoutes(env, state, meter),
      ...audioToolRoutes(env, state, meter),
      ...historyRoutes(env, state),
      ...dubbingRoutes(env, state),
    ],
    baseHeaders(requestId): Headers {
      // Fingerprints of the real API (uvicorn behind Google's front end, permissive CORS),
      // so that a gateway's header filtering is exercised.
      return {
        'request-id': requestId,
        'x-region': 'us-central1',
        server: 'uvicorn',
        'access-control-allow-origin': '*',
        'access-control-expose-headers': EXPOSED,
      };
    },
    unauthorized: (info) => elError(401, 'invalid_api_key', info.requestId),
    fault: elFault,
    // FastAPI's own answers for unknown paths and methods.
    notFound: () => ({ status: 404, body: { detail: 'Not Found' } }),
    methodNotAllowed: (_info, allowed) => ({
      status: 405,
      body: { detail: 'Method Not Allowed' },
      headers: { allow: allowed.join(', ') },
    }),
  };
}
