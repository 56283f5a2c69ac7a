import type { ReloadProblem as Problem } from '../gateway-reload.js';
import { adminRequest, resolveAdminEndpoint, type AdminIo } from './admin-client.js';

export type ReloadIo = AdminIo;

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
  listeners?: { bound: string[]; stillFailed: { id: string; error: string }[] };
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
  const endpoint = resolveAdminEndpoint({ profiles: flag('--profiles'), admin: flag('--admin') }, io);
  if (!endpoint) {
    io.err('(a gateway without its admin API reloads on SIGHUP)');
    return 2;
  }
  const path = args.includes('--tls') ? '/reload/tls' : '/reload/config';
  const a = await adminRequest(endpoint, 'POST', path, io);
  if (!a.ok) {
    io.err(a.message);
    return 2;
  }
  if (args.includes('--json')) io.out(a.text);
  const r = a.body as Report;
  if (a.status !== 200 && a.status !== 422) {
    io.err(`${endpoint.base}${path}: HTTP ${a.status}: ${(r as { message?: string }).message ?? a.text.slice(0, 200)}`);
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
    for (const id of r.listeners?.bound ?? []) io.out(`listener ${id} bound (it could not bind at start)`);
    for (const f of r.listeners?.stillFailed ?? []) io.err(`listener ${f.id} still cannot bind: ${f.error}`);
  } else {
    io.out(`TLS profiles reloaded (version ${r.version}); added: ${r.added?.join(', ') || 'none'}; removed: ${r.removed?.join(', ') || 'none'}`);
    for (const c of r.certificates ?? []) io.out(`new ${c.kind} certificate for ${c.profile}: ${c.to}`);
  }
  return 0;
}
