/**
 * A pcap file of RTP for sipp's `play_pcap_audio`: `count` G.711 A-law packets (payload type 8, 160 bytes, 20 ms
 * apart) in Ethernet/IPv4/UDP frames, RTCP sender reports among them if asked. sipp rewrites the addresses and ports
 * when it plays them.
 */
import { writeFileSync } from 'node:fs';

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RTP header (12) plus payload bytes of each packet: what rtpengine counts as its bytes. */
export const RTP_PACKET_BYTES = 12 + 160;

/** One Ethernet/IPv4/UDP frame of `payload` between the pcap's fixed ports, as a pcap record `usec` into the capture. */
function frame(payload: Buffer, id: number, srcPort: number, dstPort: number, usec: number): Buffer[] {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(srcPort, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(id & 0xffff, 4);
  ip[8] = 64;
  ip[9] = 17;
  ip.set([10, 0, 0, 1], 12);
  ip.set([10, 0, 0, 2], 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const f = Buffer.concat([eth, ip, udp, payload]);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1_700_000_000 + Math.floor(usec / 1e6), 0);
  rec.writeUInt32LE(usec % 1e6, 4);
  rec.writeUInt32LE(f.length, 8);
  rec.writeUInt32LE(f.length, 12);
  return [rec, f];
}

/** An RTCP sender report with no reception block (RFC 3550 §6.4.1) after `sent` packets, its NTP time `usec` in. */
function senderReport(sent: number, usec: number): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(0x7467_0001, 4);
  const ntp = 3_900_000_000 + usec / 1e6;
  sr.writeUInt32BE(Math.floor(ntp) >>> 0, 8);
  sr.writeUInt32BE(Math.floor((ntp % 1) * 2 ** 32) >>> 0, 12);
  sr.writeUInt32BE((sent * 160) >>> 0, 16);
  sr.writeUInt32BE(sent, 20);
  sr.writeUInt32BE(sent * 160, 24);
  return sr;
}

/**
 * `count` RTP packets; with `senderReportEvery`, an RTCP sender report after every that many packets, sent to the
 * RTP port + 1 (sipp plays each packet to the remote media port plus its offset from the capture's lowest port), so
 * the far end gets a sender report to answer with reception reports.
 */
export function writeRtpPcap(path: string, count: number, o: { senderReportEvery?: number } = {}): void {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65_535, 16);
  global.writeUInt32LE(1, 20); // Ethernet
  const frames: Buffer[] = [global];
  for (let i = 0; i < count; i++) {
    const rtp = Buffer.alloc(RTP_PACKET_BYTES, 0xd5);
    rtp[0] = 0x80;
    rtp[1] = 8;
    rtp.writeUInt16BE(i, 2);
    rtp.writeUInt32BE(i * 160, 4);
    rtp.writeUInt32BE(0x7467_0001, 8);
    frames.push(...frame(rtp, i, 40_000, 40_002, i * 20_000));
    const every = o.senderReportEvery;
    if (every && (i + 1) % every === 0) frames.push(...frame(senderReport(i + 1, i * 20_000 + 1000), 50_000 + i, 40_001, 40_003, i * 20_000 + 1000));
  }
  writeFileSync(path, Buffer.concat(frames));
}

/** The sipp step that answers the request just received with 200 OK and no body (a BYE, a re-INVITE's ACK aside). */
export const ANSWER_200_OK = `<send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>`;

/**
 * The PBX's INVITE offering PCMA (and telephone-event 101 with `dtmf`), retransmitted until answered, then the
 * optional 100 and 180, the 200 (its Record-Route kept) and the ACK: the first steps of every sipp UAC call here.
 */
export function pbxInviteThenAck(dtmf = false): string {
  return `  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=pbx 53655765 2353687637 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8${dtmf ? ' 101' : ''}
      a=rtpmap:8 PCMA/8000${dtmf ? '\n      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-16' : ''}
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>`;
}

/** The carrier's 200 OK to an INVITE with `sdp` (body lines) as its body; `retrans` resends it until the ACK. */
export function answer200WithSdp(sdp: string, o: { retrans?: boolean } = {}): string {
  return `<send${o.retrans ? ' retrans="500"' : ''}><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]TgB[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:uas@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      ${sdp.trim()}
  ]]></send>`;
}

/**
 * A sipp UAC call with RTP: PCMA offered (and telephone-event 101 with `dtmf`), the pcap played after the ACK, the BYE
 * `pauseMs` later (default 2 s). With `then`, a second pcap (an RFC 4733 digit after the audio) is played `afterMs`
 * after the first, and the BYE comes `pauseMs` after that.
 */
export function uacRtpScenario(pcap: string, o: { dtmf?: boolean; pauseMs?: number; then?: { pcap: string; afterMs: number } } = {}): string {
  const dtmf = o.dtmf === true;
  const then = o.then ? `
  <pause milliseconds="${o.then.afterMs}"/>
  <nop><action><exec play_pcap_audio="${o.then.pcap}"/></action></nop>` : '';
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="trunkgate uac call with rtp${dtmf ? ' and an RFC 4733 digit' : ''}">
${pbxInviteThenAck(dtmf)}
  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>${then}
  <pause milliseconds="${o.pauseMs ?? 2000}"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: "pbx" <sip:1001@[local_ip]:[local_port]>;tag=[pid]TgA[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
`;
}
