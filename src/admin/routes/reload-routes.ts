import type { FastifyPluginAsync } from 'fastify';
import type { AdminServices } from '../admin-services.js';
import { configReloadSchema, tlsReloadSchema } from '../schemas.js';

/**
 * POST /reload/tls and POST /reload/config: 200 with what changed, or 422 with every reason the running
 * set was kept.
 */
export function reloadRoutes(services: AdminServices): FastifyPluginAsync {
  return async (app) => {
    app.post('/reload/tls', {
      schema: {
        summary: 'Rebuild the TLS profiles from their files (trustpoints, trust stores, CRLs); validated before the swap',
        tags: ['reload'],
        response: { 200: tlsReloadSchema, 422: tlsReloadSchema },
      },
    }, async (_req, reply) => {
      const r = await services.reloadTls();
      return reply.code(r.ok ? 200 : 422).send(r);
    });

    app.post('/reload/config', {
      schema: {
        summary: 'Read profiles/ again: routing and TLS profiles swapped when valid; listener changes reported as needing a restart',
        tags: ['reload'],
        response: { 200: configReloadSchema, 422: configReloadSchema },
      },
    }, async (_req, reply) => {
      const r = await services.reloadConfig();
      return reply.code(r.ok ? 200 : 422).send(r);
    });
  };
}
