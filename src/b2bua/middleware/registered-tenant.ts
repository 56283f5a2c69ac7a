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
 * those are addresses; when one is a name, any source the engine already trusted for it.
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

/** The tenant whose registered contact an INVITE is addressed to, if its source may speak for that tenant. */
export function registeredTenant(owners: Map<string, ContactOwner>, user: string | undefined, source: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  const o = owners.get(user);
  if (!o) return undefined;
  if (o.from !== undefined && (source === undefined || !o.from.has(source))) return undefined;
  return o.tenant;
}
