import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sourceAddress, type AdminRefusals } from './admin-refusals.js';
import type { AdminErrorCode } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check on every route but those listed as open: `Authorization: Bearer <token>`, compared in
 * constant time (over digests, so the length does not leak either). Each 401 is counted as `unauthorized`; the log
 * line says whether a token was given, never what it was. Without a token, requireLocalOrigin guards every route.
 */
export function requireToken(app: FastifyInstance, token: string | undefined, open: readonly string[], refusals: AdminRefusals): void {
  if (token === undefined || token === '') return requireLocalOrigin(app, refusals);
  const want = digest(token);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (open.includes(req.routeOptions.url ?? '')) return;
    const h = req.headers.authorization;
    const given = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), want)) return;
    const source = sourceAddress(req.socket.remoteAddress);
    const authorization = h === undefined ? 'none' : given === undefined ? 'not bearer' : 'another token';
    refusals.refused('unauthorized', source, { method: req.method, url: req.url.slice(0, 200), authorization },
      `admin: ${req.method} from ${source} refused 401: ${authorization === 'none' ? 'no Authorization header' : authorization === 'not bearer' ? 'an Authorization that is not Bearer' : 'a bearer token that is not the admin token'}`);
    await reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'ERR_ADMIN_UNAUTHORIZED', message: 'a bearer token is required' });
  });
}

/** A Host header as `host[:port]`: a name or IPv4 address, or an IPv6 address in brackets. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/;

/** The origin `http://<host>` when the Host header names loopback (127.x.x.x, [::1], localhost), any port. */
export function loopbackOrigin(host: string | undefined): string | undefined {
  if (host === undefined || !HOST.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  const h = url.hostname;
  return h === 'localhost' || h === '[::1]' || (isIP(h) === 4 && h.startsWith('127.')) ? url.origin : undefined;
}

/** Whether an Origin header is absent, or the very origin `want` (scheme, host and port). */
function sameOrigin(origin: string | undefined, want: string): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === want;
  } catch {
    return false; // `null` (a sandboxed or file: page), or not a URL
  }
}

/**
 * Without a token, the API answers only what a local client asks: a request whose Host is not a loopback name (a
 * page whose name was rebound to 127.0.0.1), or whose Origin is another site (any page in the operator's browser
 * posting to it), is refused 403 ERR_ADMIN_ORIGIN_REFUSED, counted as `origin` and logged once a minute. Every route
 * is guarded, /health and the console's files too; the console's own calls carry its origin, or none.
 */
export function requireLocalOrigin(app: FastifyInstance, refusals: AdminRefusals): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const { host, origin } = req.headers;
    const own = loopbackOrigin(host);
    if (own !== undefined && sameOrigin(origin, own)) return;
    const source = sourceAddress(req.socket.remoteAddress);
    const why = own === undefined ? `Host ${host === undefined ? '(none)' : host.slice(0, 100)} is not a loopback name` : `Origin ${origin!.slice(0, 100)} is another site`;
    refusals.refused('origin', source, { method: req.method, url: req.url.slice(0, 200), host: host?.slice(0, 100), origin: origin?.slice(0, 100) },
      `admin: ${req.method} from ${source} refused 403: ${why} (no admin token configured)`);
    const code: AdminErrorCode = 'ERR_ADMIN_ORIGIN_REFUSED';
    await reply.code(403).send({ code, message: `${why}: without an admin token, the API answers only requests to 127.0.0.1, [::1] or localhost from no other site` });
  });
}
