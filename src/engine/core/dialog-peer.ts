import { plainAddress } from '../../common/address-class.js';
import type { Flow, TlsPeerInfo, TransportProtocol } from '../../sip/transport/types.js';
import type { EngineDialog } from './engine-dialog.js';
import type { ProxiedEnds, SideSource } from './proxy-hop.js';

/** One end of a dialog: where its dialog-creating request or 2xx was heard from, and the tenant it was admitted for. */
export interface PeerEnd {
  readonly protocol: TransportProtocol;
  readonly address: string;
  /** TCP/TLS: the connection it came on. */
  readonly connectionId?: string | undefined;
  /** TLS: what its certificate showed. */
  readonly tls?: TlsPeerInfo | undefined;
  /** The tenant whose trusted sources admitted it (or that the dialog was placed for), when known. */
  readonly tenant?: string | undefined;
  /**
   * A proxied dialog's side behind a proxy that did not record-route sends from the host of its hop (proxy-hop.ts
   * `sentBy`): that host, lower case.
   */
  readonly hopHost?: string | undefined;
}

/**
 * Who may send requests inside a dialog the engine knows (edge-guard.ts): its peer, or a proxied dialog's two ends.
 * No end at all: where the dialog's peer was heard from is not known; its requests are judged as new ones.
 */
export interface DialogPeer {
  readonly ends: readonly PeerEnd[];
}

/** The peer of one of the engine's dialogs: the source of its dialog-creating request (UAS) or 2xx (UAC). */
export function peerOfDialog(d: EngineDialog): DialogPeer {
  const f = d.flow;
  if (f === undefined) return { ends: [] };
  return { ends: [{ ...endOf(f), tenant: f.tenant ?? d.tlsTarget?.tenant }] };
}

/** The two ends of a dialog an app proxied with Record-Route; none when the table kept no ends for it. */
export function peerOfProxied(ends: ProxiedEnds | undefined): DialogPeer {
  if (ends === undefined) return { ends: [] };
  return { ends: [sideEnd(ends.caller, ends.toCaller), sideEnd(ends.callee, ends.toCallee)] };
}

function endOf(f: Flow): PeerEnd {
  return { protocol: f.protocol, address: f.remoteAddress, connectionId: f.connectionId, tls: f.tls, tenant: f.tenant };
}

function sideEnd(s: SideSource, hop: string | undefined): PeerEnd {
  return { ...s, hopHost: hop === undefined ? undefined : hop.slice(0, hop.lastIndexOf(':')) };
}

/**
 * Whether `flow` is one of the dialog's ends. Over TCP or TLS the very connection always is. An end over TLS whose
 * certificate verified is that identity: a TLS connection whose verified identities and tenant are the same (a
 * reconnect), never an address. Any other end is its address, whatever the port and transport (a request over
 * 1300 bytes moves from UDP to TCP, RFC 3261 §18.1.1; a phone behind NAT sends from its binding), except that a
 * TLS end is reached over TLS only; or, for a proxied side, the host of its hop.
 */
export function fromDialogPeer(peer: DialogPeer, flow: Flow): boolean {
  return peer.ends.some((e) => fromEnd(e, flow));
}

function fromEnd(e: PeerEnd, flow: Flow): boolean {
  if (flow.connectionId !== undefined && flow.connectionId === e.connectionId) return true;
  if (e.protocol === 'tls' && e.tls?.authorized === true) return flow.protocol === 'tls' && sameVerifiedPeer(e.tls, flow.tls);
  if (e.protocol === 'tls' && flow.protocol !== 'tls') return false;
  const a = plainAddress(flow.remoteAddress);
  return a === plainAddress(e.address) || (e.hopHost !== undefined && plainAddress(e.hopHost) === a);
}

/** Both verified (a certificate the profile's trust store accepted), with the same identities and tenant (as src/sip/transaction/cancel-source.ts). */
function sameVerifiedPeer(a: TlsPeerInfo, b: TlsPeerInfo | undefined): boolean {
  if (b?.authorized !== true || a.tenant !== b.tenant) return false;
  const x = new Set(a.identities);
  const y = new Set(b.identities);
  return x.size > 0 && x.size === y.size && [...x].every((i) => y.has(i));
}
