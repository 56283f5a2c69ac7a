// The attacker's side of the hostile-traffic run: idle and stalled connections held from many loopback sources, a
// one-byte-a-second trickle, and paced UDP floods. Each is bounded in count and time and ends by itself.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface HeldConnections {
  /** Connections whose TCP handshake completed. */
  opened: number;
  /** Of those, how many the gateway has closed so far. */
  closedByPeer(): number;
  /** Resolves once every opened connection was closed by the gateway, or after `ms` (then some are still open). */
  allClosed(ms: number): Promise<boolean>;
  /** Closes what is left (the test's cleanup). */
  destroy(): void;
}

/**
 * Opens `perSource` connections from each loopback source to `port` and holds them: nothing is sent on a plain
 * one; on a `tlsStall` one the first bytes of a ClientHello record are sent, then nothing, so the server sits in its
 * handshake. Connections are opened in batches so the listen backlog is not what refuses them.
 */
export async function holdConnections(o: { port: number; sources: string[]; perSource: number; tlsStall?: boolean }): Promise<HeldConnections> {
  const sockets: Socket[] = [];
  let closed = 0;
  let opened = 0;
  const waiters = new Set<() => void>();
  const pending: Promise<void>[] = [];
  for (const source of o.sources) {
    for (let i = 0; i < o.perSource; i++) {
      pending.push(new Promise<void>((done) => {
        const s = connect({ host: '127.0.0.1', port: o.port, localAddress: source });
        sockets.push(s);
        let wasOpen = false;
        s.on('error', () => undefined);
        s.once('connect', () => {
          wasOpen = true;
          opened++;
          // A TLS record header (handshake, TLS 1.0 record version, 512 bytes to come) and 3 of those bytes.
          if (o.tlsStall) s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]));
          done();
        });
        s.once('close', () => {
          if (wasOpen) closed++;
          for (const w of waiters) w();
          done();
        });
      }));
      if (pending.length % 100 === 0) {
        await Promise.all(pending.splice(0));
      }
    }
  }
  await Promise.all(pending);
  return {
    opened,
    closedByPeer: () => closed,
    allClosed: (ms) => new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (closed < opened) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(closed >= opened);
      }, ms);
      waiters.add(check);
      check();
    }),
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * Sends an INVITE one byte a second from `source` until the gateway closes the connection (or `maxBytes` went
 * out); returns how many bytes were sent before the close.
 */
export async function trickle(o: { port: number; source: string; maxBytes: number }): Promise<{ sent: number; closedByPeer: boolean }> {
  const text = Buffer.from(`INVITE sip:3000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP ${o.source};branch=z9hG4bKtrickle\r\n`
    + 'Max-Forwards: 70\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:3000@127.0.0.1>\r\nCall-ID: trickle\r\nCSeq: 1 INVITE\r\n'
    + `Contact: <sip:t@${o.source}>\r\nContent-Length: 0\r\n\r\n`);
  const s = connect({ host: '127.0.0.1', port: o.port, localAddress: o.source });
  s.on('error', () => undefined);
  await once(s, 'connect');
  let closed = false;
  s.once('close', () => (closed = true));
  let sent = 0;
  while (!closed && sent < Math.min(o.maxBytes, text.length)) {
    s.write(text.subarray(sent, sent + 1));
    sent++;
    await sleep(1000);
  }
  const closedByPeer = closed;
  s.destroy();
  return { sent, closedByPeer };
}

export interface FloodResult {
  sent: number;
  /** Answers by status code (100 Trying included). */
  statuses: Map<number, number>;
  /** Every answer with a final status, in full (for the header checks). */
  finals: string[];
  elapsedMs: number;
}

/**
 * Sends `count` UDP messages made by `make(i, port)` from `source` at `perSecond` (in 10 ms slices), keeps every
 * answer for `settleMs` after the last one went out, and answers each final response with nothing (an attacker
 * does not ACK).
 */
export async function udpFlood(o: {
  port: number; source: string; count: number; perSecond: number; settleMs: number; make: (i: number, localPort: number) => string;
}): Promise<FloodResult> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  const statuses = new Map<number, number>();
  const finals: string[] = [];
  s.on('message', (m) => {
    const text = m.toString('latin1');
    const status = /^SIP\/2\.0 (\d{3}) /.exec(text);
    if (!status) return;
    const code = Number(status[1]);
    statuses.set(code, (statuses.get(code) ?? 0) + 1);
    if (code >= 200) finals.push(text);
  });
  s.bind(0, o.source);
  await once(s, 'listening');
  const localPort = s.address().port;
  const perSlice = Math.max(1, Math.round(o.perSecond / 100));
  const started = Date.now();
  let sent = 0;
  while (sent < o.count) {
    const sliceStart = Date.now();
    for (let k = 0; k < perSlice && sent < o.count; k++, sent++) s.send(o.make(sent, localPort), o.port, '127.0.0.1');
    const wait = 10 - (Date.now() - sliceStart);
    if (wait > 0) await sleep(wait);
  }
  const elapsedMs = Date.now() - started;
  await sleep(o.settleMs);
  s.close();
  return { sent, statuses, finals, elapsedMs };
}
