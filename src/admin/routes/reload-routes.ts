import type { FastifyPluginAsync } from 'fastify';
import { sourceAddress, type AdminRefusals } from '../admin-refusals.js';
import type { AdminServices, TlsProbeRequest } from '../admin-services.js';
import type { ErrorCode } from '../../error-codes.js';
import type { AdminErrorCode } from '../errors.js';
import { configReloadSchema, errorSchema, tlsReloadAnswerSchema } from '../schemas.js';

/** What a refused reload (422) carries on top of its report: a code and a sentence, as every refusal of the API. */
function refusal(code: ErrorCode, what: string, problems: readonly { message: string; path?: string; profile?: string }[]): { code: ErrorCode; message: string } {
  const first = problems[0];
  const n = problems.length;
  const why = first ? `: ${first.path ? `${first.path}: ` : ''}${first.profile ? `profile ${first.profile}: ` : ''}${first.message.split('\n')[0]}${n > 1 ? ` (and ${n - 1} more)` : ''}` : '';
  return { code, message: `${what} refused; the running one stays${why}` };
}

/**
 * POST /reload/tls and POST /reload/config: 200 with what changed, or 422 with every reason the running
 * set was kept. POST /tls/probe: a probe from the gateway, one at a time.
 */
export function reloadRoutes(services: AdminServices, refusals: AdminRefusals): FastifyPluginAsync {
  return async (app) => {
    app.post('/reload/tls', {
      schema: {
        summary: 'Rebuild the TLS profiles from their files (trustpoints, trust stores, CRLs); validated before the swap',
        tags: ['reload'],
        response: { 200: tlsReloadAnswerSchema, 422: tlsReloadAnswerSchema },
      },
    }, async (_req, reply) => {
      const r = await services.reloadTls();
      if (r.ok) return reply.code(200).send(r);
      return reply.code(422).send({ ...r, ...refusal('ERR_TLS_PROFILE_INVALID', 'the TLS profiles were', r.problems) });
    });

    // One probe at a time: each is some forty handshakes to one far end. Another meanwhile is answered 429, counted
    // (tls-probe-busy in adminRefused) and logged at most once a minute per source, so a console or script asking
    // again and again is seen without a line per try.
    let probing = false;
    app.post('/tls/probe', {
      schema: {
        summary: 'Probe a TLS far end (trunkgate tls probe): versions, suites, chain, identities, client-certificate demand and the CAs named for it, stapled OCSP status, revocation pointers, a profile\'s verdict',
        tags: ['tls'],
        body: {
          type: 'object', required: ['host', 'port'], additionalProperties: false,
          properties: {
            host: { type: 'string', minLength: 1, maxLength: 253 }, port: { type: 'integer', minimum: 1, maximum: 65535 },
            sni: { type: 'string', minLength: 1, maxLength: 253 }, profile: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: {
          200: { type: 'object', additionalProperties: true, description: 'the report of trunkgate tls probe --json' },
          422: errorSchema, 429: errorSchema, 501: errorSchema,
        },
      },
    }, async (req, reply) => {
      if (!services.probeTls) return reply.code(501).send({ code: 'ERR_ADMIN_SERVICE', message: 'probing is not wired in this gateway' });
      if (probing) {
        const code: AdminErrorCode = 'ERR_ADMIN_TLS_PROBE_BUSY';
        const source = sourceAddress(req.socket.remoteAddress);
        refusals.refused('tls-probe-busy', source, { url: req.url.slice(0, 200) }, `admin: POST /tls/probe from ${source} refused 429: a probe is already running (one at a time)`);
        return reply.code(429).header('retry-after', '5').send({ code, message: 'a probe is already running' });
      }
      probing = true;
      try {
        return await services.probeTls(req.body as TlsProbeRequest);
      } catch (e) {
        return reply.code(422).send({ code: 'ERR_ADMIN_REQUEST', message: (e as Error).message });
      } finally {
        probing = false;
      }
    });

    app.post('/reload/config', {
      schema: {
        summary: 'Read profiles/ again: routing, TLS profiles and trusted sources swapped when valid; listener changes reported as needing a restart',
        tags: ['reload'],
        response: { 200: configReloadSchema, 422: configReloadSchema },
      },
    }, async (_req, reply) => {
      const r = await services.reloadConfig();
      if (r.ok) return reply.code(200).send(r);
      return reply.code(422).send({ ...r, ...refusal('ERR_CONFIG_INVALID', 'the configuration was', r.problems) });
    });
  };
}
