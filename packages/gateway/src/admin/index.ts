// Admin API (SPEC §8), one file per resource, all under /api/v1/admin. Routes are registered
// directly on the app (no encapsulated plugin) so that server.ts sees them for its 405 answers.
// Authentication has already happened (server preHandler); each route checks the role it needs.
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerAuditLogRoutes } from './audit-log.ts';
import { registerCredentialRoutes } from './credentials.ts';
import { registerOrganizationRoutes } from './organizations.ts';
import { registerPlanRoutes } from './plans.ts';
import { registerServiceRoutes } from './services.ts';
import { registerUsageRoutes } from './usage.ts';

export function registerAdminRoutes(app: FastifyInstance, ctx: Context): void {
  registerOrganizationRoutes(app, ctx); // /organizations, /organizations/{org}
  registerApiKeyRoutes(app, ctx); // /organizations/{org}/api-keys
  registerPlanRoutes(app, ctx); // /plans
  registerServiceRoutes(app, ctx); // /services, /organizations/{org}/services/{service}
  registerCredentialRoutes(app, ctx); // /credentials
  registerAuditLogRoutes(app, ctx); // /audit-log
  registerUsageRoutes(app, ctx); // /usage (SPEC §13)
}
