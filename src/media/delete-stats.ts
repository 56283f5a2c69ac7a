/** What rtpengine received from one leg's endpoint during the call (RTP and RTCP separately). */
export interface LegMedia {
  packets: number;
  bytes: number;
  /** Packets rtpengine could not use (failed SRTP authentication, bad RTP). */
  errors: number;
  rtcpPackets: number;
}

/** A call's media figures from rtpengine's `delete` reply: `a` came from the caller, `b` from the called side. */
export interface MediaTotals {
  a: LegMedia;
  b: LegMedia;
}

const zero = (): LegMedia => ({ packets: 0, bytes: 0, errors: 0, rtcpPackets: 0 });

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * Sums the streams of one tag of a `delete` reply (`tags.<tag>.medias[].streams[]`, each with `flags` naming RTP
 * or RTCP and `stats: { packets, bytes, errors }` counted as received from that tag's endpoint).
 */
function tagTotals(tags: unknown, tag: string | undefined): LegMedia {
  const out = zero();
  if (tag === undefined || typeof tags !== 'object' || tags === null) return out;
  const t = (tags as Record<string, unknown>)[tag] as { medias?: unknown } | undefined;
  if (!t || !Array.isArray(t.medias)) return out;
  for (const m of t.medias as Array<{ streams?: unknown }>) {
    if (!Array.isArray(m?.streams)) continue;
    for (const s of m.streams as Array<{ flags?: unknown; stats?: Record<string, unknown> }>) {
      const flags = Array.isArray(s?.flags) ? s.flags : [];
      const stats = s?.stats ?? {};
      if (flags.includes('RTCP')) {
        out.rtcpPackets += num(stats.packets);
        continue;
      }
      out.packets += num(stats.packets);
      out.bytes += num(stats.bytes);
      out.errors += num(stats.errors);
    }
  }
  return out;
}

/** The per-leg figures of a `delete` reply; a leg that never answered (no to-tag) has zeros. */
export function legTotals(reply: Record<string, unknown>, fromTag: string, toTag: string | undefined): MediaTotals {
  return { a: tagTotals(reply.tags, fromTag), b: tagTotals(reply.tags, toTag) };
}

/**
 * When rtpengine last received media on the call, from a `query` (or `delete`) reply: the latest `last packet` of any
 * stream of any tag, in seconds since the epoch (rtpengine starts each stream's at the time it was set up). Undefined
 * when the reply names no stream.
 */
export function lastPacketAt(reply: Record<string, unknown>): number | undefined {
  let last: number | undefined;
  const tags = reply.tags;
  if (typeof tags !== 'object' || tags === null) return undefined;
  for (const t of Object.values(tags as Record<string, { medias?: unknown }>)) {
    if (!Array.isArray(t?.medias)) continue;
    for (const m of t.medias as Array<{ streams?: unknown }>) {
      if (!Array.isArray(m?.streams)) continue;
      for (const st of m.streams as Array<Record<string, unknown>>) {
        const v = st?.['last packet'];
        if (typeof v === 'number' && Number.isFinite(v)) last = last === undefined ? v : Math.max(last, v);
      }
    }
  }
  return last;
}
