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
