import type { FastifyPluginAsync } from 'fastify';
import type { AdminActions } from '../admin-actions.js';
import type { AdminRefusals } from '../admin-refusals.js';
import { engineIsExternal, type AdminServices } from '../admin-services.js';
import { GatewayMetrics } from '../metrics.js';

/** GET /metrics: the Prometheus text exposition (prom-client). */
export function metricsRoute(services: AdminServices, actions: AdminActions, refusals: AdminRefusals, opts: { processMetrics?: boolean } = {}): FastifyPluginAsync {
  return async (app) => {
    const metrics = new GatewayMetrics(opts);
    app.get('/metrics', {
      schema: {
        summary: 'Prometheus metrics: calls, failures by status, TLS handshake failures by tenant/direction/reason, open connections, trunk state',
        tags: ['metrics'],
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
    }, async (_req, reply) => {
      const text = await metrics.render({
        ...(engineIsExternal(services) ? {} : { engine: await services.engineSnapshot() }), b2bua: services.b2buaStats(), certificates: services.certificates?.() ?? [],
        ...(services.cdr ? { cdr: services.cdr() } : {}), admin: actions.snapshot(), adminRefused: refusals.snapshot(),
        ...(services.configStore ? { configWrites: services.configStore.counts() } : {}),
        ...(services.configReloads ? { configReloads: services.configReloads() } : {}),
        ...(services.tlsReloads ? { tlsReloads: services.tlsReloads() } : {}),
      });
      return reply.type(metrics.contentType).send(text);
    });
  };
}
