import { parseArgs } from 'node:util';
import { clearedHow } from '../admin/call-schemas.js';
import type { ConnectionInfo } from '../sip/transport/index.js';
import { adminRequest, refusal, resolveAdminEndpoint, type AdminEndpoint, type AdminIo } from './admin-client.js';
import { parseHostPort } from './pki-remote.js';
import { hostPort } from './table.js';
import { withoutControls } from '../common/printable.js';

export const CLEAR_USAGE = `Usage:
  trunkgate clear call ID                         BYE on both legs of a live call (trunkgate show calls gives IDs)
  trunkgate clear connection ID                   close one TCP/TLS connection (trunkgate show connections)
  trunkgate clear connection --remote ADDR:PORT   close every connection with that far end
Options: --json (the admin API's answers as they are), --profiles DIR, --admin URL`;

/**
 * `trunkgate clear call ID | connection ID | connection --remote ADDR:PORT`: asks the running gateway's admin API
 * to end a call or close connections. Exit status: 0 done, 1 refused (no such call or connection, a call already
 * ending), 2 a usage error or the gateway could not be asked.
 */
export async function clearCommand(args: readonly string[], io: AdminIo): Promise<number> {
  let r;
  try {
    r = parseArgs({
      args: [...args], allowPositionals: true, strict: true,
      options: { remote: { type: 'string' }, json: { type: 'boolean' }, profiles: { type: 'string' }, admin: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.err(`trunkgate clear: ${(e as Error).message}\n\n${CLEAR_USAGE}`);
    return 2;
  }
  if (r.values.help) {
    io.out(CLEAR_USAGE);
    return 0;
  }
  const usage = (message: string): number => {
    io.err(`trunkgate clear: ${message}\n\n${CLEAR_USAGE}`);
    return 2;
  };
  const [what, id, extra] = r.positionals;
  if (extra !== undefined) return usage(`unexpected argument '${extra}'`);
  if (what !== 'call' && what !== 'connection') return usage(what === undefined ? 'clear what?' : `unknown resource '${what}'`);
  const remote = r.values.remote !== undefined ? parseHostPort(r.values.remote) : undefined;
  if (r.values.remote !== undefined && !remote) return usage(`--remote takes ADDR:PORT or [v6]:PORT, not '${r.values.remote}'`);
  if (what === 'call' && (id === undefined || remote)) return usage('clear call takes a call ID');
  if (what === 'connection' && (id === undefined) === (remote === undefined)) return usage('clear connection takes an ID or --remote ADDR:PORT');
  const endpoint = resolveAdminEndpoint({ profiles: r.values.profiles, admin: r.values.admin }, io);
  if (!endpoint) return 2;
  const json = r.values.json === true;
  if (what === 'call') return clearOne(endpoint, `/calls/${encodeURIComponent(id!)}`, io, json, (b) => describeCall(id!, b));
  if (id !== undefined) return clearOne(endpoint, `/connections/${encodeURIComponent(id)}`, io, json, describeConnection);
  return clearByRemote(endpoint, remote!, io, json);
}

async function clearOne(endpoint: AdminEndpoint, path: string, io: AdminIo, json: boolean, describe: (body: never) => string): Promise<number> {
  const a = await adminRequest(endpoint, 'DELETE', path, io);
  if (!a.ok) {
    io.err(a.message);
    return 2;
  }
  if (json) io.out(a.text);
  if (a.status !== 200) {
    if (!json) io.err(`trunkgate clear: ${refusal(a)}`);
    return a.status === 404 || a.status === 409 ? 1 : 2;
  }
  if (!json) io.out(describe(a.body as never));
  return 0;
}

function describeCall(id: string, b: { state: string; call: { callIds: string[]; callingNumber: string | null; calledNumber: string | null; app: number; answerAt?: number | null } }): string {
  return `call ${id} (${withoutControls(b.call.callingNumber ?? '-')} -> ${withoutControls(b.call.calledNumber ?? '-')}, Call-ID ${withoutControls(b.call.callIds.join(' '))}, app ${b.call.app}): `
    + `${clearedHow(b.call.answerAt)}; ${b.state === 'ended' ? 'ended' : `ending (${b.call.answerAt === null ? 'the setup is still stopping' : 'a BYE is still out'})`}`;
}

function describeConnection(c: { id: string; protocol: string; direction: string; remoteAddress: string; remotePort: number; tenant?: string }): string {
  return `connection ${c.id} (${c.protocol} ${c.direction} ${hostPort(c.remoteAddress, c.remotePort)}${c.tenant ? `, tenant ${c.tenant}` : ''}) closed`;
}

/** Every open connection whose far end is ADDR:PORT, found in the connection table, each closed by its id. */
async function clearByRemote(endpoint: AdminEndpoint, remote: { host: string; port: number }, io: AdminIo, json: boolean): Promise<number> {
  const list = await adminRequest(endpoint, 'GET', '/connections?limit=10000', io);
  if (!list.ok) {
    io.err(list.message);
    return 2;
  }
  if (list.status !== 200) {
    io.err(`trunkgate clear: ${refusal(list)}`);
    return 2;
  }
  const want = remote.host.toLowerCase();
  const matches = (list.body as { connections: ConnectionInfo[] }).connections
    .filter((c) => c.remoteAddress.toLowerCase() === want && c.remotePort === remote.port && c.state !== 'closed');
  if (matches.length === 0) {
    if (json) io.out(JSON.stringify({ closed: [] }));
    io.err(`trunkgate clear: no open connection with ${hostPort(remote.host, remote.port)} [ERR_ADMIN_CONNECTION_NOT_FOUND]`);
    return 1;
  }
  const closed: unknown[] = [];
  let status = 0;
  for (const c of matches) {
    const a = await adminRequest(endpoint, 'DELETE', `/connections/${encodeURIComponent(c.id)}`, io);
    if (!a.ok) {
      io.err(a.message);
      return 2;
    }
    if (a.status === 200) {
      closed.push(a.body);
      if (!json) io.out(describeConnection(a.body as never));
    } else {
      // Closed by its far end between the list and the close: said, and the exit status says so too.
      io.err(`trunkgate clear: connection ${c.id}: ${refusal(a)}`);
      status = 1;
    }
  }
  if (json) io.out(JSON.stringify({ closed }));
  return status;
}
