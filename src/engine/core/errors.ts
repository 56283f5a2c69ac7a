/**
 * Stable codes of the engine core's refusals and limits (docs/conventions.md, Error codes): the `code` field of their log lines
 * and the names of their counters' causes.
 */
export type CoreErrorCode =
  /** A new request failed the UAS checks after parsing (RFC 3261 §8.2): 400 or 416. */
  | 'ERR_ENGINE_REQUEST_INVALID'
  /** A request the engine was about to send has no usable Request-URI; it never reaches the wire. */
  | 'ERR_ENGINE_REQUEST_URI_INVALID'
  /** Max-Forwards reached 0 (RFC 3261 §16.3 step 2): 483. */
  | 'ERR_ENGINE_TOO_MANY_HOPS'
  /** A dialog-creating INVITE without Contact, or with one that is not a SIP/SIPS URI: 400. */
  | 'ERR_ENGINE_BAD_CONTACT'
  /** No app answered a request within the answer time: 503, state freed. */
  | 'ERR_ENGINE_APP_NO_ANSWER'
  /** The pending server transactions, client transactions or dialogs are at their cap: 503 / NOK. */
  | 'ERR_ENGINE_TABLE_FULL'
  /** A host name was not looked up because its pool (the configuration's names, or names a peer supplied) had the most lookups in flight: the send fails (503 / NOK). */
  | 'ERR_ENGINE_DNS_LIMIT'
  /** A host name's lookup did not answer within its timeout, and no earlier answer could stand in: the send fails (503 / NOK). */
  | 'ERR_ENGINE_DNS_TIMEOUT'
  /** No app routed the method, or its control connection is backed up: 503. */
  | 'ERR_ENGINE_NO_APP'
  /** The app's control connection has more queued than its bound: new INVITEs get 503. */
  | 'ERR_ENGINE_APP_BACKLOG'
  /**
   * An app's control connection went away: its dialogs ended, its pending requests answered; a request it sent
   * whose name lookup ended after it left is dropped, not sent.
   */
  | 'ERR_ENGINE_APP_GONE'
  /**
   * An app named a transaction or dialog of another app (a response, an in-dialog request, an ACK, a CANCEL, a
   * proxy): refused as an unknown id is, the other app's request or call not touched.
   */
  | 'ERR_ENGINE_FOREIGN_ID'
  /** A request with a Route naming another host, outside any dialog the engine proxied: not followed. */
  | 'ERR_ENGINE_ROUTE_NOT_FOLLOWED'
  /** A tenant's proxy identity header from a source that is not one of its trusted proxies: removed, ignored. */
  | 'ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED'
  /** An in-dialog request (To tag) matching no dialog: 481 without a transaction, charged to its source's rate. */
  | 'ERR_ENGINE_NO_DIALOG'
  /** An in-dialog request or ACK of a known dialog from neither its peer nor a source its tenant trusts: 403 (ACK dropped), no transaction. */
  | 'ERR_ENGINE_DIALOG_SOURCE'
  /** A request outside a dialog of a method no app is offered: 481 (PRACK), 405 (REFER) or 501 (unknown). */
  | 'ERR_ENGINE_METHOD_NOT_OFFERED'
  /** An in-dialog request of a dialog an app proxied named a next hop that is not the dialog's other side: 403. */
  | 'ERR_ENGINE_RELAY_REFUSED'
  /** An in-dialog request of a dialog an app proxied whose next hop is the gateway itself: 482, not relayed. */
  | 'ERR_ENGINE_RELAY_LOOP'
  /**
   * A branch of a proxied INVITE had no final response within Timer C (181 s, or the app's longer finalTimeout,
   * restarted by each provisional; RFC 3261 §16.6 step 11): CANCELled after a provisional, else taken as 408.
   */
  | 'ERR_ENGINE_PROXY_TIMER_C'
  /**
   * A new request with the Call-ID, From tag and CSeq of one whose server transaction still lives, or a new INVITE with
   * the Call-ID and From tag of an INVITE under way or a live dialog, on another branch (RFC 3261 §8.2.2.2): 482.
   */
  | 'ERR_ENGINE_MERGED_REQUEST'
  /** A reliable provisional was not PRACKed within 64·T1 (RFC 3262 §3): its INVITE answered 504, the app sent a CANCEL. */
  | 'ERR_ENGINE_PRACK_TIMEOUT'
  /** A PRACK matched no unacknowledged reliable provisional of its dialog (RFC 3262 §3): 481, not passed to the app. */
  | 'ERR_ENGINE_PRACK_UNMATCHED'
  /** A CANCEL matching an INVITE under way came from elsewhere than that INVITE (RFC 3261 §9.1): 481, the INVITE not touched. */
  | 'ERR_ENGINE_CANCEL_OTHER_SOURCE'
  /** More forks answered an app's INVITE with a 2xx than the engine ACKs and ends for one INVITE (uac-forks.ts): dropped. */
  | 'ERR_ENGINE_FORK_LIMIT'
  /** A request was not sent (transaction cap, name lookup, transport): an app's gets NOK, the engine's own BYE is lost. */
  | 'ERR_ENGINE_SEND_FAILED'
  /**
   * A dialog's next hop (first Route, else remote target) is loopback, unspecified, link-local, multicast, broadcast
   * or the gateway itself while its peer is not (hop-check.ts): its requests go to the peer's source instead, and a
   * dialog we called is ended after the ACK with a BYE (Reason 403); without a known source the request is not sent.
   */
  | 'ERR_ENGINE_DIALOG_HOP_REFUSED';
