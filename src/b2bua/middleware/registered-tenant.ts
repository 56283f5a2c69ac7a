import { isIP } from 'node:net';
import { parseServer } from '../b-leg-target.js';
import type { B2buaPolicy } from '../policy-types.js';

interface ContactOwner {
  tenant: string;
  /** The literal addresses the tenant's registrar and sipServer have; undefined when one is a name (resolved elsewhere). */
  from: Set<string> | undefined;
}

/**
 * Who owns a registered contact: a tenant with `register` owns calls to its contact user (`sip:<contactUser>@us`),
 * as a carrier routes them to the binding we registered. Only from the tenant's own registrar or sipServer when
 * those are addresses; when one is a name, only a request the engine already named that tenant for.
 */
export function contactOwners(policy: B2buaPolicy): Map<string, ContactOwner> {
  const owners = new Map<string, ContactOwner>();
  for (const [tenant, t] of Object.entries(policy.tenants)) {
    const r = t.register;
    if (!r || owners.has(r.contactUser)) continue;
    let from: Set<string> | undefined = new Set<string>();
    const servers = [r.registrar, ...(t.sipServer === undefined ? [] : typeof t.sipServer === 'string' ? [t.sipServer] : t.sipServer)];
    for (const s of servers) {
      const host = s.startsWith('dns:') ? undefined : parseServer(s)?.host.replace(/^\[(.*)\]$/, '$1');
      if (host === undefined || isIP(host) === 0) {
        from = undefined;
        break;
      }
      from.add(host);
    }
    owners.set(r.contactUser, { tenant, from });
  }
  return owners;
}

/**
 * The tenant whose registered contact an INVITE is addressed to, if its source may speak for that tenant.
 * `named`: the tenant the engine's header gave the request (its TLS connection's, its listener's), if any. With the
 * registrar or sipServer given by name, the source cannot be checked here: taken from any source, a request to
 * the contact user would give any admitted peer the trunk's tenant, its permissions and its dial peers, with a
 * number read from its own To header. Only the engine's word for that tenant lets it through.
 */
export function registeredTenant(owners: Map<string, ContactOwner>, user: string | undefined, source: string | undefined,
  named: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const o = owners.get(user);
  if (!o) return undefined;
  if (o.from === undefined) return named === o.tenant ? o.tenant : undefined;
  if (source === undefined || !o.from.has(source)) return undefined;
  return o.tenant;
}
