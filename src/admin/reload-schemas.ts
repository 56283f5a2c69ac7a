/** The answers of the reload routes (POST /reload/tls, /reload/config), in the same JSON Schema terms as schemas.ts. */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;

const problemSchema = {
  type: 'object',
  properties: { code: str, message: str, file: str, line: int, path: str, profile: str },
} as const;

/** A refused reload (422): the refusal's code and sentence, as every refusal of the API carries them. */
const refusalProperties = (code: string) => ({
  code: { type: 'string', description: `on a 422 only: ${code}` },
  message: { type: 'string', description: 'on a 422 only: why, with the first problem' },
} as const);

export const tlsReloadSchema = {
  type: 'object',
  properties: {
    ok: bool, trigger: str, version: int, profiles: strings, added: strings, removed: strings,
    certificates: {
      type: 'array',
      items: { type: 'object', properties: { profile: str, kind: str, from: str, to: str } },
    },
    problems: { type: 'array', items: problemSchema },
    warnings: { type: 'array', items: problemSchema },
  },
} as const;

/** The answer of POST /reload/tls: the report, with the refusal's code and message on a 422. */
export const tlsReloadAnswerSchema = {
  ...tlsReloadSchema,
  properties: { ...tlsReloadSchema.properties, ...refusalProperties('ERR_TLS_PROFILE_INVALID') },
} as const;

/** The trusted-source part of a configuration reload (the engine's source check and proxy identity rules). */
export const trustReloadSchema = {
  type: 'object',
  description: 'present when the reload changed the trust plan: applied (ok), or why the running plan stays',
  properties: {
    ok: bool, tenants: int, hosts: int,
    unresolved: { ...strings, description: 'host names that did not resolve: one known before keeps its last addresses' },
    problems: { type: 'array', items: problemSchema },
  },
} as const;

/** The listener part of a configuration reload: those that could not bind at start, tried again. */
export const listenersReloadSchema = {
  type: 'object',
  description: 'present when tenant listeners could not bind at start: each was tried again with the spec it had then',
  properties: {
    bound: { ...strings, description: 'listener ids that bound now and serve their tenant' },
    stillFailed: { type: 'array', items: { type: 'object', properties: { id: str, error: str } }, description: 'those that still cannot bind, with the OS error' },
  },
} as const;

export const configReloadSchema = {
  type: 'object',
  properties: {
    ok: bool, trigger: str, changed: strings, applied: strings,
    needsRestart: { type: 'array', items: { type: 'object', properties: { what: str, reason: str } } },
    problems: { type: 'array', items: problemSchema },
    warnings: { type: 'array', items: problemSchema },
    ...refusalProperties('ERR_CONFIG_INVALID'),
    tls: tlsReloadSchema,
    trust: trustReloadSchema,
    listeners: listenersReloadSchema,
  },
} as const;
