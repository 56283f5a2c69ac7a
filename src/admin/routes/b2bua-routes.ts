import type { FastifyPluginAsync } from 'fastify';
import type { AdminActions } from '../admin-actions.js';
import type { AdminRefusals } from '../admin-refusals.js';
import { engineIsExternal, type AdminServices } from '../admin-services.js';
import { certificatesSchema, statsSchema, trunksSchema } from '../schemas.js';

/** GET /trunks (OPTIONS ping state), GET /certificates (expiry of every configured certificate) and GET /stats. */
export function b2buaRoutes(services: AdminServices, actions: AdminActions, refusals: AdminRefusals): FastifyPluginAsync {
  return async (app) => {
    app.get('/trunks', {
      schema: {
        summary: 'OPTIONS ping state of every pinged trunk target, the count of state changes, and each registration trunk at its registrar',
        tags: ['b2bua'],
        response: { 200: trunksSchema },
      },
    }, async () => {
      const listenersDown = engineIsExternal(services) ? [] : (await services.engineSnapshot()).listenersDown;
      const b = services.b2buaStats();
      const t = b.trunks ?? { trunks: [], wentDown: 0, cameUp: 0, pings: 0, pingFailures: 0 };
      const registrations = (b.registrations ?? []).map((r) => ({ ...r, ...(r.expiresAt !== undefined ? { expiresAt: new Date(r.expiresAt).toISOString() } : {}) }));
      return { ...t, listenersDown, registrations };
    });

    app.get('/certificates', {
      schema: {
        summary: 'Every configured certificate (trustpoints\' leaves and chains, trust-store CAs) with its expiry and days left, as last checked',
        tags: ['tls'],
        response: { 200: certificatesSchema },
      },
    }, async () => ({ certificates: services.certificates?.() ?? [] }));

    app.get('/stats', {
      schema: {
        summary: 'Counters: engine transport, transactions and core; b2bua calls, failures by status, policy outcomes',
        tags: ['engine', 'b2bua'],
        response: { 200: statsSchema },
      },
    }, async () => {
      // Against drachtio-server the engine's counters are the server's own (its Prometheus endpoint): no engine part.
      const e = engineIsExternal(services) ? undefined : await services.engineSnapshot();
      const b2bua = services.b2buaStats();
      return {
        ...(e ? { engine: {
          transport: e.transport, transactions: e.transactions, ...(e.core ? { core: e.core } : {}), apps: e.apps,
          tls: { version: e.tls.version, handshakeFailures: e.tls.failures.reduce((n, f) => n + f.count, 0) },
          ...(e.trust ? { trust: e.trust } : {}),
          ...(e.rate ? { rate: e.rate } : {}),
          ...(e.overload ? { overload: e.overload } : {}),
          ...(e.refusalRecords ? { refusalRecords: e.refusalRecords } : {}),
          ...(e.stages ? { stages: e.stages } : {}),
          ...(e.thread ? { thread: e.thread } : {}),
          listenersDown: e.listenersDown,
          ...(e.heap ? { heap: e.heap } : {}),
          ...(e.control ? { control: e.control } : {}),
        } } : {}),
        b2bua,
        ...(services.appThread ? { appThread: services.appThread() } : {}),
        ...(services.cdr ? { cdr: services.cdr() } : {}),
        admin: actions.snapshot(),
        adminRefused: refusals.snapshot(),
        ...(services.configStore ? { configWrites: services.configStore.counts() } : {}),
        ...(services.configReloads ? { configReloads: services.configReloads() } : {}),
        ...(services.tlsReloads ? { tlsReloads: services.tlsReloads() } : {}),
        process: processMemory(),
      };
    });
  };
}

/** The gateway process's memory (RSS and native) and the V8 heap of the b2bua's thread, in bytes. */
function processMemory(): { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}
