import { formatProblem, readAdminEndpoint, readEnvOverrides, resolveConfigDir } from '../config/index.js';

/** What a command that asks the running gateway writes to and reads from. */
export interface AdminIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

export interface AdminEndpoint {
  /** `http://host:port`, no trailing slash. */
  base: string;
  token?: string;
}

/**
 * Where the running gateway's admin API is, and its token: `--admin URL` or TRUNKGATE_ADMIN_URL, else
 * `gateway.admin` of the profiles directory (read even when the rest of it is invalid) with TRUNKGATE_ADMIN_PORT;
 * the token from the variable `gateway.admin.tokenEnv` names. Undefined (after saying why) when it cannot be asked.
 */
export function resolveAdminEndpoint(o: { profiles?: string | undefined; admin?: string | undefined }, io: AdminIo): AdminEndpoint | undefined {
  const env = readEnvOverrides(io.env);
  if (!env.ok) {
    for (const p of env.problems) io.err(formatProblem(p));
    return undefined;
  }
  const dir = resolveConfigDir(o.profiles, io.env);
  const admin = readAdminEndpoint(dir);
  const override = o.admin ?? env.value.TRUNKGATE_ADMIN_URL;
  if (!override && !admin.enabled) {
    io.err(`${dir}: the admin API is disabled (gateway.admin.enabled: false)`);
    return undefined;
  }
  const host = admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  const base = (override ?? `http://${host}:${env.value.TRUNKGATE_ADMIN_PORT ?? admin.port}`).replace(/\/$/, '');
  const token = io.env[admin.tokenEnv];
  return { base, ...(token ? { token } : {}) };
}

export type AdminAnswer = { ok: true; status: number; body: unknown; text: string } | { ok: false; message: string };

/** One request to the admin API; the answer's JSON, or why there is none (not reachable, not JSON). */
export async function adminRequest(endpoint: AdminEndpoint, method: 'GET' | 'POST' | 'DELETE', path: string, io: AdminIo): Promise<AdminAnswer> {
  const url = `${endpoint.base}${path}`;
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(url, { method, headers: endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {} });
  } catch (e) {
    return { ok: false, message: `cannot reach the gateway's admin API at ${url}: ${(e as { cause?: Error }).cause?.message ?? (e as Error).message}` };
  }
  const text = await res.text();
  try {
    return { ok: true, status: res.status, body: JSON.parse(text) as unknown, text };
  } catch {
    return { ok: false, message: `${url}: HTTP ${res.status}: ${text.slice(0, 200)}` };
  }
}

/** An error answer's `message [CODE]`. */
export function refusal(a: { status: number; body: unknown }): string {
  const b = a.body as { code?: unknown; message?: unknown } | null;
  return `${typeof b?.message === 'string' ? b.message : `HTTP ${a.status}`}${typeof b?.code === 'string' ? ` [${b.code}]` : ''}`;
}
