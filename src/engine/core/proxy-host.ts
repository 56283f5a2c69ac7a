import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { SipRequest } from '../../sip/message/types.js';
import type { Flow, TransportProtocol } from '../../sip/transport/types.js';
import type { AppHub } from '../types.js';
import type { ServerPending } from './engine-dialog.js';
import type { RequestGate } from './request-gate.js';
import type { NameLookups } from './name-lookups.js';
import type { ProxiedEnds } from './proxy-hop.js';
import type { ConnectionList } from './pinned-flow.js';

/** What the proxy needs from the core it lives in. */
export interface ProxyHost {
  /** Where every request the proxy sends goes through (the Request-URI invariant). */
  transactions: Pick<RequestGate, 'sendRequest' | 'sendStateless' | 'cancel'>;
  hub: AppHub;
  clock: Clock;
  log: Logger | undefined;
  now(): string;
  /** A top Via for a request leaving on `protocol` (new branch). */
  viaFor(protocol: TransportProtocol): string;
  /** `<sip:host:port;lr>` of our listener for `protocol`. */
  recordRouteFor(protocol: TransportProtocol): string;
  isLocal(address: string, port: number): boolean;
  /** Host names are looked up here, within its bound on lookups in flight. */
  names: Pick<NameLookups, 'resolve'>;
  /** The transport's connections, for a proxy command that pins its targets to one (`conn=`, pinned-flow.ts). */
  connections?: ConnectionList;
  /** The proxied request is over (final response forwarded, or given up): forget its pending state. */
  release(p: ServerPending): void;
  newTag(): string;
  /** A dialog the proxy record-routed was established (early or confirmed): its in-dialog requests may be relayed. */
  proxiedDialog(callId: string, fromTag: string, toTag: string, ends: ProxiedEnds): void;
  /**
   * An in-dialog request of a proxied dialog named a next hop that is not the dialog's other side, or came from
   * elsewhere than the side its From tag names: not relayed (`why` says which).
   */
  relayRefused(request: SipRequest, flow: Flow, why: string): void;
  /** An in-dialog request of a proxied dialog whose next hop (`target`) is one of our listeners: not relayed. */
  relayLoop(request: SipRequest, flow: Flow, target: string): void;
  /** A request was not forwarded because Max-Forwards reached 0. */
  tooManyHops(request: SipRequest, flow: Flow): void;
  /** A proxy run had `max` targets already: `refused` more (from the app or from redirects) were not tried. */
  targetsRefused(request: SipRequest, flow: Flow, refused: number, max: number): void;
}
