import { formatProblem, readAdminEndpoint, readEnvOverrides, resolveConfigDir } from '../config/index.js';
import type { ReloadProblem as Problem } from '../gateway-reload.js';

export interface ReloadIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

interface Report {
  ok: boolean;
  changed?: string[];
  applied?: string[];
  needsRestart?: { what: string; reason: string }[];
  problems?: Problem[];
  warnings?: Problem[];
  version?: number;
  added?: string[];
  removed?: string[];
  certificates?: { profile: string; kind: string; to: string }[];
}

const where = (p: Problem): string =>
  `${p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.profile ? `profile ${p.profile}: ` : ''}`;

/**
 * `trunkgate reload [--tls] [--profiles DIR] [--admin URL] [--json]`: asks the running gateway, through its
 * admin API, to read its configuration again (or, with --tls, only the TLS files) and prints what changed or
 * why it was refused. The admin address and token variable come from --admin or TRUNKGATE_ADMIN_URL, else
 * from `gateway.admin` in the profiles directory (read even when the rest of it is invalid).
 * Exit status: 0 applied, 1 refused, 2 the gateway could not be asked.
 */
export async function reloadCommand(args: readonly string[], io: ReloadIo): Promise<number> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const env = readEnvOverrides(io.env);
  if (!env.ok) {
    for (const p of env.problems) io.err(formatProblem(p));
    return 2;
  }
  const dir = resolveConfigDir(flag('--profiles'), io.env);
  const admin = readAdminEndpoint(dir);
  const override = flag('--admin') ?? env.value.TRUNKGATE_ADMIN_URL;
  if (!override && !admin.enabled) {
    io.err(`${dir}: the admin API is disabled (gateway.admin.enabled: false); send SIGHUP to the gateway process instead`);
    return 2;
  }
  const host = admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  const base = (override ?? `http://${host}:${env.value.TRUNKGATE_ADMIN_PORT ?? admin.port}`).replace(/\/$/, '');
  const url = `${base}${args.includes('--tls') ? '/reload/tls' : '/reload/config'}`;
  const token = io.env[admin.tokenEnv];
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(url, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (e) {
    io.err(`cannot reach the gateway's admin API at ${url}: ${(e as { cause?: Error }).cause?.message ?? (e as Error).message}`);
    return 2;
  }
  const text = await res.text();
  if (args.includes('--json')) io.out(text);
  let r: Report;
  try {
    r = JSON.parse(text) as Report;
  } catch {
    io.err(`${url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    return 2;
  }
  if (res.status !== 200 && res.status !== 422) {
    io.err(`${url}: HTTP ${res.status}: ${(r as { message?: string }).message ?? text.slice(0, 200)}`);
    return 2;
  }
  if (args.includes('--json')) return r.ok ? 0 : 1;
  for (const w of r.warnings ?? []) io.err(`warning: ${where(w)}${w.message} [${w.code}]`);
  if (!r.ok) {
    for (const p of r.problems ?? []) io.err(`${where(p)}${p.message} [${p.code}]`);
    io.err(`reload refused (${r.problems?.length ?? 0} problems); the gateway keeps its running configuration`);
    return 1;
  }
  if (r.changed !== undefined) {
    io.out(`configuration reloaded: ${r.changed.length > 0 ? `changed ${r.changed.join(', ')}` : 'no change'}` +
      `${r.applied && r.applied.length > 0 ? `; applied: ${r.applied.join(', ')}` : ''}`);
    for (const n of r.needsRestart ?? []) io.out(`needs restart: ${n.what}: ${n.reason}`);
  } else {
    io.out(`TLS profiles reloaded (version ${r.version}); added: ${r.added?.join(', ') || 'none'}; removed: ${r.removed?.join(', ') || 'none'}`);
    for (const c of r.certificates ?? []) io.out(`new ${c.kind} certificate for ${c.profile}: ${c.to}`);
  }
  return 0;
}
