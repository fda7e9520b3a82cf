// Admin API (SPEC §8), one file per resource.
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';

export function registerAdminRoutes(_app: FastifyInstance, _ctx: Context): void {}
