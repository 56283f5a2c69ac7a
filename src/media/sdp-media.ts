/** One media section of an SDP body, as far as the media policy needs it. */
export interface MediaSection {
  /** `audio`, `video`, `image`, ... */
  media: string;
  port: number;
  /** The transport protocol of the m= line: `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `udptl`, ... */
  proto: string;
  /** The section carries at least one `a=crypto` line (SDES, RFC 4568). */
  sdes: boolean;
  /** Its connection address (its own c= line, else the session's). */
  address: string | undefined;
}

const M_LINE = /^m=(\S+)\s+(\d+)(?:\/\d+)?\s+(\S+)/;
const C_LINE = /^c=IN\s+IP[46]\s+([^\s/]+)/;

/** The media sections of an SDP body (RFC 8866 §5.14), with the session-level connection address inherited. */
export function mediaSections(sdp: string): MediaSection[] {
  const out: MediaSection[] = [];
  let sessionAddress: string | undefined;
  let current: MediaSection | undefined;
  for (const line of sdp.split(/\r?\n/)) {
    const m = M_LINE.exec(line);
    if (m) {
      current = { media: m[1]!, port: Number(m[2]), proto: m[3]!, sdes: false, address: sessionAddress };
      out.push(current);
      continue;
    }
    const c = C_LINE.exec(line);
    if (c) {
      if (current) current.address = c[1];
      else sessionAddress = c[1];
      continue;
    }
    if (current && /^a=crypto:/i.test(line)) current.sdes = true;
  }
  return out;
}

/** Every connection and origin address an SDP body names (o=, c=), for topology checks. */
export function sdpAddresses(sdp: string): string[] {
  const found = new Set<string>();
  for (const line of sdp.split(/\r?\n/)) {
    const c = C_LINE.exec(line);
    if (c) found.add(c[1]!);
    const o = /^o=\S+\s+\S+\s+\S+\s+IN\s+IP[46]\s+(\S+)/.exec(line);
    if (o) found.add(o[1]!);
  }
  return [...found];
}

/** The SDP with every SDES key (`inline:` value, RFC 4568 §6.1) replaced, for any text that may reach a log. */
export function redactSdp(text: string): string {
  return text.replace(/(inline:)[^\s|]+/gi, '$1[redacted]');
}

/**
 * The o= line's username replaced by `-` (RFC 8866 §5.2: "-" when the host does not support user IDs), so the
 * name one side's host gave its session never reaches the other; rtpengine replaces the address, not the name.
 */
export function hideOriginUser(sdp: string): string {
  return sdp.replace(/^o=\S+ /m, 'o=- ');
}
