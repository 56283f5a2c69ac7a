import { isIP, type BlockList } from 'node:net';
import { addressList } from '../common/index.js';
import { addressClass, hostInterfaceAddresses, plainAddress } from '../common/address-class.js';
import type { B2buaPolicy } from './policy-types.js';

/** What of the policy decides whether a resolved address may be sent to: gateway.outbound and the listeners. */
export type ResolvedAddressPolicy = Pick<B2buaPolicy, 'outbound' | 'listeners'>;

/**
 * Addresses a DNS answer never makes a target unless allowResolved holds them: the classes of
 * common/address-class.ts ("this network" and unspecified, loopback, link-local with the cloud metadata service at
 * 169.254.169.254, multicast, reserved and broadcast) and the IPv6 address of AWS's metadata service. Private ranges
 * (10/8, 172.16/12, 192.168/16, fc00::/7) are where enterprise trunks live: allowed.
 */
const AWS_METADATA_V6 = addressList(['fd00:ec2::254/128']);

const allowed = new WeakMap<ResolvedAddressPolicy, BlockList>();

/** gateway.outbound.allowResolved as a list (built once per policy). */
export function allowedResolved(policy: ResolvedAddressPolicy): BlockList {
  let list = allowed.get(policy);
  if (list === undefined) {
    list = addressList(policy.outbound?.allowResolved ?? []);
    allowed.set(policy, list);
  }
  return list;
}


/** How long the host's interface addresses are used again (reading them is a system call). */
const INTERFACES_MS = 10_000;
let interfaces: { at: number; set: Set<string> } | undefined;

/** This host's interface addresses as plainAddress reads them, read again at most every INTERFACES_MS. */
function hostAddresses(): Set<string> {
  const now = Date.now();
  if (interfaces === undefined || now - interfaces.at >= INTERFACES_MS) interfaces = { at: now, set: new Set(hostInterfaceAddresses().map(plainAddress)) };
  return interfaces.set;
}

/**
 * Why a resolved address may not be sent to, or undefined when it may: a DNS answer is the network's, never an
 * administrator's word, so it may not point the gateway at itself, at its host's loopback or at a link-local service.
 * allowResolved (gateway.outbound) lets an operator allow such an address knowingly. Every sender to a `dns:` name
 * asks this: a call's targets (middleware/resolve-target.ts), the OPTIONS pings (trunk-monitor.ts) and the
 * registration trunks (register-target.ts).
 */
export function refusedAddress(address: string, policy: ResolvedAddressPolicy): string | undefined {
  const a = plainAddress(address);
  const family = isIP(a);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (allowedResolved(policy).check(a, type)) return undefined;
  if (addressClass(a) !== undefined || AWS_METADATA_V6.check(a, type)) return 'loopback, unspecified, link-local, multicast or broadcast address';
  const listeners = policy.listeners ?? [];
  if (listeners.some((l) => plainAddress(l.host) === a)) return 'an address the gateway listens on';
  // A wildcard listener listens on every address of the host: each is the gateway's own.
  if (listeners.some((l) => l.host === '0.0.0.0' || l.host === '::') && hostAddresses().has(a)) return 'an address of the gateway\'s host';
  return undefined;
}

/** The resolved addresses that may be sent to, in their order; each refused one is handed to `refused` with why. */
export function allowedAddresses<T extends { address: string }>(targets: readonly T[], policy: ResolvedAddressPolicy,
  refused: (target: T, why: string) => void): T[] {
  const kept: T[] = [];
  for (const t of targets) {
    const why = refusedAddress(t.address, policy);
    if (why === undefined) kept.push(t);
    else refused(t, why);
  }
  return kept;
}
