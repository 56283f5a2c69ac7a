import { parseArgs } from 'node:util';
import { adminRequest, refusal, resolveAdminEndpoint, type AdminIo } from './admin-client.js';
import { formatCalls, formatCertificates, formatConnections, formatListeners, formatTls, formatTrunks } from './show-format.js';

export const SHOW_USAGE = `Usage:
  trunkgate show connections [--detail]   the engine's TCP/TLS connections (--detail: TLS, identities, bytes)
  trunkgate show listeners                SIP listen sockets: tenant, address, port, transport, state
  trunkgate show calls                    live calls: id, Call-IDs, tenants, numbers, state, times, app
  trunkgate show tls                      TLS profiles and handshake failures
  trunkgate show trunks                   OPTIONS ping state of the trunks
  trunkgate show certificates             configured certificates and their expiry
Options: --json (the admin API's answer as is), --limit N (connections, calls), --profiles DIR, --admin URL`;

/** Each resource: its admin API path, whether it takes ?limit, and how a terminal shows it. */
const RESOURCES: Record<string, { path: string; limit?: boolean; print: (body: never, detail: boolean) => string[] }> = {
  connections: { path: '/connections', limit: true, print: (b, detail) => formatConnections(b, detail) },
  listeners: { path: '/listeners', print: (b) => formatListeners(b) },
  calls: { path: '/calls', limit: true, print: (b) => formatCalls(b) },
  tls: { path: '/tls', print: (b) => formatTls(b) },
  trunks: { path: '/trunks', print: (b) => formatTrunks(b) },
  certificates: { path: '/certificates', print: (b) => formatCertificates(b) },
};

/**
 * `trunkgate show WHAT [--detail] [--json] [--limit N] [--profiles DIR] [--admin URL]`: a table of the running
 * gateway's state from its admin API (address and token from the configuration, as `reload`).
 * Exit status: 0 shown, 1 refused by the API, 2 a usage error or the gateway could not be asked.
 */
export async function showCommand(args: readonly string[], io: AdminIo): Promise<number> {
  let r;
  try {
    r = parseArgs({
      args: [...args], allowPositionals: true, strict: true,
      options: {
        detail: { type: 'boolean' }, json: { type: 'boolean' }, limit: { type: 'string' }, profiles: { type: 'string' }, admin: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`trunkgate show: ${(e as Error).message}\n\n${SHOW_USAGE}`);
    return 2;
  }
  if (r.values.help) {
    io.out(SHOW_USAGE);
    return 0;
  }
  const [what, extra] = r.positionals;
  const resource = what !== undefined && Object.hasOwn(RESOURCES, what) ? RESOURCES[what]! : undefined;
  const usage = (message: string): number => {
    io.err(`trunkgate show: ${message}\n\n${SHOW_USAGE}`);
    return 2;
  };
  if (!resource) return usage(what === undefined ? 'show what?' : `unknown resource '${what}'`);
  if (extra !== undefined) return usage(`unexpected argument '${extra}'`);
  if (r.values.detail && what !== 'connections') return usage('--detail is for connections');
  const limit = r.values.limit;
  if (limit !== undefined && (!resource.limit || !/^[1-9]\d{0,4}$/.test(limit))) {
    return usage(resource.limit ? '--limit takes a number from 1 to 10000' : `--limit is for connections and calls`);
  }
  const endpoint = resolveAdminEndpoint({ profiles: r.values.profiles, admin: r.values.admin }, io);
  if (!endpoint) return 2;
  const a = await adminRequest(endpoint, 'GET', `${resource.path}${limit !== undefined ? `?limit=${limit}` : ''}`, io);
  if (!a.ok) {
    io.err(a.message);
    return 2;
  }
  if (a.status !== 200) {
    io.err(`trunkgate show ${what}: ${refusal(a)}`);
    return a.status === 401 ? 2 : 1;
  }
  if (r.values.json) io.out(a.text);
  else for (const line of resource.print(a.body as never, r.values.detail === true)) io.out(line);
  return 0;
}
