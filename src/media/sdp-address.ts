import { BlockList, isIP } from 'node:net';
import { addressList } from '../common/index.js';
import { addressClass } from '../common/address-class.js';
import type { TenantMedia } from './media-policy.js';
import { relayedSection } from './sdp-scrub.js';

/**
 * Where an anchored call's SDP may send media. rtpengine sends each side's media to the address and port that
 * side's SDP names (a=rtcp's for RTCP), so a caller naming a third party, or the relay's own host (loopback), would
 * have the other side's RTP delivered there. Each active section of an SDP body a side sends (offer or answer,
 * initial or in the dialog) must name a unicast address that is not loopback, link-local, multicast, broadcast or
 * reserved, and lies in the tenant's `media.allowedNetworks` when it has one. Loopback and link-local addresses are
 * taken only when an entry of that list lies inside them (127.0.0.0/8, 127.0.0.1, ::1, 169.254.0.0/16, fe80::/10):
 * a list such as 0.0.0.0/0 does not name them. The unspecified address (c=IN IP4 0.0.0.0, RFC 3264 §8.4's older
 * form of hold; `::`) sends nothing anywhere and is taken. docs/media.md has the whole set of media edge rules.
 * https://www.rfc-editor.org/rfc/rfc3264#section-8.4
 */

/** The unspecified address itself: hold, not a destination. */
const HOLD = new BlockList();
HOLD.addAddress('0.0.0.0', 'ipv4');
HOLD.addAddress('::', 'ipv6');

interface Allowed {
  /** Every entry; undefined: any unicast address. */
  any: BlockList | undefined;
  /** The entries that lie inside loopback or link-local. */
  named: BlockList;
}

const EMPTY = new BlockList();
const compiled = new WeakMap<readonly string[], Allowed>();

/** A tenant's list, compiled once (the policy is frozen and lives as long as the configuration). */
function allowedOf(list: readonly string[] | undefined): Allowed {
  if (list === undefined) return { any: undefined, named: EMPTY };
  let a = compiled.get(list);
  if (a === undefined) {
    const named = list.filter((e) => {
      const [addr = '', bits] = e.split('/');
      const family = isIP(addr);
      if (family === 0) return false;
      const c = addressClass(addr);
      return (c?.kind === 'loopback' || c?.kind === 'link-local') && (bits === undefined || Number(bits) >= c.bits);
    });
    a = { any: addressList(list), named: addressList(named) };
    compiled.set(list, a);
  }
  return a;
}

/**
 * The media addresses of an SDP body's active sections: each section's connection address and its a=rtcp one
 * (RFC 3605); undefined for a section with none, '' for an unreadable connection line.
 */
function mediaAddresses(sdp: string): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  let session: string | undefined;
  let section: { port: number; address: string | undefined; rtcp: Array<string | undefined> } | undefined;
  const flush = () => {
    if (section && section.port !== 0) out.push(section.address, ...section.rtcp);
  };
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^m=(\S+)\s+(\d+)(?:\/\d+)?\s+(\S+)/.exec(line);
    if (m) {
      flush();
      // A section rtpengine does not relay is disabled before it sees it (sdp-scrub.ts): nothing is sent there.
      section = { port: relayedSection(m[1]!, m[3]!) ? Number(m[2]) : 0, address: session, rtcp: [] };
      continue;
    }
    if (line.startsWith('c=')) {
      // An unreadable connection line counts as an address that is none.
      const c = /^c=IN\s+IP[46]\s+([^\s/]+)/i.exec(line)?.[1] ?? '';
      if (section) section.address = c;
      else session = c;
      continue;
    }
    const rtcp = section ? /^a=rtcp:\d+\s+IN\s+IP[46]\s+(\S+)/i.exec(line) : null;
    if (rtcp) section!.rtcp.push(rtcp[1]!);
  }
  flush();
  return out;
}

export type AddressCheck = { ok: true } | { ok: false; reason: string };

/** Whether the media addresses of an SDP body tenant `media` sent may be used (see the top of this file). */
export function checkMediaAddresses(sdp: string, media: TenantMedia & { name: string }, part: 'offer' | 'answer'): AddressCheck {
  const allowed = allowedOf(media.allowedNetworks);
  for (const addr of mediaAddresses(sdp)) {
    const whose = `the ${part} from tenant ${media.name}`;
    const family = addr === undefined ? 0 : isIP(addr);
    if (family === 0) return { ok: false, reason: `Media address of ${whose} is ${addr === undefined ? 'missing' : 'not an IP address'}` };
    const v = family === 4 ? 'ipv4' : 'ipv6';
    const c = addressClass(addr!);
    if (c?.kind === 'unspecified' && HOLD.check(addr!, v)) continue;
    if (c && !((c.kind === 'loopback' || c.kind === 'link-local') && allowed.named.check(addr!, v))) {
      return { ok: false, reason: `Media address ${addr} of ${whose} is ${c.kind}` };
    }
    if (!c && allowed.any && !allowed.any.check(addr!, v)) {
      return { ok: false, reason: `Media address ${addr} of ${whose} is outside its media.allowedNetworks` };
    }
  }
  return { ok: true };
}
