// A plain RTP endpoint for tests that need RTCP: it sends PCMU-sized RTP packets (some sequence numbers skipped, so
// the far end counts them lost; uneven spacing, so it sees jitter), sends an RTCP SR every second with a reception
// report on what it received (RFC 3550 §6.4.1: cumulative loss, fraction lost, interarrival jitter per §A.8, LSR and
// DLSR of the far end's last SR), and keeps its own view of those figures for the test to compare.
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

const CLOCK = 8000;
const NTP_EPOCH = 2_208_988_800;

export interface ReceivedView {
  packets: number;
  lost: number;
  /** Interarrival jitter in timestamp units, RFC 3550 §A.8. */
  jitter: number;
  /** The last fraction lost reported (0-255). */
  fraction: number;
}

export interface RtcpEndpoint {
  socket: Socket;
  port: number;
  ssrc: number;
  /** Where to send RTP (port) and RTCP (port + 1). */
  target(port: number): void;
  /** Sends `count` packets 20 ms apart (± `wobbleMs`), leaving out the sequence numbers in `skip`. */
  play(count: number, skip: ReadonlySet<number>, wobbleMs: number): Promise<void>;
  /** Sends one SR with its reception report now. */
  report(): void;
  received(): ReceivedView;
  close(): void;
}

function ntpNow(): [number, number] {
  const ms = Date.now();
  const sec = Math.floor(ms / 1000) + NTP_EPOCH;
  const frac = Math.floor(((ms % 1000) / 1000) * 2 ** 32);
  return [sec >>> 0, frac >>> 0];
}

export async function rtcpEndpoint(ssrc: number): Promise<RtcpEndpoint> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const rtcp = createSocket('udp4');
  // RTCP on the next port (no rtcp-mux), as an RTP/AVP offer without a=rtcp implies (RFC 3550 §11).
  rtcp.bind(socket.address().port + 1, '127.0.0.1');
  await once(rtcp, 'listening');
  let dest = 0;
  let sent = 0;
  let octets = 0;
  let seqBase: number | undefined;
  let maxSeq = 0;
  let packets = 0;
  let jitter = 0;
  let lastTransit: number | undefined;
  let expectedPrior = 0;
  let receivedPrior = 0;
  let fraction = 0;
  let remote: { ssrc: number; lsr: number; at: number } | undefined;

  socket.on('message', (m) => {
    if (m.length < 12 || (m[0]! & 0xc0) !== 0x80) return;
    const seq = m.readUInt16BE(2);
    const ts = m.readUInt32BE(4);
    seqBase ??= seq;
    maxSeq = Math.max(maxSeq, seq);
    packets++;
    const arrival = (performance.now() / 1000) * CLOCK;
    const transit = arrival - ts;
    if (lastTransit !== undefined) jitter += (Math.abs(transit - lastTransit) - jitter) / 16;
    lastTransit = transit;
  });
  rtcp.on('message', (m) => {
    if (m.length >= 28 && m[1] === 200) {
      const [msw, lsw] = [m.readUInt32BE(8), m.readUInt32BE(12)];
      remote = { ssrc: m.readUInt32BE(4), lsr: (((msw & 0xffff) << 16) | (lsw >>> 16)) >>> 0, at: performance.now() };
    }
  });

  const expected = (): number => (seqBase === undefined ? 0 : maxSeq - seqBase + 1);
  const report = (): void => {
    const [msw, lsw] = ntpNow();
    const withBlock = remote !== undefined && seqBase !== undefined;
    const sr = Buffer.alloc(28 + (withBlock ? 24 : 0));
    sr[0] = 0x80 | (withBlock ? 1 : 0);
    sr[1] = 200;
    sr.writeUInt16BE(sr.length / 4 - 1, 2);
    sr.writeUInt32BE(ssrc >>> 0, 4);
    sr.writeUInt32BE(msw, 8);
    sr.writeUInt32BE(lsw, 12);
    sr.writeUInt32BE((sent * 160) >>> 0, 16);
    sr.writeUInt32BE(sent, 20);
    sr.writeUInt32BE(octets, 24);
    if (withBlock) {
      const exp = expected();
      const lost = Math.max(0, exp - packets);
      const expInterval = exp - expectedPrior;
      const lostInterval = expInterval - (packets - receivedPrior);
      fraction = expInterval > 0 && lostInterval > 0 ? Math.floor((lostInterval << 8) / expInterval) : 0;
      expectedPrior = exp;
      receivedPrior = packets;
      sr.writeUInt32BE(remote!.ssrc >>> 0, 28);
      sr.writeUInt32BE(((fraction & 0xff) << 24 | (lost & 0xffffff)) >>> 0, 32);
      sr.writeUInt32BE(maxSeq, 36);
      sr.writeUInt32BE(Math.round(jitter) >>> 0, 40);
      sr.writeUInt32BE(remote!.lsr, 44);
      sr.writeUInt32BE(Math.max(1, Math.round(((performance.now() - remote!.at) / 1000) * 65536)) >>> 0, 48);
    }
    if (dest) rtcp.send(sr, dest + 1, '127.0.0.1');
  };

  return {
    socket, port: socket.address().port, ssrc,
    target: (port) => {
      dest = port;
    },
    play: async (count, skip, wobbleMs) => {
      for (let i = 1; i <= count; i++) {
        if (!skip.has(i)) {
          const h = Buffer.alloc(172, 0x55);
          h[0] = 0x80;
          h[1] = 0;
          h.writeUInt16BE(i, 2);
          h.writeUInt32BE(i * 160, 4);
          h.writeUInt32BE(ssrc >>> 0, 8);
          socket.send(h, dest, '127.0.0.1');
          sent++;
          octets += 160;
        }
        // A bounded, deterministic wobble: every third packet late by wobbleMs, the next one early to catch up.
        const delay = 20 + (i % 3 === 1 ? wobbleMs : i % 3 === 2 ? -wobbleMs : 0);
        await new Promise((ok) => setTimeout(ok, Math.max(1, delay)));
      }
    },
    report,
    received: () => ({ packets, lost: Math.max(0, expected() - packets), jitter, fraction }),
    close: () => {
      socket.close();
      rtcp.close();
    },
  };
}
