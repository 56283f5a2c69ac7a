import type { RouteOptions } from 'fastify';
import { errorSchema } from './schemas.js';

/** The tags the routes use, each described (the OpenAPI document lists them in this order). */
export const OPENAPI_TAGS = [
  { name: 'meta', description: 'Liveness and standing warnings' },
  { name: 'engine', description: 'The SIP engine: connections, listeners, TLS profiles and handshake failures' },
  { name: 'b2bua', description: 'Calls, trunk state and counters of the b2bua apps' },
  { name: 'tls', description: 'Certificates in use and probing a TLS far end' },
  { name: 'pki', description: 'Certificate tasks: CA export, CSR, import, trust stores' },
  { name: 'reload', description: 'Reloading the configuration or the TLS files' },
  { name: 'config', description: 'Configuration objects in profiles/: list, get, create, replace, delete (ETag / If-Match), validated and applied by the reload path' },
  { name: 'metrics', description: 'Prometheus exposition' },
];

type Schema = { params?: unknown; querystring?: unknown; body?: unknown; response?: Record<string, unknown>; operationId?: string; hide?: boolean };

/** `DELETE /pki/trust/:store/:sha256` → `deletePkiTrustByStoreBySha256`: stable, URL-safe, one per route. */
export function operationId(method: string, url: string): string {
  const words = url.split('/').filter((w) => w !== '').map((w) => {
    const name = w.startsWith(':') ? w.slice(1) : w;
    const cap = name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
    return w.startsWith(':') ? `By${cap}` : cap;
  });
  return `${method.toLowerCase()}${words.join('')}`;
}

/**
 * Completes a route's OpenAPI description as it is added: an operationId, 400 when it validates a request part,
 * 413 when it takes a body, 401 unless it is open (the token check answers every other route 401 when a token is
 * set), and 403 on every route (without a token, a request to a Host that is not loopback or from another site).
 */
export function describeRoute(route: RouteOptions, open: readonly string[]): void {
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  if (method === 'HEAD') return;
  const schema = (route.schema ??= {}) as Schema;
  if (schema.hide) return;
  schema.operationId ??= operationId(method, route.url);
  const response = (schema.response ??= {});
  if ((schema.params || schema.querystring || schema.body) && !('400' in response)) response[400] = errorSchema;
  if (schema.body && !('413' in response)) response[413] = { ...errorSchema, description: 'a body over the route\'s limit (ERR_ADMIN_BODY_TOO_LARGE)' };
  if (!('403' in response)) response[403] = { ...errorSchema, description: 'no token configured: a Host that is not loopback, or an Origin of another site (ERR_ADMIN_ORIGIN_REFUSED)' };
  if (!open.includes(route.url) && !('401' in response)) response[401] = { ...errorSchema, description: 'no bearer token, or another one (ERR_ADMIN_UNAUTHORIZED)' };
}
