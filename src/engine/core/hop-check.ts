import { addressClass, plainAddress, type AddressClass } from '../../common/address-class.js';
import type { CoreGuard } from './core-guard.js';
import type { LocalAddresses } from './addressing.js';

/**
 * Where the engine may send a request inside a dialog. Its next hop (the first entry of the route set, else the
 * remote target) is what a peer wrote in its Record-Route or Contact, so it is the peer's word, never ours: a
 * carrier's `Record-Route: <sip:127.0.0.1:9022;lr>` would have the gateway send its ACK, BYE and re-INVITEs to a
 * service on its own host. The next hop must not be loopback, unspecified, link-local, multicast, broadcast or
 * reserved, nor one of the gateway's own listeners, unless the dialog's peer (the source of the dialog-creating
 * 2xx or request) is itself in that class: a test or a PBX on the same host talks over loopback, and what it
 * names on loopback is its own. The gateway's own listeners are never a next hop (a loop).
 * docs/control-protocol.md §2.8 (NAT handling) is the other case where a dialog's requests go to the peer's
 * source instead of the address the peer wrote.
 */

export type HopClass = AddressClass;

/** The class of an IP address the engine does not send in-dialog requests to, or undefined (common/address-class.ts). */
export function hopClass(address: string): HopClass | undefined {
  return addressClass(address)?.kind;
}

/**
 * Why `address`:`port` may not be the next hop of a request in a dialog whose peer is at `peer` (undefined when
 * the peer is not known), or undefined when it may. `own` answers whether an address and port are one of the
 * gateway's listeners (addressing.ts `isLocal`); without it only the address classes are checked.
 */
export function hopRefusal(address: string, port: number, peer: string | undefined, own?: Pick<LocalAddresses, 'isLocal'>): string | undefined {
  const plain = plainAddress(address);
  if (own && (own.isLocal(plain, port) || (plain !== address && own.isLocal(address, port)))) return 'this gateway';
  const kind = hopClass(address);
  if (kind === undefined) return undefined;
  if (peer !== undefined && hopClass(peer) === kind) return undefined;
  return kind;
}

/**
 * What the hop check of a dialog needs from the engine: its own listeners, and the counter and rate-limited log
 * line of a refusal (ERR_ENGINE_DIALOG_HOP_REFUSED, counter `dialogHopRefused`).
 */
export interface DialogHops {
  readonly addr: Pick<LocalAddresses, 'isLocal'>;
  readonly guard: Pick<CoreGuard, 'counted'>;
}
