// Shared pieces of the engine TLS-profile tests: profiles from test certificates, a TLS client that reports
// what it saw, and waiting on the engine's TLS failure counters.
import { once } from 'node:events';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { TestCa, TestCert } from '../support/test-certs.js';
import type { ProfileInput, TlsProfileSpec } from '../../src/tls/index.js';

/** A profile whose trustpoint is `cert` (issued by `ca`) and whose trust store is `trusted` (default: `ca`). */
export function profile(spec: TlsProfileSpec, ca: TestCa, cert: TestCert, trusted: TestCa[] = [ca]): ProfileInput {
  return {
    spec,
    material: { trustpoint: { keyPem: cert.key, certPem: cert.cert, chainPems: [ca.cert] }, trustedCaPems: trusted.map((c) => c.cert) },
  };
}

export interface TlsClientResult {
  /** The handshake completed on the client side. */
  connected: boolean;
  /** The server's certificate SAN as the client saw it. */
  peerSan?: string;
  /** The connection was closed by the server without a byte of SIP, or failed. */
  closed: boolean;
  error?: string;
  socket?: TLSSocket;
}

/**
 * Connects and waits until the handshake is done and the server either keeps the connection for `holdMs` or
 * closes it. Bounded in time; never rejects.
 */
export function tryTls(opts: ConnectionOptions, holdMs = 300): Promise<TlsClientResult> {
  return new Promise((resolve) => {
    const r: TlsClientResult = { connected: false, closed: false };
    const s = tls.connect({ host: '127.0.0.1', ...opts });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      resolve(r);
    };
    const cap = setTimeout(finish, 5000);
    s.on('secureConnect', () => {
      r.connected = true;
      r.peerSan = s.getPeerCertificate().subjectaltname;
      r.socket = s;
      setTimeout(finish, holdMs);
    });
    s.on('error', (e: Error & { code?: string }) => {
      r.error = e.code ?? e.message;
    });
    s.on('close', () => {
      r.closed = true;
      finish();
    });
  });
}

/** The gateway's verdict on a TLS client, decided by events (never by a hold time). */
export type Verdict = { verdict: 'accepted' } | { verdict: 'refused'; error: string };

/**
 * Connects, and after the handshake sends a keepalive ping (RFC 5626 §3.5.1): the pong proves the gateway took the
 * connection; a close or an error before it is a refusal. Decided by events, bounded by a deadline.
 */
export function pingVerdict(port: number, opts: ConnectionOptions): Promise<Verdict> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts });
    let error = 'closed';
    const done = (v: Verdict | Error): void => {
      clearTimeout(cap);
      s.destroy();
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    const cap = setTimeout(() => done(new Error('no pong and no close within 5 s')), 5000);
    s.on('secureConnect', () => s.write('\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      if (d.toString().includes('\r\n')) done({ verdict: 'accepted' });
    });
    s.on('error', (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    s.on('close', () => done({ verdict: 'refused', error }));
  });
}

/** Waits (bounded) until `check` holds, polling on the event loop. */
export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

export { once };
