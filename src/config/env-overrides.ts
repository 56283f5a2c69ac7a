import { z } from 'zod';
import { PortSchema } from './common-schema.js';
import { PrewarmCallsSchema } from './gateway-schema.js';
import type { ConfigProblem } from './errors.js';

/** pino's levels: what TRUNKGATE_LOG_LEVEL may name. */
export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A port written in an environment variable: decimal digits, then the same PortSchema the files use. */
const PortText = z.string().regex(/^[0-9]{1,5}$/, { error: 'a port number (decimal digits)' }).transform(Number).pipe(PortSchema);

/**
 * The environment variables that override the configuration files, checked by the same schemas as the files
 * (a port is a PortSchema here as in gateway.yaml). An empty variable counts as unset.
 */
export const EnvOverridesSchema = z.object({
  TRUNKGATE_PROFILES: z.string().optional(),
  TRUNKGATE_CONTROL_PORT: PortText.optional(),
  TRUNKGATE_ADMIN_PORT: PortText.optional(),
  // The control protocol separates fields with '|' and ends lines with CRLF: a secret may hold neither.
  TRUNKGATE_ENGINE_SECRET: z.string().regex(/^[\x21-\x7b\x7d\x7e]{8,256}$/, {
    error: "8 to 256 printable ASCII characters, no space and no '|'",
  }).optional(),
  TRUNKGATE_LOG_LEVEL: LogLevelSchema.optional(),
  /** json (lines for a collector) or pretty (for a person); unset: pretty on a terminal, json otherwise. */
  TRUNKGATE_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /** Overrides gateway.engine.prewarmCalls (0 turns the pre-warm off), within the same bounds. */
  TRUNKGATE_PREWARM_CALLS: z.string().regex(/^[0-9]{1,6}$/, { error: 'a number of calls (decimal digits)' }).transform(Number)
    .pipe(PrewarmCallsSchema).optional(),
  TRUNKGATE_ADMIN_URL: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
});

export type EnvOverrides = z.output<typeof EnvOverridesSchema>;

export type EnvOverridesResult = { ok: true; value: EnvOverrides } | { ok: false; problems: ConfigProblem[] };

/** Reads and checks the overrides; each bad variable is one problem naming it, with file `environment`. */
export function readEnvOverrides(env: Readonly<Record<string, string | undefined>>): EnvOverridesResult {
  const present: Record<string, string> = {};
  for (const key of Object.keys(EnvOverridesSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') present[key] = v;
  }
  const r = EnvOverridesSchema.safeParse(present);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({
      code: 'ERR_CONFIG_SCHEMA' as const,
      file: 'environment',
      path: String(i.path[0] ?? ''),
      message: i.message,
    })),
  };
}

/** The variables that stand for a port of gateway.yaml, and the setting each replaces. */
export const PORT_OVERRIDES = {
  TRUNKGATE_ADMIN_PORT: ['gateway', 'admin', 'port'],
  TRUNKGATE_CONTROL_PORT: ['gateway', 'engine', 'control', 'port'],
} as const;

export type PortOverrideVariable = keyof typeof PORT_OVERRIDES;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The object under `key`, made when absent (as `made`); undefined when something else is written there. */
function child(parent: Record<string, unknown>, key: string, made: Record<string, unknown> = {}): Record<string, unknown> | undefined {
  if (parent[key] === undefined || parent[key] === null) parent[key] = made;
  const v = parent[key];
  return isObject(v) ? v : undefined;
}

/**
 * Writes the environment's ports into the merged files (`raw`, before the schema), so the schema and the socket
 * checks judge the ports the gateway binds. Returns the bad variables as problems, and the settings replaced
 * (`gateway.admin.port` → its variable). The control port is the embedded engine's only: drachtio-server's is as
 * configured. A setting written as something else than an object on the way is left to the schema.
 */
export function applyPortOverrides(raw: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): {
  problems: ConfigProblem[];
  replaced: Map<string, PortOverrideVariable>;
} {
  const replaced = new Map<string, PortOverrideVariable>();
  const present: Record<string, string | undefined> = {};
  for (const k of Object.keys(PORT_OVERRIDES)) present[k] = env[k];
  const r = readEnvOverrides(present);
  if (!r.ok) return { problems: r.problems, replaced };
  const { TRUNKGATE_ADMIN_PORT: admin, TRUNKGATE_CONTROL_PORT: control } = r.value;
  if (admin === undefined && control === undefined) return { problems: [], replaced };
  const gateway = child(raw, 'gateway');
  if (gateway === undefined) return { problems: [], replaced };
  const adminAt = admin !== undefined ? child(gateway, 'admin') : undefined;
  if (adminAt !== undefined) {
    adminAt.port = admin;
    replaced.set(PORT_OVERRIDES.TRUNKGATE_ADMIN_PORT.join('.'), 'TRUNKGATE_ADMIN_PORT');
  }
  const engine = control !== undefined ? child(gateway, 'engine', { mode: 'embedded' }) : undefined;
  const controlAt = engine !== undefined && (engine.mode ?? 'embedded') === 'embedded' ? child(engine, 'control') : undefined;
  if (controlAt !== undefined) {
    controlAt.port = control;
    replaced.set(PORT_OVERRIDES.TRUNKGATE_CONTROL_PORT.join('.'), 'TRUNKGATE_CONTROL_PORT');
  }
  return { problems: [], replaced };
}
