/**
 * The re-INVITEs trunkgate sends on a leg of a connected call (a relayed offer, a session refresh), without
 * drachtio-srf's Dialog.modify.
 *
 * Dialog.modify (node_modules/drachtio-srf/lib/dialog.js, `modify`) counts the re-INVITEs in progress on a dialog and
 * lets one through at a time, but takes the count down only on a 200: after any other final answer (491 on glare,
 * 488, 422, a 5xx) every later modify() on that dialog waits for ever. It also sets `local.sdp` to the offer before
 * sending it and leaves it there when the offer is refused. So the re-INVITE goes through Dialog.request, which
 * (same file, `request`) ACKs every final answer to an INVITE sent with a body, a 2xx included, and hands each
 * response to its callback: provisional ones too (its promise would settle on a 100 or 180), hence the callback form
 * here, which waits for the final answer. What request() does not do is done here: one INVITE at a time on a leg,
 * the Contact Dialog.modify added, and `local.sdp` / `remote.sdp` set on a 2xx only.
 *
 * RFC 3261 §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another INVITE transaction
 * is in progress in either direction". A second offer for a leg whose INVITE is in progress is not queued: it is
 * answered 491 (Request Pending) at once, without being sent. A queued relayed offer would wait for the first one's
 * final answer (up to Timer B, 32 s), past the point where its offerer's own INVITE has timed out, and the leg that
 * then accepted it would hold an SDP its offerer was told failed. A 491 leaves both legs as they were, and the offerer
 * retries after the back-off §14.1 gives it; a session refresh that meets one is retried by session-timer.ts.
 * https://www.rfc-editor.org/rfc/rfc3261#section-14.1
 */

/** A response as drachtio-srf hands it over: status, phrase, body and headers. */
export interface LegAnswer {
  status: number;
  reason?: string;
  body?: string;
  get(name: string): string | undefined;
}

export interface LegRequestOptions {
  method: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What a re-INVITE needs of drachtio-srf's Dialog. */
export interface InviteLeg {
  local?: { sdp?: string; contact?: string };
  remote?: { sdp?: string };
  /** Dialog.request: with a callback, called once for each response (provisional ones included), or once with an error. */
  request(opts: LegRequestOptions, callback: (err: unknown, res?: LegAnswer) => void): unknown;
}

/** The final answer to a re-INVITE: the far end's, or our own 491 when one was in progress on the leg. */
export interface ReinviteAnswer {
  status: number;
  /** The far end's phrase. */
  reason?: string;
  body?: string;
  /** The far end's response (its Reason header), absent for our own 491. */
  res?: LegAnswer;
  /** Not sent: an INVITE was in progress on the leg in either direction (our 491). */
  pending?: true;
}

/** INVITE transactions in progress on each leg: ours (client) and the far end's being relayed (server). */
const inProgress = new WeakMap<object, { ours: boolean; theirs: number }>();

function stateOf(leg: object): { ours: boolean; theirs: number } {
  let s = inProgress.get(leg);
  if (!s) {
    s = { ours: false, theirs: 0 };
    inProgress.set(leg, s);
  }
  return s;
}

/** Whether an INVITE of ours is in progress on the leg (a re-INVITE from its far end then gets 491, RFC 3261 §14.2). */
export function reinviteOurs(leg: object): boolean {
  return inProgress.get(leg)?.ours === true;
}

/** Whether an INVITE is in progress on the leg in either direction: one of ours would be answered 491 here. */
export function reinviteBusy(leg: object): boolean {
  const s = inProgress.get(leg);
  return s !== undefined && (s.ours || s.theirs > 0);
}

/**
 * A re-INVITE from the leg's far end is being answered: no INVITE of ours goes on that leg until `done` is called
 * (pass-through.ts calls it as it sends the final answer).
 */
export function reinviteTheirs(leg: object): () => void {
  const s = stateOf(leg);
  s.theirs++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    s.theirs--;
  };
}

/**
 * Sends `sdp` as an offer in a re-INVITE on `leg` and resolves with the final answer. Rejects only when the request
 * could not be sent (no dialog, no connection). On a 2xx, `leg.local.sdp` becomes the offer and `leg.remote.sdp` the
 * answer; any other answer leaves both as they were.
 */
export function sendReinvite(leg: InviteLeg, sdp: string, headers: Record<string, string> = {}): Promise<ReinviteAnswer> {
  const s = stateOf(leg);
  if (s.ours || s.theirs > 0) return Promise.resolve({ status: 491, reason: 'Request Pending', pending: true });
  s.ours = true;
  const contact = leg.local?.contact;
  const all = { ...(contact && !Object.keys(headers).some((h) => h.toLowerCase() === 'contact') ? { Contact: contact } : {}), ...headers };
  return new Promise<ReinviteAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      s.ours = false;
      return true;
    };
    try {
      leg.request({ method: 'INVITE', headers: all, body: sdp }, (err, res) => {
        if (err || !res) {
          if (finish()) reject(err ?? new Error('re-INVITE not sent'));
          return;
        }
        if (res.status < 200 || !finish()) return;
        if (res.status < 300) {
          if (leg.local) leg.local.sdp = sdp;
          if (leg.remote && res.body) leg.remote.sdp = res.body;
        }
        resolve({ status: res.status, ...(res.reason !== undefined ? { reason: res.reason } : {}), ...(res.body ? { body: res.body } : {}), res });
      });
    } catch (err) {
      if (finish()) reject(err);
    }
  });
}
