/** JSON Schemas of the configuration write API (/config): they document it in the OpenAPI and fastify serializes with them. */
import type { ConfigKind } from '../config/write/index.js';
import { listenersReloadSchema, trustReloadSchema } from './schemas.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

/** Listed here rather than imported: the admin layer takes only types from config. Kept equal by a test. */
export const CONFIG_KIND_NAMES: readonly ConfigKind[] = ['tenants', 'tlsProfiles', 'tlsCiphers', 'trustpoints', 'trustStores', 'tlsPeers', 'dialPeers', 'permissions'];

/** Largest request body a configuration write takes. */
export const CONFIG_BODY_LIMIT = 64 * 1024;

const anyValue = {
  description: 'the entry as its file holds it (no defaults filled in): an object, or for tlsCiphers a list and for trustStores a path or a list',
  anyOf: [{ type: 'object', additionalProperties: true }, { type: 'array', items: {} }, { type: 'string' }],
} as const;

export const kindParams = {
  type: 'object', required: ['kind'], additionalProperties: false,
  properties: { kind: { type: 'string', enum: CONFIG_KIND_NAMES, description: 'a section of the configuration' } },
} as const;

export const entryParams = {
  type: 'object', required: ['kind', 'name'], additionalProperties: false,
  properties: {
    kind: kindParams.properties.kind,
    name: { type: 'string', minLength: 1, maxLength: 253, description: "the entry's name (a TLS peer's certificate identity, URL-encoded), or a dial peer's id" },
  },
} as const;

export const ifMatchHeaders = {
  type: 'object',
  properties: { 'if-match': { type: 'string', maxLength: 1024, description: 'the ETag of the entry as read (or *); required on PUT and DELETE' } },
} as const;

export const createBody = {
  type: 'object', required: ['value'], additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, description: 'the new entry\'s name (not for dialPeers: their value carries an id)' },
    value: anyValue,
  },
} as const;

export const replaceBody = {
  type: 'object', required: ['value'], additionalProperties: false,
  properties: { value: anyValue },
} as const;

export const configEntrySchema = {
  type: 'object',
  properties: {
    name: str, file: { type: 'string', description: 'the file in the profiles directory that holds it' }, line: int,
    etag: { type: 'string', description: 'what If-Match takes to change it' }, value: anyValue,
  },
} as const;

/** Profiles files whose entries a listing could not show, and why; a write to them is refused too. */
const unreadableFiles = {
  type: 'array', description: 'profiles files that could not be read or are not a YAML mapping: their entries are not listed',
  items: { type: 'object', properties: { file: str, reason: str } },
} as const;

export const configListSchema = {
  type: 'object',
  properties: {
    kind: str, etag: { type: 'string', description: 'the tag of the whole list' }, count: int, entries: { type: 'array', items: configEntrySchema },
    unreadable: unreadableFiles,
  },
} as const;

const problem = { type: 'object', properties: { code: str, message: str, file: str, line: int, path: str } } as const;

export const configWriteSchema = {
  type: 'object',
  properties: {
    op: { type: 'string', enum: ['create', 'replace', 'delete'] }, kind: str, name: str, file: str,
    entry: configEntrySchema,
    collectionEtag: str,
    method: { type: 'string', enum: ['in-place', 'rewritten'], description: 'in-place: only the entry\'s lines changed; rewritten: the file was written out again (comments kept)' },
    reload: {
      type: 'object',
      properties: {
        changed: { type: 'array', items: str }, applied: { type: 'array', items: str },
        needsRestart: { type: 'array', items: { type: 'object', properties: { what: str, reason: str } } },
        warnings: { type: 'array', items: problem },
        trust: trustReloadSchema,
        listeners: listenersReloadSchema,
      },
    },
  },
} as const;

/** A refusal: its code and, for 422 and 409 on a delete, every problem with its file, line and path. */
export const configErrorSchema = {
  type: 'object', required: ['code', 'message'],
  properties: {
    code: str, message: str,
    etag: { type: 'string', description: 'on 409 for a stale If-Match: the current tag' },
    file: { type: 'string', description: 'the profiles file in question: one that could not be read or parsed, or that changed on disk meanwhile (409); one not written, or not put back (500)' },
    backup: { type: 'string', description: 'on 500 ERR_CONFIG_RESTORE: the file beside it that holds its previous bytes' },
    problems: { type: 'array', items: problem, description: 'on 422: every problem, as `trunkgate config check` lists them' },
    referencedBy: { type: 'array', items: problem, description: 'on 409 for a delete: the places that still name the entry' },
  },
} as const;

export const configSummarySchema = {
  type: 'object',
  properties: {
    kinds: { type: 'array', items: { type: 'object', properties: { kind: str, count: int, etag: str } } },
    unreadable: unreadableFiles,
    writes: { type: 'object', additionalProperties: { type: 'object', additionalProperties: int }, description: 'writes by operation and outcome (done, or the refusal code)' },
  },
} as const;
