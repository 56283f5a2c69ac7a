import type { FastifyPluginAsync } from 'fastify';
import { sourceAddress, type AdminRefusals } from '../admin-refusals.js';
import type { AdminServices } from '../admin-services.js';
import { readCdrs, type CdrQuery } from '../cdr-reader.js';
import type { AdminErrorCode } from '../errors.js';
import { errorSchema } from '../schemas.js';

/** Most records one answer holds, and the most of the CDR files one request reads (newest first). */
export const CDR_LIMIT_MAX = 1000;
export const CDR_SCAN_BYTES = 32 * 1024 * 1024;

const time = { type: 'string', maxLength: 40, description: 'ISO 8601 time, or ms since the epoch' } as const;

const querystring = {
  type: 'object', additionalProperties: false,
  properties: {
    from: { ...time, description: 'calls that ended at or after this time (ISO 8601, or ms since the epoch)' },
    to: { ...time, description: 'calls that ended at or before this time' },
    number: { type: 'string', minLength: 1, maxLength: 64, description: 'a part of the calling or called number' },
    cause: { type: 'string', minLength: 1, maxLength: 64, description: 'the cause (normal, admin, no-route…), or its family (denied)' },
    limit: { type: 'integer', minimum: 1, maximum: CDR_LIMIT_MAX, description: 'most records answered (default 100)' },
  },
} as const;

const cdrsSchema = {
  type: 'object',
  properties: {
    file: { type: 'string', description: 'the CDR file read (its rotated files beside it are read after it)' },
    count: { type: 'integer' },
    truncated: { type: 'boolean', description: 'the limit or the scan bound was reached: older records may match too' },
    scannedBytes: { type: 'integer' },
    skippedLines: { type: 'integer', description: 'lines passed over: longer than 64 KiB, or not a JSON object (a torn write)' },
    cdrs: { type: 'array', items: { type: 'object', additionalProperties: true, description: 'a CDR as the file holds it' } },
  },
} as const;

function parseTime(s: string | undefined): number | undefined | null {
  if (s === undefined || s === '') return undefined;
  const n = /^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * GET /cdrs: the records of the gateway's JSON-lines CDR file (and its rotated files), newest first, filtered by end
 * time, number and cause; read-only and bounded (at most 1,000 records, 32 MiB read per request). Without a CDR
 * file (cdr.file disabled), an empty list. One scan runs at a time (it parses on the b2bua's thread): a request
 * meanwhile is answered 429 with Retry-After, counted (cdr-scan-busy in adminRefused) and logged at most once a minute
 * per source, so a console polling hard is seen without a line per poll.
 */
export function cdrRoutes(services: AdminServices, refusals: AdminRefusals): FastifyPluginAsync {
  return async (app) => {
    let scanning = false;
    app.get('/cdrs', {
      schema: {
        summary: 'Call detail records from the CDR file, newest first: filtered by end time (from, to), a number, a cause; at most limit (default 100)',
        tags: ['b2bua'], querystring, response: { 200: cdrsSchema, 400: errorSchema, 429: errorSchema },
      },
    }, async (req, reply) => {
      const q = req.query as { from?: string; to?: string; number?: string; cause?: string; limit?: number };
      const [from, to] = [parseTime(q.from), parseTime(q.to)];
      if (from === null || to === null) {
        const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
        return reply.code(400).send({ code, message: `${from === null ? 'from' : 'to'}: not a time (ISO 8601, or ms since the epoch)` });
      }
      const path = services.cdr?.().file?.path;
      if (path === undefined) return { count: 0, truncated: false, scannedBytes: 0, skippedLines: 0, cdrs: [] };
      if (scanning) {
        const code: AdminErrorCode = 'ERR_ADMIN_CDR_SCAN_BUSY';
        const source = sourceAddress(req.socket.remoteAddress);
        refusals.refused('cdr-scan-busy', source, { url: req.url.slice(0, 200) }, `admin: GET /cdrs from ${source} refused 429: a CDR scan is already running (one at a time)`);
        return reply.code(429).header('retry-after', '1').send({ code, message: 'a CDR scan is already running' });
      }
      const query: CdrQuery = {
        limit: q.limit ?? 100,
        ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}),
        ...(q.number !== undefined ? { number: q.number } : {}), ...(q.cause !== undefined ? { cause: q.cause } : {}),
      };
      scanning = true;
      try {
        const r = await readCdrs(path, query, CDR_SCAN_BYTES);
        return { file: path, count: r.cdrs.length, truncated: r.truncated, scannedBytes: r.scannedBytes, skippedLines: r.skippedLines, cdrs: r.cdrs };
      } finally {
        scanning = false;
      }
    });
  };
}
