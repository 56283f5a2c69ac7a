import type { SipRequest } from '../../sip/message/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { CoreGuard } from './core-guard.js';
import type { NameLookupsOptions } from './name-lookups.js';
import type { ProxyHost } from './proxy-host.js';

/** How the proxy's refusals are counted and logged (rate-limited per code with the core's other refusals). */
export function proxyRefusalLines(guard: Pick<CoreGuard, 'counted'>): Pick<ProxyHost, 'relayRefused' | 'relayLoop' | 'tooManyHops' | 'targetsRefused'> {
  return {
    relayRefused: (request, flow, why) => guard.counted('relayRefused', 'ERR_ENGINE_RELAY_REFUSED', why,
      flow, `${request.method} in a proxied dialog not relayed: ${why}`),
    relayLoop: (request, flow, target) => guard.counted('relayLoop', 'ERR_ENGINE_RELAY_LOOP', `next hop ${target} is this gateway`,
      flow, `${request.method} in a proxied dialog not relayed: its next hop ${target} is this gateway`),
    tooManyHops: (request, flow) => guard.counted('tooManyHops', 'ERR_ENGINE_TOO_MANY_HOPS', 'Max-Forwards reached 0', flow,
      `${request.method} not forwarded: Max-Forwards reached 0`),
    targetsRefused: (request, flow, refused, max) => guard.counted('proxyTargetsRefused', 'ERR_ENGINE_TABLE_FULL',
      `limit of ${max} proxy targets reached`, flow, `${request.method}: ${refused} more proxy targets not tried, the limit of ${max} was reached`, refused),
  };
}

/**
 * The lines of name lookups refused or timed out; counted by the lookups themselves (nameLookupsRefused), the line
 * rate-limited with the core's refusals. `guard` is read at each: the lookups are built before it.
 */
export function nameLookupLines(guard: () => Pick<CoreGuard, 'log'>): Pick<NameLookupsOptions, 'onRefused' | 'onTimeout'> {
  return {
    onRefused: (host, max, pool) => guard().log?.refused('ERR_ENGINE_DNS_LIMIT', `${max} ${pool} name lookups in flight`, host.slice(0, 255), '-',
      `name ${host.slice(0, 255)} not looked up: ${max} lookups of ${pool === 'peer' ? 'names peers supplied' : 'configured names'} in flight`),
    onTimeout: (host, ms) => guard().log?.refused('ERR_ENGINE_DNS_TIMEOUT', `no answer within ${ms} ms`, host.slice(0, 255), '-',
      `name ${host.slice(0, 255)} not resolved within ${ms} ms`),
  };
}

/** A tenant's proxy identity header from outside its trusted proxies: removed, counted and logged (proxy-identity.ts). */
export function proxyIdentityIgnoredLine(guard: Pick<CoreGuard, 'counted'>): (source: string, tenant: string | undefined) => void {
  return (source, tenant) => guard.counted('proxyIdentityIgnored', 'ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED', 'proxy identity header from an untrusted source',
    undefined, `proxy identity header from ${source} (tenant ${tenant ?? '-'}) removed: not a trusted proxy of that tenant`);
}

/** The proxied dialogs' table forgot its least recently used one; counted by the table itself (proxiedDialogsEvicted). */
export function proxiedEvictedLine(guard: Pick<CoreGuard, 'log'>): (max: number) => void {
  return (max) => guard.log?.refused('ERR_ENGINE_TABLE_FULL', `limit of ${max} proxied dialogs reached`, '-', '-',
    `proxied dialogs: the least recently used was forgotten, the limit of ${max} was reached`);
}

/** A merged request refused 482 (RFC 3261 §8.2.2.2), counted and logged. */
export function mergedLine(guard: Pick<CoreGuard, 'counted'>, request: SipRequest, flow: Flow): void {
  guard.counted('mergedRequest', 'ERR_ENGINE_MERGED_REQUEST', 'merged request', flow,
    `${request.method} refused with 482: its Call-ID and From tag are those of a call under way or established (RFC 3261 §8.2.2.2)`);
}
