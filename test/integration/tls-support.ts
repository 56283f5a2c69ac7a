import { once, EventEmitter } from 'node:events';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  buildListenerTlsOptions,
  classifyTlsFailure,
  profileForSocket,
  type InboundCheck,
  type ListenerTlsOptions,
  type TlsFailure,
  TlsStats,
} from '../../src/tls/index.js';

/** What a listener built from profiles saw: failures (classified) and accepted peers. */
export interface ListenerRecord {
  port: number;
  failures: TlsFailure[];
  accepted: (InboundCheck & { ok: true; profile: string; protocol: string | null; cipher: string })[];
  stats: TlsStats;
  events: EventEmitter;
  server: tls.Server;
}

type Ctx = { after(fn: () => void | Promise<void>): void };

/** A TLS listener wired the way the transport must wire it: options, SNI, checkInbound, classifier, counters. */
export async function startListener(t: Ctx, opts: ListenerTlsOptions): Promise<ListenerRecord> {
  const stats = new TlsStats();
  const events = new EventEmitter();
  const rec: ListenerRecord = { port: 0, failures: [], accepted: [], stats, events, server: undefined as never };
  const server = tls.createServer(buildListenerTlsOptions(opts));
  rec.server = server;
  const sockets = new Set<TLSSocket>();
  server.on('tlsClientError', (e) => {
    const f = classifyTlsFailure(e);
    rec.failures.push(f);
    stats.recordFailure(opts.defaultProfile().tenant, 'server', f.reason);
    events.emit('event');
  });
  server.on('secureConnection', (s: TLSSocket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    const p = profileForSocket(opts, s);
    const r = p.checkInbound(s);
    if (!r.ok) {
      rec.failures.push(r.failure);
      stats.recordFailure(p.tenant, 'server', r.failure.reason);
      s.destroy();
    } else {
      stats.recordSuccess(p.tenant, 'server');
      rec.accepted.push({ ...r, profile: p.name, protocol: s.getProtocol(), cipher: s.getCipher().name });
      s.end(`ok ${p.name}`);
    }
    events.emit('event');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  rec.port = (server.address() as AddressInfo).port;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return rec;
}

/** Waits (bounded) until the listener has recorded `n` outcomes in total. */
export async function settled(rec: ListenerRecord, n = 1, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (rec.failures.length + rec.accepted.length < n) {
    if (Date.now() > deadline) throw new Error('listener recorded nothing in time');
    await Promise.race([once(rec.events, 'event'), new Promise((r) => setTimeout(r, 50))]);
  }
}

export type ClientOutcome =
  | { ok: true; data: string; protocol: string | null; cipher: string; peerSan: string | undefined }
  | { ok: false; failure: TlsFailure; handshake: boolean };

/** Connects, waits for the server's `ok <profile>` or the failure; bounded to 3 s. */
export function connectTls(opts: ConnectionOptions): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    let data = '';
    let handshake = false;
    let info: { protocol: string | null; cipher: string; peerSan: string | undefined } | undefined;
    const s = tls.connect(opts, () => {
      handshake = true;
      info = { protocol: s.getProtocol(), cipher: s.getCipher().name, peerSan: s.getPeerCertificate().subjectaltname };
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ ok: false, failure: classifyTlsFailure({ code: 'TIMEOUT' }), handshake });
    }, 3000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, failure: classifyTlsFailure(e), handshake });
    });
    s.on('close', () => {
      clearTimeout(timer);
      if (data.startsWith('ok') && info) resolve({ ok: true, data, ...info });
      else resolve({ ok: false, failure: classifyTlsFailure({ code: 'ECONNRESET', message: 'closed by server' }), handshake });
    });
  });
}

/** A bare Node TLS server standing in for a far end we connect to. */
export async function startPeerServer(t: Ctx, options: tls.TlsOptions): Promise<{ port: number; errors: TlsFailure[] }> {
  const errors: TlsFailure[] = [];
  const server = tls.createServer(options, (s) => {
    s.on('error', () => {});
    s.end('ok peer');
  });
  server.on('tlsClientError', (e) => errors.push(classifyTlsFailure(e)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, errors };
}
