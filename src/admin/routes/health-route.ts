import type { FastifyPluginAsync } from 'fastify';
import { systemClock, type Clock } from '../../common/clock.js';
import type { AdminServices } from '../admin-services.js';
import { listenerDownSchema } from '../schemas.js';

/** How long /health reuses the listeners the engine last reported down. */
export const HEALTH_SNAPSHOT_MAX_AGE_MS = 1_000;

/**
 * `fetch` shared by its callers: one call at a time (those that come meanwhile get the same promise), and its
 * result, or its failure, reused for `maxAgeMs` after it settled. A clock set back starts a new call.
 */
export function shared<T>(fetch: () => Promise<T>, maxAgeMs: number, clock: Pick<Clock, 'now'> = systemClock): () => Promise<T> {
  let last: Promise<T> | undefined;
  let settledAt: number | undefined; // undefined while `last` is in flight
  return () => {
    if (last !== undefined) {
      const age = settledAt === undefined ? 0 : clock.now() - settledAt;
      if (age >= 0 && age < maxAgeMs) return last;
    }
    const p = Promise.resolve().then(fetch);
    last = p;
    settledAt = undefined;
    const settled = () => {
      if (last === p) settledAt = clock.now();
    };
    p.then(settled, settled);
    return p;
  };
}

/**
 * GET /health: open to anyone when a token is set, so it must stay cheap. It needs only the listeners that are down,
 * which come with the engine's whole snapshot (connection table, TLS profiles, counters, copied from the engine's
 * thread): one snapshot is taken at a time and reused for HEALTH_SNAPSHOT_MAX_AGE_MS, however often /health is asked.
 */
export function healthRoute(services: AdminServices, warnings: readonly { code: string; message: string }[]): FastifyPluginAsync {
  return async (app) => {
    const listenersDown = shared(async () => (await services.engineSnapshot()).listenersDown ?? [], HEALTH_SNAPSHOT_MAX_AGE_MS);
    // The app workers with none connected in their slot (src/b2bua/workers/app-pool.ts), read as seldom.
    const appWorkersDown = shared(async () => services.b2buaStats().appWorkersDown ?? 0, HEALTH_SNAPSHOT_MAX_AGE_MS);
    app.get('/health', {
      schema: {
        summary: 'Liveness of the admin API, and standing warnings of the running configuration (no token asked)', tags: ['meta'],
        security: [],
        response: { 200: { type: 'object', properties: {
          status: { type: 'string' },
          listenersDown: { type: 'array', items: listenerDownSchema },
          appWorkersDown: { type: 'integer', description: 'app workers (gateway.workers) with none connected in their place now: stopped, or waiting out their restart backoff; the other apps take their calls' },
          engine: {
            type: 'object', description: 'the engine the b2bua speaks to: embedded, or a drachtio-server (engine mode external)',
            properties: {
              mode: { type: 'string', enum: ['embedded', 'external'] }, control: { type: 'string' },
              thread: { type: 'string', enum: ['worker', 'main'], description: 'embedded: the engine\'s own thread, or the b2bua\'s (gateway.engine.thread)' },
              connected: { type: 'boolean' }, hostport: { type: 'string' },
              engineConnects: { type: 'integer', description: 'external: how often the control connection came up, the first time included' },
              engineLosses: { type: 'integer', description: 'external: how often the control connection was lost (a number climbing with engineConnects: it flaps)' },
            },
          },
          warnings: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
        } } },
      },
    }, async () => {
      // A tenant listener that could not bind leaves the gateway up but degraded: its trunk takes no calls. Against
      // drachtio-server, a lost control connection does too: the server refuses every new call until it is back. So
      // does an app worker down: the gateway carries less.
      const engine = services.engine?.();
      const external = engine?.mode === 'external';
      const down = external ? [] : await listenersDown().catch(() => []);
      const apps = await appWorkersDown().catch(() => 0);
      return {
        status: down.length > 0 || apps > 0 || engine?.connected === false ? 'degraded' : 'ok',
        ...(down.length > 0 ? { listenersDown: down } : {}),
        ...(apps > 0 ? { appWorkersDown: apps } : {}),
        ...(engine ? { engine } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
    });
  };
}
