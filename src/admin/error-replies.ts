import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { sourceAddress, type AdminRefusals } from './admin-refusals.js';
import type { AdminErrorCode } from './errors.js';

/** The shape of every refusal and failure the admin API answers: a code of the closed list and a message. */
export interface AdminErrorBody {
  code: string;
  message: string;
}

const OWN_CODE = /^(ERR|WARN)_/;

/**
 * The error handler of the whole API. A 4xx with a code of ours (a route's refusal) goes out as it is. A 4xx of
 * fastify's own (FST_ERR_*: a schema that refused the request, a body that is not JSON, a body over the route's
 * limit) is counted as a refusal and logged at most once a minute per source: 413 as body-too-large with
 * ERR_ADMIN_BODY_TOO_LARGE, any other as bad-request with ERR_ADMIN_REQUEST. Anything else is a 500 with its cause
 * in the log.
 */
export function setAdminErrorHandler(app: FastifyInstance, refusals: AdminRefusals): void {
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      if (typeof err.code === 'string' && OWN_CODE.test(err.code)) return reply.code(status).send({ code: err.code, message: err.message });
      return reply.code(status).send(refusedByFastify(err, status, req, refusals));
    }
    req.log.error({ err, url: req.url }, 'admin: request failed');
    const code: AdminErrorCode = 'ERR_ADMIN_SERVICE';
    return reply.code(500).send({ code, message: err instanceof Error ? err.message : String(err) });
  });
}

/** Counts and logs a refusal fastify made before any handler ran, and gives the body to answer it with. */
export function refusedByFastify(err: FastifyError, status: number, req: FastifyRequest, refusals: AdminRefusals): AdminErrorBody {
  const source = sourceAddress(req.socket?.remoteAddress);
  const where = { method: req.method, url: req.url.slice(0, 200) };
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = req.routeOptions.bodyLimit;
    refusals.refused('body-too-large', source, { ...where, limit }, `admin: ${req.method} ${where.url} from ${source} refused 413: the body is over the route's limit of ${limit} bytes`);
    const code: AdminErrorCode = 'ERR_ADMIN_BODY_TOO_LARGE';
    return { code, message: `the request body is over this route's limit of ${limit} bytes` };
  }
  // A schema's message names the part and the rule, never the value; other messages (JSON.parse's) may quote the body.
  const why = err.validation ? err.message.slice(0, 200) : err.code ?? err.name;
  refusals.refused('bad-request', source, { ...where, status, why }, `admin: ${req.method} ${where.url} from ${source} refused ${status}: ${why}`);
  const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
  return { code, message: err.message };
}

