// Every route of the gateway, in one list a reader can scan.
import type { FastifyInstance } from 'fastify';
import type { Context } from './context.ts';
import { registerAdminRoutes } from './admin/index.ts';
import { registerAdminPanel } from './admin-panel/index.ts';
import { registerDiscoveryRoutes } from './catalog/discovery.ts';
import { registerInvokeRoute } from './proxy/route.ts';

export function registerRoutes(app: FastifyInstance, ctx: Context): void {
  registerAdminRoutes(app, ctx); // /api/v1/admin/**
  registerAdminPanel(app, ctx); // /admin (web panel), /admin/session
  registerDiscoveryRoutes(app, ctx); // /api/v1/external-proxy/services/**
  registerInvokeRoute(app); // /api/v1/external-proxy/{service}/{action}: 405s (POST is server.ts's raw path)
}
