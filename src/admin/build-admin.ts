import type { ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/index.js';
import type { AdminServices } from './admin-services.js';
import { AdminActions } from './admin-actions.js';
import { AdminRefusals } from './admin-refusals.js';
import { capConnections, DEFAULT_ADMIN_CONNECTION_LIMITS } from './connection-cap.js';
import { describeRoute, OPENAPI_TAGS } from './openapi-doc.js';
import { requireToken } from './auth.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';
import { clientErrorReply, frameworkErrors, MAX_PARAM_LENGTH, setAdminErrorHandler, setAdminNotFound } from './error-replies.js';
import { b2buaRoutes } from './routes/b2bua-routes.js';
import { callsRoutes } from './routes/calls-routes.js';
import { cdrRoutes } from './routes/cdr-routes.js';
import { configRoutes } from './routes/config-routes.js';
import { consoleRoutes } from './routes/console-routes.js';
import { engineRoutes } from './routes/engine-routes.js';
import { healthRoute } from './routes/health-route.js';
import { metricsRoute } from './routes/metrics-route.js';
import { pkiRoutes } from './routes/pki-routes.js';
import { reloadRoutes } from './routes/reload-routes.js';

export interface AdminOptions {
  /**
   * Bearer token every route but /health, /openapi.json and the console's files asks for. Absent: none asked, and
   * every route answers only a Host that names loopback and no Origin of another site (auth.ts).
   */
  token?: string;
  log?: Logger;
  /** Node process metrics (heap, event loop, CPU) in /metrics too. Default true. */
  processMetrics?: boolean;
  /** Standing warnings of the running configuration (e.g. policy bridge), shown by /health. */
  warnings?: readonly { code: string; message: string }[];
  /**
   * When the routes' schemas are compiled: at each route's first request (default; lazy-schema-compilers.ts), or all
   * at `ready()` as fastify does by default (a test checks every schema compiles).
   */
  schemas?: 'lazy' | 'at-start';
  /** Connections open at once while listening, all sources together (default 64; gateway.admin.maxConnections). */
  maxConnections?: number;
  /** Of those, from one source address (default 16; gateway.admin.maxConnectionsPerSource). */
  maxConnectionsPerSource?: number;
  /** The server's timeouts, each in place of its ADMIN_TIMEOUTS default (tests use short ones). */
  timeouts?: Partial<AdminTimeouts>;
}

export interface AdminTimeouts {
  connection: number;
  request: number;
  headers: number;
  keepAlive: number;
  response: number;
  check: number;
}

/**
 * Timeouts of the listening server, in ms. connection: a socket silent this long is closed (fastify's default is
 * never); request: the whole request, body included, must arrive within it, and its headers within headers (a
 * connection that sends nothing at all is closed then too); keepAlive: an idle connection between requests;
 * response: a response not delivered this long after it started is cut off with its socket, since a client that
 * reads a byte now and then keeps the socket from ever going silent. Headers and request are checked every `check`
 * ms. With the connection caps they bound how long a slow or silent client can hold a slot.
 */
export const ADMIN_TIMEOUTS: Readonly<AdminTimeouts> = { connection: 15_000, request: 15_000, headers: 5_000, keepAlive: 5_000, response: 30_000, check: 1_000 };

// The console's static files hold no secret: its pages ask for the token and send it with every API call.
const OPEN_ROUTES = ['/health', '/openapi.json', '/console', '/console/', '/console/*'];

/**
 * The admin API as a fastify instance, built but not listening (fastify's build-then-listen: tests use
 * `inject()`, `startAdmin` listens). One plugin per resource; the OpenAPI description is at /openapi.json.
 */
export async function buildAdmin(services: AdminServices, opts: AdminOptions = {}): Promise<FastifyInstance> {
  const timeouts = { ...ADMIN_TIMEOUTS, ...opts.timeouts };
  const refusals = new AdminRefusals(opts.log?.child({ component: 'admin' }));
  const app = Fastify({
    ...(opts.log ? { loggerInstance: opts.log.child({ component: 'admin' }) } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    connectionTimeout: timeouts.connection,
    requestTimeout: timeouts.request,
    keepAliveTimeout: timeouts.keepAlive,
    // Node looks for requests past their time every connectionsCheckingInterval (30 s by its default).
    http: { headersTimeout: timeouts.headers, requestTimeout: timeouts.request, connectionsCheckingInterval: timeouts.check },
    ...(opts.schemas === 'at-start' ? {} : { schemaController: { compilersFactory: lazySchemaCompilers } }),
    // Every answer is the API's own ({code, message}, a code of the closed list), the router's and Node's included.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrors(refusals),
    clientErrorHandler: clientErrorReply(refusals),
  }) as unknown as FastifyInstance;
  // The response deadline runs from the reply's send, so a handler that takes long (a TLS probe) is not cut short.
  app.addHook('onSend', (_req, reply, payload, done) => {
    responseDeadline(reply.raw, timeouts.response);
    done(null, payload);
  });
  app.addHook('onClose', async () => refusals.close());
  const cap = capConnections(app.server, {
    maxConnections: opts.maxConnections ?? DEFAULT_ADMIN_CONNECTION_LIMITS.maxConnections,
    maxConnectionsPerSource: opts.maxConnectionsPerSource ?? DEFAULT_ADMIN_CONNECTION_LIMITS.maxConnectionsPerSource,
  }, refusals);
  app.addHook('preClose', async () => cap.closeUnused());
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'trunkgate admin API',
        description: 'Connection table, listeners, live calls, TLS profiles and counters, trunk state, statistics, Prometheus metrics, '
          + 'reload and certificate tasks of a running trunkgate. Every route but /health needs `Authorization: Bearer <token>` '
          + 'when the gateway has a token (the variable gateway.admin.tokenEnv names). Without one, nothing is asked, and every route '
          + 'answers only a request whose Host is 127.x.x.x, [::1] or localhost and whose Origin, if any, is that same origin '
          + '(403 ERR_ADMIN_ORIGIN_REFUSED otherwise).',
        version: '0.1.0',
        license: { name: 'MIT', url: 'https://spdx.org/licenses/MIT.html' },
      },
      // The document is served by the API it describes: relative to where it was fetched from.
      servers: [{ url: '/', description: 'this admin API (the address /openapi.json was fetched from)' }],
      tags: OPENAPI_TAGS,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token (gateway.admin.tokenEnv)' } } },
      security: [{ bearer: [] }],
    },
  });
  // Every route says what it can answer besides its own results: 400 for a refused request, 401 without the token,
  // 403 from another site when no token is set, 413 for a body over its limit.
  app.addHook('onRoute', (route) => describeRoute(route, OPEN_ROUTES));
  const actions = new AdminActions();
  requireToken(app, opts.token, OPEN_ROUTES, refusals);
  setAdminErrorHandler(app, refusals);
  setAdminNotFound(app);

  const warnings = (opts.warnings ?? []).map((w) => ({ code: w.code, message: w.message }));
  await app.register(healthRoute(services, warnings));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(engineRoutes(services, actions));
  await app.register(b2buaRoutes(services, actions, refusals));
  await app.register(callsRoutes(services, actions));
  await app.register(metricsRoute(services, actions, refusals, opts.processMetrics !== undefined ? { processMetrics: opts.processMetrics } : {}));
  await app.register(reloadRoutes(services, refusals));
  await app.register(pkiRoutes(services, refusals));
  await app.register(configRoutes(services));
  await app.register(cdrRoutes(services, refusals));
  await app.register(consoleRoutes());
  return app;
}

/** Destroys the socket of `res` unless the response is delivered (or the connection gone) within `ms`. */
function responseDeadline(res: ServerResponse, ms: number): void {
  if (res.writableFinished) return;
  const timer = setTimeout(() => res.socket?.destroy(), ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  res.once('finish', clear);
  res.once('close', clear);
}
