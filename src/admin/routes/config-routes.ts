import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ConfigKind } from '../../config/write/index.js';
import type { AdminServices } from '../admin-services.js';
import {
  CONFIG_BODY_LIMIT, CONFIG_KIND_NAMES, configEntrySchema, configErrorSchema, configListSchema, configSummarySchema, configWriteSchema,
  createBody, entryParams, ifMatchHeaders, kindParams, replaceBody,
} from '../config-schemas.js';
import type { AdminErrorCode } from '../errors.js';

/**
 * The configuration write API: GET /config (a summary), GET /config/:kind, GET /config/:kind/:name, POST /config/:kind,
 * PUT /config/:kind/:name, DELETE /config/:kind/:name, for tenants, tlsProfiles, tlsCiphers, trustpoints, trustStores,
 * tlsPeers, dialPeers (keyed by id) and permissions. Each answer of one entry or list carries its ETag; PUT and
 * DELETE need If-Match (428 without it). A stale tag is answered 409 rather than RFC 9110's 412: the API keeps
 * 409 for every "someone else's state is in the way" (exists, stale, still referenced), with the current tag.
 */

/** Status of each refusal code of the write path. */
const STATUS: Record<string, number> = {
  ERR_CONFIG_NOT_FOUND: 404,
  ERR_CONFIG_EXISTS: 409,
  ERR_CONFIG_ETAG_MISMATCH: 409,
  ERR_CONFIG_IN_USE: 409,
  ERR_CONFIG_IF_MATCH_REQUIRED: 428,
  ERR_CONFIG_WRITE_BUSY: 429,
  ERR_CONFIG_INVALID: 422,
  ERR_CONFIG_APPLY_REFUSED: 422,
  // The state on disk is in the way, not the request: fix the file, then write again.
  ERR_CONFIG_FILE_UNREADABLE: 409,
  ERR_CONFIG_WRITE: 500,
  ERR_CONFIG_RESTORE: 500,
};

const e = configErrorSchema;
const createRefusals = { 409: e, 413: e, 422: e, 429: e } as const;
const replaceRefusals = { 404: e, 409: e, 413: e, 422: e, 428: e, 429: e } as const;
const deleteRefusals = { 404: e, 409: e, 422: e, 428: e, 429: e } as const;

type Params = { kind: ConfigKind; name: string };
type Body = { name?: string; value: unknown };

/** A refusal of the store (or its failure to write a file) as its status and body; anything else goes to the 500 handler. */
function refuse(reply: FastifyReply, e: unknown): FastifyReply {
  const code = (e as { code?: unknown }).code;
  const status = typeof code === 'string' ? STATUS[code] : undefined;
  if (status === undefined) throw e;
  if (status >= 500) reply.log.error({ err: e, code }, 'admin: configuration write failed');
  const details = ((e as { details?: Record<string, unknown> }).details ?? {});
  if (status === 429) void reply.header('retry-after', '1');
  const message = (e as Error).message.split('\n')[0]!;
  return reply.code(status).send({
    code, message,
    ...(typeof details.etag === 'string' ? { etag: details.etag } : {}),
    ...(typeof details.file === 'string' ? { file: details.file } : {}),
    ...(typeof details.backup === 'string' ? { backup: details.backup } : {}),
    ...(Array.isArray(details.problems) ? { problems: details.problems } : {}),
    ...(Array.isArray(details.referencedBy) ? { referencedBy: details.referencedBy } : {}),
  });
}

function badRequest(reply: FastifyReply, message: string): FastifyReply {
  const code: AdminErrorCode = 'ERR_ADMIN_REQUEST';
  return reply.code(400).send({ code, message });
}

/**
 * A dial peer's id as written in the URL, for an entry the files do not hold: a number when it reads back as the
 * same text (no leading zero), as the shipped files write it; else the text.
 */
const idValue = (name: string): string | number => (/^(0|[1-9]\d{0,14})$/.test(name) ? Number(name) : name);

/** The id of the dial peer the files hold under `name`, as written there (`007` stays a string, 7 a number). */
function existingId(get: () => { value: unknown }): unknown {
  try {
    const v = get().value;
    return v !== null && typeof v === 'object' ? (v as { id?: unknown }).id : undefined;
  } catch {
    return undefined;
  }
}

