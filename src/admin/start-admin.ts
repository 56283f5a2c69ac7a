import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../common/index.js';
import type { AdminServices } from './admin-services.js';
import { buildAdmin, type AdminOptions } from './build-admin.js';
import type { AdminErrorCode } from './errors.js';

export interface AdminListenOptions extends AdminOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface AdminServer {
  app: FastifyInstance;
  address: { host: string; port: number };
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** True for 127.0.0.0/8 and ::1 (and ::ffff:127.x). */
export function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  const h = host.toLowerCase();
  return h === '::1' || h.startsWith('::ffff:127.');
}

/**
 * Builds the admin API and listens. It stays on loopback unless configured otherwise, and refuses to listen
 * beyond loopback without a token (ERR_ADMIN_TOKEN_REQUIRED): reload and the connection table are not for the
 * network at large.
 */
export async function startAdmin(services: AdminServices, opts: AdminListenOptions = {}): Promise<AdminServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.token) {
    throw new GatewayError<AdminErrorCode>('ERR_ADMIN_TOKEN_REQUIRED',
      `admin API on ${host}: an address beyond loopback needs a token (set the variable gateway.admin.tokenEnv names)`, { details: { host } });
  }
  const app = await buildAdmin(services, opts);
  await app.listen({ host, port: opts.port ?? 8080 });
  const a = app.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : opts.port ?? 8080;
  let closing: Promise<void> | undefined;
  return {
    app,
    address: { host, port },
    close: () => (closing ??= app.close()),
  };
}
