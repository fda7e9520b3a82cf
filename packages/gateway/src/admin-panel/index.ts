// The admin web panel's side of the gateway: session routes (/admin/session), the panel's
// read-only per-organization service view, and the built panel itself at /admin.
// The admin API accepts the session cookie through `sessionPrincipal` (server.ts preHandler).
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';
import { registerPanelServiceRoutes } from './services.ts';
import { registerSessionRoutes } from './session.ts';
import { registerPanelStatic } from './static.ts';

export { sessionPrincipal } from './session.ts';

export function registerAdminPanel(app: FastifyInstance, ctx: Context): void {
  registerSessionRoutes(app, ctx); // GET/POST/DELETE /admin/session
  registerPanelServiceRoutes(app, ctx); // GET /admin/session/services
  registerPanelStatic(app); // GET /admin, /admin/* (packages/admin-ui/dist)
}
