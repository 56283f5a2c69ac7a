/** Answer times and table caps of the engine core; every one has a safe default and a counter when hit. */
export interface CoreLimits {
  /**
   * How long an app has to give a request from the network its first answer (a provisional above 100, a final
   * response or a `proxy`) before the engine answers 503 with a Reason itself, frees the state and sends the app
   * a CANCEL for an INVITE (default 5,000 ms).
   */
  appAnswerTimeoutMs?: number;
  /** After a provisional, how long an INVITE may wait for its final answer from the app (default 180,000 ms). */
  appFinalTimeoutMs?: number;
  /** Requests from the network waiting for an app's answer (default 10,000); past it: 503 + Retry-After. */
  maxServerTransactions?: number;
  /** Requests apps sent that wait for their final response (default 10,000); past it: NOK to the app. */
  maxClientTransactions?: number;
  /**
   * Dialogs (each call leg is one) (default 20,000), new INVITEs and SUBSCRIBEs still to make theirs counted with
   * them; past it: new INVITEs get 503 + Retry-After, apps NOK.
   */
  maxDialogs?: number;
  /** Dialogs proxied with Record-Route whose in-dialog requests are relayed (default 20,000; oldest evicted). */
  maxProxiedDialogs?: number;
  /** Retry-After (seconds) on a 503 past a limit (default 5). */
  retryAfterSeconds?: number;
}

export const DEFAULT_LIMITS: Required<CoreLimits> = {
  appAnswerTimeoutMs: 5_000,
  appFinalTimeoutMs: 180_000,
  maxServerTransactions: 10_000,
  maxClientTransactions: 10_000,
  maxDialogs: 20_000,
  maxProxiedDialogs: 20_000,
  retryAfterSeconds: 5,
};

export function resolveLimits(l: CoreLimits = {}): Required<CoreLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(out) as (keyof CoreLimits)[]) {
    const v = l[k];
    if (v !== undefined) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`engine limits: ${k} must be a number >= 0`);
      out[k] = v;
    }
  }
  return out;
}

/** The core's counters, by name (flat numbers: they go to /stats and /metrics as they are). */
export class CoreCounters {
  /** New requests refused by the UAS checks (400, 416) before any app saw them. */
  refusedRequests = 0;
  /** Requests not forwarded or refused because Max-Forwards was 0 (483). */
  tooManyHops = 0;
  /** Branches of proxied INVITEs with no final response within Timer C (RFC 3261 §16.6 step 11): CANCELled, or taken as 408. */
  proxyTimerC = 0;
  /** Proxy targets not tried: the app's destinations and redirect Contacts past 16 in one proxy run. */
  proxyTargetsRefused = 0;
  /** INVITEs refused for a missing or bad Contact (400). */
  badContact = 0;
  /** OPTIONS answered by the engine itself (200). */
  optionsAnswered = 0;
  /** Out-of-dialog requests carrying a Route to another host: not followed, handed to the app. */
  routeNotFollowed = 0;
  /** A tenant's proxy identity header removed because it came from outside the tenant's trusted proxies. */
  proxyIdentityIgnored = 0;
  /** Requests whose TLS identities a trusted proxy's header gave (origin=proxy). */
  proxyIdentityTaken = 0;
  /** Requests an app sent that could not be sent (NOK to the app), and BYEs of the engine's own that could not. */
  appRequestsNotSent = 0;
  engineByesNotSent = 0;
  /** In-dialog requests (To tag) matching no dialog nor transaction: answered 481 at the edge, statelessly. */
  noDialog = 0;
  /** Requests outside a dialog of a method no app is offered (PRACK, REFER, unknown): 481, 405 or 501. */
  methodNotOffered = 0;
  /** In-dialog requests relayed by loose routing inside a dialog an app proxied. */
  relayedInDialog = 0;
  /** In-dialog requests of a proxied dialog whose next hop was not the dialog's other side: 403, not relayed. */
  relayRefused = 0;
  /** In-dialog requests of a proxied dialog whose next hop was the gateway itself: 482, not relayed. */
  relayLoop = 0;
  /**
   * Dialogs whose next hop broke the rule of hop-check.ts (loopback, link-local, multicast, the gateway itself...
   * while the peer is not): their requests went to the peer's source instead; a dialog we called was ended.
   */
  dialogHopRefused = 0;
  /**
   * New requests merged with one whose transaction still lives (same Call-ID, From tag and CSeq, another branch), and
   * new INVITEs with the Call-ID and From tag of an INVITE under way or a live dialog: 482.
   */
  mergedRequest = 0;
  /** Ended requests forgotten by the merged-request index at its cap (maxServerTransactions) before their transaction ended. */
  mergedIndexFull = 0;
  /**
   * In-dialog requests and ACKs of a dialog we know from a source that is neither the dialog's peer nor trusted by
   * its tenant (src/engine/edge-guard.ts): 403 without a transaction, an ACK dropped.
   */
  dialogSourceRefused = 0;
  /** 2xx of another fork to an app's INVITE, after the one that made its dialog: ACKed and ended with a BYE. */
  forkAnswersEnded = 0;
  /** 2xx of yet another fork past MAX_EXTRA_FORKS for one INVITE (uac-forks.ts): dropped. */
  forkAnswersDropped = 0;
  /** ACKs matching no dialog nor transaction of ours (wrong To tag, unknown Call-ID): dropped. */
  unmatchedAck = 0;
  /** CANCELs matching no INVITE under way: 481. */
  unmatchedCancel = 0;
  /** CANCELs for an INVITE under way that came from elsewhere than it (src/sip/transaction/cancel-source.ts): 481. */
  cancelFromOtherSource = 0;
  /** INVITEs whose reliable provisional no PRACK acknowledged within 64·T1 (RFC 3262 §3): 504 sent. */
  prackTimeout = 0;
  /** PRACKs matching no unacknowledged reliable provisional (RSeq, CSeq number and method of their RAck): 481. */
  prackUnmatched = 0;
  /** Reliable provisionals of an app refused (NOK) because MAX_QUEUED_RELIABLE already waited for a PRACK. */
  reliableQueueFull = 0;
  /** Requests no app answered in time (503 sent). */
  appNoAnswer = 0;
  /** Requests refused because no app routed the method (503). */
  noApp = 0;
  /** INVITEs refused because the app's control connection was backed up (503). */
  appBacklog = 0;
  /** Refused past the server transaction, client transaction or dialog cap. */
  serverTableFull = 0;
  /** In-dialog requests of a live dialog refused at the hard cap on requests waiting for an app (the reserve used up). */
  serverTableFullInDialog = 0;
  clientTableFull = 0;
  dialogTableFull = 0;
  /** What an app's disconnect cleaned up: dialogs ended with BYE or CANCEL, pending requests answered 503. */
  appGoneDialogsEnded = 0;
  appGoneRequestsAnswered = 0;
  /** Requests an app sent that were not sent because the app was gone when their name lookup ended. */
  appGoneRequestsDropped = 0;
  /** App commands naming a transaction or dialog another app owns: NOK as for an unknown id. */
  foreignIdRefused = 0;

  snapshot(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}

export type CounterName = Exclude<keyof CoreCounters, 'snapshot'>;
