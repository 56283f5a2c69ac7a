/**
 * A stand-in rtpengine for failover tests: an ng server on a loopback UDP socket that answers `ping`, `offer`,
 * `answer` and `delete` (mode `ok`), answers every request with `result: error` (`refuse`), or keeps its replies
 * until told to send them (`hold`: a dead or stalled instance). It counts what it received by command.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

export type FakeNgMode = 'ok' | 'refuse' | 'hold';

export interface FakeNgServer {
  address: { host: string; port: number };
  mode: FakeNgMode;
  /** Commands received, in order, with their call-id when they had one. */
  received: Array<{ command: string; callId?: string }>;
  count(command: string): number;
  /** Sends every held reply now (they arrive late at a client whose requests timed out). */
  flushHeld(): number;
  close(): Promise<void>;
}

/** Bencode of the small values these replies hold. */
function bencode(v: unknown): string {
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'string') return `${Buffer.byteLength(v)}:${v}`;
  if (Array.isArray(v)) return `l${v.map(bencode).join('')}e`;
  const o = v as Record<string, unknown>;
  return `d${Object.keys(o).sort().map((k) => bencode(k) + bencode(o[k])).join('')}e`;
}

/** A string value of a bencoded request dictionary (enough for `command` and `call-id`). */
function field(text: string, key: string): string | undefined {
  const at = text.indexOf(`${key.length}:${key}`);
  if (at < 0) return undefined;
  const m = /^(\d+):/.exec(text.slice(at + key.length + String(key.length).length + 1));
  if (!m) return undefined;
  const start = at + key.length + String(key.length).length + 1 + m[0].length;
  return text.slice(start, start + Number(m[1]));
}

export async function startFakeNgServer(mode: FakeNgMode = 'ok', sdpAddress = '127.0.0.1'): Promise<FakeNgServer> {
  const sock: Socket = createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const held: Array<{ msg: string; port: number; host: string }> = [];
  const server: FakeNgServer = {
    address: { host: '127.0.0.1', port: sock.address().port },
    mode,
    received: [],
    count: (c) => server.received.filter((r) => r.command === c).length,
    flushHeld: () => {
      const n = held.length;
      for (const h of held.splice(0)) sock.send(h.msg, h.port, h.host);
      return n;
    },
    close: () => new Promise((ok) => sock.close(() => ok())),
  };
  sock.on('message', (buf, rinfo) => {
    const text = buf.toString('latin1');
    const sp = text.indexOf(' ');
    const cookie = text.slice(0, sp);
    const body = text.slice(sp + 1);
    const command = field(body, 'command') ?? '';
    const callId = field(body, 'call-id');
    server.received.push({ command, ...(callId !== undefined ? { callId } : {}) });
    let reply: Record<string, unknown>;
    if (server.mode === 'refuse') reply = { result: 'error', 'error-reason': 'refused by the fake' };
    else if (command === 'ping') reply = { result: 'pong' };
    else if (command === 'offer' || command === 'answer') {
      reply = {
        result: 'ok',
        sdp: `v=0\r\no=- 1 1 IN IP4 ${sdpAddress}\r\ns=-\r\nc=IN IP4 ${sdpAddress}\r\nt=0 0\r\nm=audio 30000 RTP/SAVP 0\r\n` +
          'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEYSECRETKEYSECRETKEYSECRETKEYSECR\r\n',
      };
    } else reply = { result: 'ok', tags: {} };
    const msg = `${cookie} ${bencode(reply)}`;
    if (server.mode === 'hold') held.push({ msg, port: rinfo.port, host: rinfo.address });
    else sock.send(msg, rinfo.port, rinfo.address);
  });
  return server;
}
