import type { Flow } from '../transport/types.js';
import { ownString } from '../message/own-string.js';

/** Which side of the dialog-creating request this element was on. */
export type DialogRole = 'uac' | 'uas';

/**
 * The drachtio dialog id: `<Call-ID>;from-tag=<From tag of the dialog-creating request>` (the UAC's tag in both
 * roles).
 */
export function dialogIdOf(callId: string, uacTag: string): string {
  return `${callId};from-tag=${uacTag}`;
}

/** Key of the (Call-ID, local tag, remote tag) triple that identifies a dialog (RFC 3261 §12). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

export interface DialogInit {
  role: DialogRole;
  callId: string;
  localTag: string;
  remoteTag?: string;
  /** From/To header values as this side writes them in requests it sends (tags included). */
  localUri: string;
  remoteUri: string;
  localSeq: number;
  remoteSeq?: number;
  routeSet?: string[];
  remoteTarget?: string;
  secure?: boolean;
  flow?: Flow;
  localContact: string;
}

/**
 * Dialog state (RFC 3261 §12): "A dialog is identified at each UA with a dialog ID, which consists of a Call-ID
 * value, a local tag and a remote tag." https://www.rfc-editor.org/rfc/rfc3261#section-12
 *
 * Identity, route set and sequence numbers only: what state the dialog is in belongs to its user (the engine keeps
 * it as a union of states in `src/engine/core/engine-dialog.ts`).
 */
export class Dialog {
  readonly role: DialogRole;
  readonly id: string;
  readonly callId: string;
  readonly localTag: string;
  /** Header value for the local side (From in requests we send), with our tag. */
  readonly localUri: string;
  /** "The local sequence number is used to order requests from this UA to its peer." (§12.1) */
  localSeq: number;
  remoteSeq: number | undefined;
  secure: boolean;
  /** The flow the dialog was created on; in-dialog requests are forced onto it. */
  flow: Flow | undefined;
  /** The Contact value we send (reused on in-dialog INVITE, SUBSCRIBE and REFER). */
  readonly localContact: string;
  // The values taken from messages are kept as copies (ownString): a dialog lasts as long as its call, and a value
  // cut from a message would keep that message's whole header text alive with it.
  #remoteTag: string | undefined;
  #remoteUri: string;
  #routeSet: string[];
  #remoteTarget: string;

  constructor(init: DialogInit) {
    this.role = init.role;
    this.callId = ownString(init.callId);
    this.localTag = ownString(init.localTag);
    this.#remoteTag = init.remoteTag === undefined ? undefined : ownString(init.remoteTag);
    this.id = dialogIdOf(this.callId, init.role === 'uac' ? this.localTag : (this.#remoteTag ?? ''));
    this.localUri = ownString(init.localUri);
    this.#remoteUri = ownString(init.remoteUri);
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.#routeSet = (init.routeSet ?? []).map(ownString);
    this.#remoteTarget = ownString(init.remoteTarget ?? '');
    this.secure = init.secure ?? false;
    this.flow = init.flow;
    this.localContact = ownString(init.localContact);
  }

  get remoteTag(): string | undefined {
    return this.#remoteTag;
  }

  set remoteTag(tag: string | undefined) {
    this.#remoteTag = tag === undefined ? undefined : ownString(tag);
  }

  /** Header value for the remote side (To in requests we send), with the remote tag once known. */
  get remoteUri(): string {
    return this.#remoteUri;
  }

  set remoteUri(uri: string) {
    this.#remoteUri = ownString(uri);
  }

  /** Route header values, in the order requests carry them (§12.1.1 / §12.1.2). */
  get routeSet(): readonly string[] {
    return this.#routeSet;
  }

  set routeSet(routes: readonly string[]) {
    this.#routeSet = routes.map(ownString);
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }

  set remoteTarget(uri: string) {
    this.#remoteTarget = ownString(uri);
  }

  /** The key for matching requests from the peer, once the remote tag is known. */
  get key(): string | undefined {
    return this.remoteTag === undefined ? undefined : dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** Next CSeq number for a request we send inside the dialog (§12.2.1.1: "incremented by one"). */
  nextSeq(): number {
    this.localSeq = (this.localSeq + 1) >>> 0;
    return this.localSeq;
  }

  /**
   * "If the remote sequence number was not empty, but the sequence number of the request is lower than the
   * remote sequence number, the request is out of order and MUST be rejected with a 500 (Server Internal
   * Error) response." https://www.rfc-editor.org/rfc/rfc3261#section-12.2.2 — returns false in that case.
   */
  acceptRemoteSeq(seq: number, method: string): boolean {
    if (method === 'ACK' || method === 'CANCEL') return true;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }
}
