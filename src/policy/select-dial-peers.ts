import { literalPrefixLength } from './literal-prefix-length.js';
import { normalizeNumber } from './normalize-number.js';
import { compilePattern } from './pattern-cache.js';
import type { DialPeer } from './types.js';

export interface DialPeerCandidate<D extends DialPeer = DialPeer> {
  readonly dialPeer: D;
  /** See literalPrefixLength: how many leading characters the pattern fixes. */
  readonly prefixLength: number;
}

/**
 * The dial peers that may carry a call to `calledNumber` from `sourceTenant`, best first:
 * 1. its destination pattern matches the normalised number and its `from` list (if any) names the source;
 * 2. a dial peer with an explicit `preference` ranks above one without, and a lower preference wins
 *    (CUBE: 0 is the most preferred);
 * 3. then the longest match (literalPrefixLength), then the order of the configuration.
 * An empty list means no route: answer 404.
 */
export function selectDialPeers<D extends DialPeer>(
  calledNumber: string,
  sourceTenant: string | undefined,
  dialPeers: readonly D[],
): DialPeerCandidate<D>[] {
  const n = normalizeNumber(calledNumber);
  const hits: { c: DialPeerCandidate<D>; i: number }[] = [];
  dialPeers.forEach((dialPeer, i) => {
    const from = dialPeer.from;
    if (from && from.length > 0 && (sourceTenant === undefined || !from.includes(sourceTenant))) return;
    if (!compilePattern(dialPeer.destinationPattern).test(n)) return;
    hits.push({ c: { dialPeer, prefixLength: literalPrefixLength(dialPeer.destinationPattern) }, i });
  });
  const pref = (d: DialPeer) => d.preference ?? Number.POSITIVE_INFINITY;
  hits.sort((a, b) => {
    const pa = pref(a.c.dialPeer);
    const pb = pref(b.c.dialPeer);
    if (pa !== pb) return pa < pb ? -1 : 1;
    return b.c.prefixLength - a.c.prefixLength || a.i - b.i;
  });
  return hits.map((h) => h.c);
}

export interface NextDialPeerOptions {
  /** Ids of dial peers already tried for this call. */
  attempted: ReadonlySet<string> | readonly string[];
  /** True when the dial peer's trunk is known to be down (OPTIONS ping), so it is skipped. */
  isDown?: (dialPeer: DialPeer) => boolean;
}

/** The next candidate to try: the first not yet attempted whose trunk is not down, or undefined (503). */
export function nextDialPeer<D extends DialPeer>(
  candidates: readonly DialPeerCandidate<D>[],
  opts: NextDialPeerOptions,
): DialPeerCandidate<D> | undefined {
  const tried = opts.attempted;
  const has = (id: string) => ('has' in tried ? tried.has(id) : tried.includes(id));
  return candidates.find((c) => !has(c.dialPeer.id) && !(opts.isDown?.(c.dialPeer) ?? false));
}

/**
 * Whether a B-leg failure moves the call to the next dial peer: a failure of that server rather than an answer about
 * the called user. 503 Service Unavailable (RFC 3261 §21.5.4: "The server is temporarily unable to process the
 * request due to a temporary overloading or maintenance of the server"), 408, which the transaction layer reports
 * when the trunk never answered (§8.1.3.1), and the server's own failures: 500 ("The server encountered an unexpected
 * condition that prevented it from fulfilling the request", §21.5.1), 502 (a gateway behind it answered invalidly,
 * §21.5.3) and 504 (no timely answer from a server behind it, §21.5.5). A 4xx such as 486 and any 6xx (§21.6: "the
 * server has definitive information about a particular user") are the called party's answer and go back to the caller.
 * https://www.rfc-editor.org/rfc/rfc3261#section-21.5
 */
export function isFailoverStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504 || status === 408;
}
