import type { TestContext } from 'node:test';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

/** A tiny SIP user agent over UDP on loopback, enough for one call. */
export interface Ua {
  socket: Socket;
  port: number;
  received: string[];
  send(text: string, port: number): void;
  /** The next message matching `re`, waiting at most 5 s. */
  next(re: RegExp): Promise<string>;
}

export async function ua(t: TestContext, onMessage?: (msg: string, ua: Ua, from: number) => void): Promise<Ua> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  const waiters: { re: RegExp; resolve: (m: string) => void }[] = [];
  const self: Ua = {
    socket,
    port: socket.address().port,
    received: [],
    send: (text, port) => socket.send(Buffer.from(text), port, '127.0.0.1'),
    next: (re) => {
      const seen = self.received.find((m) => re.test(m));
      if (seen) {
        self.received.splice(self.received.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message matching ${re}`)), 5_000);
        waiters.push({ re, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
  };
  socket.on('message', (buf, rinfo) => {
    const msg = buf.toString();
    onMessage?.(msg, self, rinfo.port);
    const w = waiters.findIndex((x) => x.re.test(msg));
    if (w >= 0) waiters.splice(w, 1)[0]!.resolve(msg);
    else self.received.push(msg);
  });
  return self;
}

export const header = (msg: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(msg)?.[1]?.trim() ?? '';
export const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

export function answer(req: string, status: string, port: number, body = ''): string {
  const vias = req.split('\r\n').filter((l) => /^(via|v):/i.test(l));
  const to = header(req, 'To');
  return [`SIP/2.0 ${status}`, ...vias, `From: ${header(req, 'From')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=uas1`}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, `Contact: <sip:uas@127.0.0.1:${port}>`,
    ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

