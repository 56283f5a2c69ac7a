import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
 * ERR_ADMIN_BODY_TOO_LARGE, any other as bad-request with ERR_ADMIN_REQUEST. Another 4xx without a code of ours
 * is answered ERR_ADMIN_REQUEST. Anything else is a 500 with its cause in the log.
 */
export function setAdminErrorHandler(app: FastifyInstance, refusals: AdminRefusals): void {
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      if (typeof err.code === 'string' && OWN_CODE.test(err.code)) return reply.code(status).send({ code: err.code, message: err.message });
      if (err.validation !== undefined || err.code?.startsWith('FST_')) return reply.code(status).send(refusedByFastify(err, status, req, refusals));
      const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
      return reply.code(status).send({ code, message: err.message });
    }
    req.log.error({ err, url: req.url }, 'admin: request failed');
    const code: AdminErrorCode = 'ERR_ADMIN_SERVICE';
    return reply.code(500).send({ code, message: err instanceof Error ? err.message : String(err) });
  });
}

/**
 * The longest path segment the router takes as a parameter, in UTF-16 units once decoded: every name a route's
 * schema allows fits (a configuration entry's name is at most 253 characters, each at most two units), so no
 * entry that can be created is out of reach. Fastify's default is 100.
 */
export const MAX_PARAM_LENGTH = 512;

/** Any route the API does not have: 404 in the API's shape (the token check, when one is set, has run first). */
export function setAdminNotFound(app: FastifyInstance): void {
  app.setNotFoundHandler(async (req, reply) => {
    const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
    return reply.code(404).send({ code, message: `no route ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 200)}` });
  });
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route or hook (a URL that does not decode, a path
 * segment over MAX_PARAM_LENGTH), answered with its status in the API's shape and counted as bad-request.
 */
export function frameworkErrors(refusals: AdminRefusals): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path segment is over ${MAX_PARAM_LENGTH} characters`
      : err.code === 'FST_ERR_BAD_URL' ? 'the URL does not decode' : err.message;
    void reply.code(status).send(refusedByFastify(err, status, req, refusals, message));
  };
}

/**
 * Node's `clientError`: a request the HTTP parser could not read (400), headers past its limit (431) or a request
 * not complete within its timeout (408), answered in the API's shape before the socket is closed, and counted and
 * logged as client-error (at most once a minute per source: a client sending garbage in a loop cannot flood the log).
 * A connection the client reset, or already gone, is neither answered nor counted.
 */
export function clientErrorReply(refusals: AdminRefusals): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] = /^ERR_HTTP_REQUEST_TIMEOUT$/.test(err.code ?? '') ? [408, 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'the request headers are over the limit'] : [400, 'not an HTTP request this server can read'];
    const source = sourceAddress(socket.remoteAddress);
    const why = err.code ?? err.name;
    refusals.refused('client-error', source, { status, why }, `admin: a request from ${source} refused ${status} before it was read: ${why}`);
    answerRaw(socket, status, message);
    socket.destroy(err);
  };
}

/** Writes the answer on the socket itself: fastify never saw the request, so there is no reply object. */
function answerRaw(socket: Socket, status: number, message: string): void {
  const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
  const body = JSON.stringify({ code, message });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
}

/** Counts and logs a refusal fastify made before any handler ran, and gives the body to answer it with. */
export function refusedByFastify(err: FastifyError, status: number, req: FastifyRequest, refusals: AdminRefusals, message = err.message): AdminErrorBody {
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
  return { code, message };
}

