/**
 * What rtpengine received from one leg's endpoint during the call (RTP and RTCP separately), and the quality that
 * endpoint reported in RTCP (RFC 3550 §6.4.1 reception reports) about the media it received from the gateway.
 * The reported figures are null when rtpengine kept none for the leg: the endpoint sent no RTCP, or no report
 * rtpengine could use (it keeps a report only when it can place the leg's round trip, from a sender report of the
 * other side that the report names).
 */
export interface LegMedia {
  packets: number;
  bytes: number;
  /** Packets rtpengine could not use (failed SRTP authentication, bad RTP). */
  errors: number;
  rtcpPackets: number;
  /** Packets the endpoint counted lost (its last report's cumulative number lost). */
  lost: number | null;
  /** The fraction lost of its reports, averaged, in percent. */
  lossPercent: number | null;
  /** The interarrival jitter of its reports, averaged, in milliseconds. */
  jitterMs: number | null;
  /** rtpengine's MOS estimate from those reports, averaged (1.0 to 4.5). */
  mos: number | null;
}

/** A call's media figures from rtpengine's `delete` reply: `a` came from the caller, `b` from the called side. */
export interface MediaTotals {
  a: LegMedia;
  b: LegMedia;
}

const zero = (): LegMedia => ({ packets: 0, bytes: 0, errors: 0, rtcpPackets: 0, lost: null, lossPercent: null, jitterMs: null, mos: null });

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * Sums the streams of one tag of a `delete` reply (`tags.<tag>.medias[].streams[]`, each with `flags` naming RTP
 * or RTCP and `stats: { packets, bytes, errors }` counted as received from that tag's endpoint).
 */
function tagTotals(tags: unknown, tag: string | undefined, bySsrc: unknown): LegMedia {
  const out = zero();
  if (tag === undefined || typeof tags !== 'object' || tags === null) return out;
  const ssrcs = new Set<number>();
  const t = (tags as Record<string, unknown>)[tag] as { medias?: unknown } | undefined;
  if (!t || !Array.isArray(t.medias)) return out;
  for (const m of t.medias as Array<{ streams?: unknown }>) {
    if (!Array.isArray(m?.streams)) continue;
    for (const s of m.streams as Array<{ flags?: unknown; stats?: Record<string, unknown> }>) {
      const flags = Array.isArray(s?.flags) ? s.flags : [];
      const stats = s?.stats ?? {};
      if (typeof (s as Record<string, unknown>)?.SSRC === 'number') ssrcs.add((s as Record<string, unknown>).SSRC as number);
      if (flags.includes('RTCP')) {
        out.rtcpPackets += num(stats.packets);
        continue;
      }
      out.packets += num(stats.packets);
      out.bytes += num(stats.bytes);
      out.errors += num(stats.errors);
    }
  }
  return { ...out, ...reported(bySsrc, ssrcs) };
}

type Reported = Pick<LegMedia, 'lost' | 'lossPercent' | 'jitterMs' | 'mos'>;

/**
 * The reception-report figures rtpengine keeps per SSRC (the reply's `SSRC` dictionary, keyed by the SSRC in
 * decimal): `cumulative loss`, and `average MOS` with `jitter` (ms), `packet loss` (%) and `MOS` (tenths). Each
 * entry describes what the endpoint sending that SSRC received, so a leg's entries are those of the SSRCs its
 * streams received from it. Several (a changed SSRC, several media): the lost packets add up, and the worst
 * jitter, loss and MOS are kept.
 */
function reported(bySsrc: unknown, ssrcs: ReadonlySet<number>): Reported {
  const out: Reported = { lost: null, lossPercent: null, jitterMs: null, mos: null };
  if (typeof bySsrc !== 'object' || bySsrc === null) return out;
  const worst = (prev: number | null, v: number, pick: (a: number, b: number) => number): number => (prev === null ? v : pick(prev, v));
  for (const ssrc of ssrcs) {
    const e = (bySsrc as Record<string, unknown>)[String(ssrc >>> 0)] as Record<string, unknown> | undefined;
    if (!e || typeof e !== 'object') continue;
    const avg = (e['average MOS'] ?? {}) as Record<string, unknown>;
    if (typeof e['cumulative loss'] === 'number') out.lost = (out.lost ?? 0) + num(e['cumulative loss']);
    if (typeof avg.jitter === 'number') out.jitterMs = worst(out.jitterMs, num(avg.jitter), Math.max);
    if (typeof avg['packet loss'] === 'number') out.lossPercent = worst(out.lossPercent, num(avg['packet loss']), Math.max);
    if (typeof avg.MOS === 'number' && avg.MOS > 0) out.mos = worst(out.mos, num(avg.MOS) / 10, Math.min);
  }
  return out;
}

/** The per-leg figures of a `delete` reply; a leg that never answered (no to-tag) has zeros. */
export function legTotals(reply: Record<string, unknown>, fromTag: string, toTag: string | undefined): MediaTotals {
  return { a: tagTotals(reply.tags, fromTag, reply.SSRC), b: tagTotals(reply.tags, toTag, reply.SSRC) };
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
