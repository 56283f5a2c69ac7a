import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sourceAddress, type AdminRefusals } from './admin-refusals.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check on every route but those listed as open: `Authorization: Bearer <token>`, compared in
 * constant time (over digests, so the length does not leak either). Without a token, nothing is checked. Each 401
 * is counted as `unauthorized`; the log line says whether a token was given, never what it was.
 */
export function requireToken(app: FastifyInstance, token: string | undefined, open: readonly string[], refusals: AdminRefusals): void {
  if (token === undefined || token === '') return;
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
