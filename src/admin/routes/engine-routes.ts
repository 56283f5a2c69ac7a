import type { FastifyPluginAsync } from 'fastify';
import type { AdminServices } from '../admin-services.js';
import { connectionsSchema, tlsSchema } from '../schemas.js';

/** GET /connections and GET /tls: the engine's connection table, TLS profiles and handshake failure counters. */
export function engineRoutes(services: AdminServices): FastifyPluginAsync {
  return async (app) => {
    app.get('/connections', {
      schema: {
        summary: 'TCP and TLS connections: addresses, state, bytes, TLS version, cipher, group, profile, tenant, peer identities',
        tags: ['engine'],
        response: { 200: connectionsSchema },
      },
    }, async () => {
      const s = await services.engineSnapshot();
      return { count: s.connections.length, connections: s.connections };
    });

    app.get('/tls', {
      schema: {
        summary: 'TLS profiles loaded (certificate subject, SAN, expiry, fingerprint) and handshake failures by tenant, direction and reason',
        tags: ['engine'],
        response: { 200: tlsSchema },
      },
    }, async () => (await services.engineSnapshot()).tls);
  };
}
