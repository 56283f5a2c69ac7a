import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer-token check on every route but those listed as open: `Authorization: Bearer <token>`, compared in
 * constant time (over digests, so the length does not leak either). Without a token, nothing is checked.
 */
export function requireToken(app: FastifyInstance, token: string | undefined, open: readonly string[]): void {
  if (token === undefined || token === '') return;
  const want = digest(token);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (open.includes(req.routeOptions.url ?? '')) return;
    const h = req.headers.authorization;
    const given = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), want)) return;
    await reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'ERR_ADMIN_UNAUTHORIZED', message: 'a bearer token is required' });
  });
}