export function configRoutes(services: AdminServices): FastifyPluginAsync {
  return async (app) => {
    const store = () => services.configStore;
    const unwired = (reply: FastifyReply) => reply.code(501).send({ code: 'ERR_ADMIN_SERVICE', message: 'the configuration API is not wired in this gateway' });

    app.get('/config', {
      schema: { summary: 'Every kind the configuration API edits, with its count and ETag, and the writes so far by outcome', tags: ['config'], response: { 200: configSummarySchema } },
    }, async (_req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const lists = CONFIG_KIND_NAMES.map((kind) => ({ kind, l: s.list(kind) }));
      return {
        kinds: lists.map(({ kind, l }) => ({ kind, count: l.entries.length, etag: l.etag })),
        unreadable: lists[0]?.l.unreadable ?? [],
        writes: s.counts(),
      };
    });

    app.get('/config/:kind', {
      schema: { summary: 'The entries of one kind as the files hold them, each with its file, line and ETag; the list\'s ETag in the header', tags: ['config'], params: kindParams, response: { 200: configListSchema } },
    }, async (req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const { kind } = req.params as Params;
      const l = s.list(kind);
      return reply.header('etag', l.etag).send({ kind, etag: l.etag, count: l.entries.length, entries: l.entries, unreadable: l.unreadable });
    });

    app.get('/config/:kind/:name', {
      schema: { summary: 'One entry as its file holds it, with its file and line; its ETag in the header', tags: ['config'], params: entryParams, response: { 200: configEntrySchema, 404: configErrorSchema } },
    }, async (req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const { kind, name } = req.params as Params;
      try {
        const e = s.get(kind, name);
        return reply.header('etag', e.etag).send(e);
      } catch (e) {
        return refuse(reply, e);
      }
    });

    app.post('/config/:kind', {
      bodyLimit: CONFIG_BODY_LIMIT,
      schema: {
        summary: 'Create an entry (409 when the name or id exists): validated with the whole configuration as the loader does (422 with every problem), written into the file holding its kind, then reloaded',
        tags: ['config'], params: kindParams, headers: ifMatchHeaders, body: createBody, response: { 201: configWriteSchema, ...createRefusals },
      },
    }, async (req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const { kind } = req.params as Params;
      const body = req.body as Body;
      let name = body.name;
      if (kind === 'dialPeers') {
        const id = (body.value as { id?: unknown } | null)?.id;
        if (typeof id !== 'string' && typeof id !== 'number') return badRequest(reply, 'a dial peer\'s value needs its id');
        if (name !== undefined && name !== String(id)) return badRequest(reply, `name ${name} differs from the dial peer's id ${String(id)}`);
        name = String(id);
      } else if (name === undefined) return badRequest(reply, 'name is required');
      try {
        const r = await s.create(kind, name, body.value, req.headers['if-match']);
        if (r.entry) void reply.header('etag', r.entry.etag);
        return reply.code(201).header('location', `/config/${kind}/${encodeURIComponent(name)}`).send(r);
      } catch (e) {
        return refuse(reply, e);
      }
    });

    app.put('/config/:kind/:name', {
      bodyLimit: CONFIG_BODY_LIMIT,
      schema: {
        summary: 'Replace an entry; If-Match with its ETag is required (428 without, 409 when stale); validated, written in its own file with the rest of it untouched, then reloaded',
        tags: ['config'], params: entryParams, headers: ifMatchHeaders, body: replaceBody, response: { 200: configWriteSchema, ...replaceRefusals },
      },
    }, async (req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const { kind, name } = req.params as Params;
      let value = (req.body as Body).value;
      if (kind === 'dialPeers') {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return badRequest(reply, 'a dial peer is an object');
        const id = (value as { id?: unknown }).id;
        if (id !== undefined && String(id) !== name) return badRequest(reply, `the id ${String(id)} differs from the URL's ${name}: create the new id, delete the old`);
        // No id in the body: the entry keeps its own, as its file writes it.
        const kept = id ?? existingId(() => s.get(kind, name));
        value = { id: typeof kept === 'string' || typeof kept === 'number' ? kept : idValue(name), ...value };
      }
      try {
        const r = await s.replace(kind, name, value, req.headers['if-match']);
        if (r.entry) void reply.header('etag', r.entry.etag);
        return r;
      } catch (e) {
        return refuse(reply, e);
      }
    });

    app.delete('/config/:kind/:name', {
      schema: {
        summary: 'Delete an entry; If-Match with its ETag is required; refused with 409 and the referring paths while anything still names it',
        tags: ['config'], params: entryParams, headers: ifMatchHeaders, response: { 200: configWriteSchema, ...deleteRefusals },
      },
    }, async (req, reply) => {
      const s = store();
      if (!s) return unwired(reply);
      const { kind, name } = req.params as Params;
      try {
        return await s.remove(kind, name, req.headers['if-match']);
      } catch (e) {
        return refuse(reply, e);
      }
    });
  };
}
