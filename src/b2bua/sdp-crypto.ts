export type CryptoFilterResult =
  | { ok: true; sdp: string; changed: boolean }
  | { ok: false; status: 488; reason: string; reasonHeader: string };

const CRYPTO = /^a=crypto:\S+\s+(\S+)/i;

/**
 * Keeps the `a=crypto` lines whose suite the tenant allows, in the tenant's order of preference, in every
 * media section; other lines are left as they are. A media section that offered SDES keys and keeps none
 * fails the whole SDP: the caller answers 488 (RFC 3264 §6: an offer the answerer cannot accept).
 * A section already refused (port 0) is left alone.
 *
 * RFC 4568 §5.1.2: "the offerer MUST include one or more crypto attributes ... in order of preference".
 * https://www.rfc-editor.org/rfc/rfc4568#section-5.1.2
 */
export function filterCrypto(sdp: string, suites: readonly string[] | undefined): CryptoFilterResult {
  if (!suites || !/^a=crypto:/im.test(sdp)) return { ok: true, sdp, changed: false };
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const trailing = sdp.endsWith(eol);
  const lines = (trailing ? sdp.slice(0, -eol.length) : sdp).split(eol);
  const rank = new Map(suites.map((s, i) => [s.toUpperCase(), i]));
  const out: string[] = [];
  let changed = false;
  let i = 0;
  // The session part up to the first m= line has no crypto of its own (RFC 4568 §9.1: media level only).
  while (i < lines.length && !lines[i]!.startsWith('m=')) out.push(lines[i++]!);
  while (i < lines.length) {
    const section = [lines[i++]!];
    while (i < lines.length && !lines[i]!.startsWith('m=')) section.push(lines[i++]!);
    const mLine = section[0]!;
    const offered = section.filter((l) => CRYPTO.test(l));
    if (offered.length === 0 || /^m=\S+\s+0[\s/]/.test(mLine)) {
      out.push(...section);
      continue;
    }
    const kept = offered
      .map((l, idx) => ({ l, idx, r: rank.get(CRYPTO.exec(l)![1]!.toUpperCase()) }))
      .filter((x): x is { l: string; idx: number; r: number } => x.r !== undefined)
      .sort((a, b) => a.r - b.r || a.idx - b.idx)
      .map((x) => x.l);
    if (kept.length === 0) {
      const media = mLine.split(/\s+/)[0]!.slice(2);
      const reason = `No acceptable SRTP crypto suite for ${media}`;
      return { ok: false, status: 488, reason, reasonHeader: `SIP;cause=488;text="${reason}"` };
    }
    if (kept.length !== offered.length || kept.some((l, k) => l !== offered[k])) changed = true;
    // The kept lines take the first places of the offered ones, in the new order; the rest go.
    let k = 0;
    for (const l of section) {
      if (!CRYPTO.test(l)) out.push(l);
      else if (k < kept.length) out.push(kept[k++]!);
    }
  }
  const text = out.join(eol) + (trailing ? eol : '');
  return { ok: true, sdp: text, changed };
}
