/**
 * The SDP of an anchored call, cut down to what media needs, so that what reaches one side names nothing of the
 * other: rtpengine rewrites the origin and connection addresses and ports of the sections it relays, and passes
 * the rest of a body through as it came (a session name, contact lines, an `m=message` section with its
 * `a=path:msrp://10.0.0.11...`, an `a=x-pbx-host:`). The scrub runs on what goes into rtpengine (so its only
 * addresses are the ones sdp-address.ts checked, and no ICE candidate can send it elsewhere) and on what it writes.
 */

/**
 * Transport protocols rtpengine relays (its table of transport protocols, daemon/media_socket.c): the RTP profiles
 * and T.38 over UDPTL. It relays over UDP only, so a TCP protocol (TCP/MSRP, TCP/BFCP, TCP/RTP/AVP) could not work
 * through it, and it passes an `m=message` section through untouched with the offerer's address.
 */
const RELAYED = /^(?:RTP\/S?AVPF?|UDP\/TLS\/RTP\/S?AVPF?|udptl)$/i;

/**
 * Attributes kept, session or media level: codecs, packet times, direction, RTCP, SRTP keys (SDES, DTLS), bundling
 * and T.38's own. Everything else goes, names and addresses with it: `a=ssrc` (its cname may be user@host), ICE
 * (`a=candidate` names the host's addresses; rtpengine would send checks to them), `a=tool`, `a=x-*`.
 */
const KEPT = new Set([
  'rtpmap', 'fmtp', 'ptime', 'maxptime', 'sendrecv', 'sendonly', 'recvonly', 'inactive', 'rtcp', 'rtcp-mux', 'rtcp-rsize',
  'rtcp-fb', 'crypto', 'fingerprint', 'setup', 'connection', 'mid', 'group', 'extmap', 'framerate', 'imageattr', 'content',
  'label', 'silencesupp', 'orient', 'quality',
  't38faxversion', 't38maxbitrate', 't38faxfillbitremoval', 't38faxtranscodingmmr', 't38faxtranscodingjbig',
  't38faxratemanagement', 't38faxmaxbuffer', 't38faxmaxdatagram', 't38faxmaxifp', 't38faxudpec', 't38faxudpecdepth',
  't38faxudpfecmaxspan',
]);

const M_LINE = /^m=(\S+) (\d+)((?:\/\d+)? )(\S+)(.*)$/;

/** Whether rtpengine relays a section of this media type and protocol (see RELAYED). */
export function relayedSection(media: string, proto: string): boolean {
  return media.toLowerCase() !== 'message' && RELAYED.test(proto);
}

/**
 * The body with: sections rtpengine does not relay disabled (port 0, RFC 3264 §6: a rejected stream; nothing of
 * them kept but the m= line and a connection line with the unspecified address), the o= user name `-`, the
 * session name `-` (RFC 8866 §5.3: "-" when there is none), no i=, u=, e=, p= or k= line, and only the attributes
 * of KEPT. Other line types keep their place: v, o, s, c, b, t, r, z, m. Idempotent.
 */
export function scrubSdp(sdp: string): string {
  const out: string[] = [];
  let disabled = false;
  let inMedia = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    if (type === 'm') {
      inMedia = true;
      const m = M_LINE.exec(line);
      disabled = m === null || (m[2] !== '0' && !relayedSection(m[1]!, m[4]!));
      if (m === null) continue;
      out.push(disabled ? `m=${m[1]} 0${m[3]}${m[4]}${m[5]}` : line);
      if (m[2] === '0') disabled = true;
      continue;
    }
    if (inMedia && disabled) {
      // A rejected section keeps a connection line only (one may be needed when the session has none).
      if (type === 'c') out.push(/ IP6 /i.test(line) ? 'c=IN IP6 ::' : 'c=IN IP4 0.0.0.0');
      continue;
    }
    switch (type) {
      case 'o':
        out.push(line.replace(/^o=\S+ /, 'o=- '));
        break;
      case 's':
        out.push('s=-');
        break;
      case 'a':
        if (KEPT.has(/^a=([^:\s]+)/.exec(line)?.[1]?.toLowerCase() ?? '')) out.push(line);
        break;
      case 'v': case 'c': case 'b': case 't': case 'r': case 'z':
        out.push(line);
        break;
      default:
        // i, u, e, p, k, and anything RFC 8866 does not define.
        break;
    }
  }
  return out.length === 0 ? sdp : `${out.join('\r\n')}\r\n`;
}
