import type { FastifyPluginAsync } from 'fastify';
import type { AdminActions } from '../admin-actions.js';
import { engineIsExternal, type AdminServices } from '../admin-services.js';
import { closedConnectionSchema, LIST_LIMIT_DEFAULT, limitQuerySchema, listenersSchema } from '../call-schemas.js';
import type { AdminErrorCode } from '../errors.js';
import { connectionsSchema, errorSchema, tlsSchema } from '../schemas.js';

/**
 * GET /connections, DELETE /connections/:id, GET /listeners and GET /tls: the engine's connection table (and
 * clearing one), its listen sockets, TLS profiles and handshake failure counters.
 */
export function engineRoutes(services: AdminServices, actions: AdminActions): FastifyPluginAsync {
  return async (app) => {
    // Against drachtio-server there is no connection table, listener list or TLS profile set of ours to show.
    app.addHook('onRequest', async (_req, reply) => {
      if (!engineIsExternal(services)) return;
      const code: AdminErrorCode = 'ERR_ADMIN_ENGINE_EXTERNAL';
      const control = services.engine?.().control;
      return reply.code(501).send({ code, message: `this route needs the embedded engine; the gateway runs against drachtio-server at ${control}` });
    });
    app.get('/connections', {
      schema: {
        summary: 'TCP and TLS connections: addresses, state, bytes, TLS version, cipher, group, profile, tenant, peer identities',
        tags: ['engine'],
        querystring: limitQuerySchema,
        response: { 200: connectionsSchema, 501: errorSchema },
      },
    }, async (req) => {
      const limit = (req.query as { limit?: number }).limit ?? LIST_LIMIT_DEFAULT;
      const s = await services.engineSnapshot();
      return { count: s.connections.length, connections: s.connections.slice(0, limit) };
    });

    app.delete('/connections/:id', {
      schema: {
        summary: 'Close one TCP or TLS connection (clear connection); its dialogs go on over a new connection if the far end makes one',
        tags: ['engine'],
        params: {
          type: 'object', required: ['id'], additionalProperties: false,
          properties: { id: { type: 'string', minLength: 1, maxLength: 128, description: 'a connection id from GET /connections' } },
        },
        response: { 200: closedConnectionSchema, 404: errorSchema, 501: errorSchema },
      },
    }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const c = services.closeConnection ? await services.closeConnection(id) : undefined;
      if (!c) {
        actions.count('clear-connection', 'not-found');
        const code: AdminErrorCode = 'ERR_ADMIN_CONNECTION_NOT_FOUND';
        return reply.code(404).send({ code, message: `no open connection ${id}` });
      }
      actions.count('clear-connection', 'done');
      req.log.info({ connection: id, remote: `${c.remoteAddress}:${c.remotePort}` }, `admin: ${c.protocol} connection ${id} closed`);
      return {
        id: c.id, protocol: c.protocol, direction: c.direction, remoteAddress: c.remoteAddress, remotePort: c.remotePort,
        localAddress: c.localAddress, localPort: c.localPort, ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
      };
    });

    app.get('/listeners', {
      schema: {
        summary: 'SIP listen sockets: tenant, address, port, transport, state (a tenant listener that could not bind is down, with the error)',
        tags: ['engine'],
        response: { 200: listenersSchema, 501: errorSchema },
      },
    }, async () => {
      const down = (await services.engineSnapshot()).listenersDown;
      const up = services.listeners?.() ?? [];
      return {
        listeners: [
          ...up.map((l) => ({
            id: l.id, tenant: l.tenant ?? '-', address: l.address, port: l.port, transport: l.protocol, state: 'listening',
            ...(l.tlsProfile !== undefined ? { tlsProfile: l.tlsProfile } : {}),
          })),
          ...down.map((l) => ({ id: l.id, tenant: l.tenant ?? '-', address: l.host, port: l.port, transport: l.protocol, state: 'down', error: l.error })),
        ],
      };
    });

    app.get('/tls', {
      schema: {
        summary: 'TLS profiles loaded (certificate subject, SAN, expiry, fingerprint) and handshake failures by tenant, direction and reason',
        tags: ['engine'],
        response: { 200: tlsSchema, 501: errorSchema },
      },
    }, async () => (await services.engineSnapshot()).tls);
  };
}
