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

/** Waits (bounded) until `check` holds, polling on the event loop. */
export async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

export { once };
