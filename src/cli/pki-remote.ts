import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { inspectPem } from '../certificate-ops/index.js';
import type { CertificateRow } from '../certificate-inventory.js';
import { peerChain } from '../tls/chain-check.js';

/** `HOST:PORT` or `[v6]:PORT`; undefined when `arg` is not one (then it names a file). */
export function parseHostPort(arg: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/\\[\]]+)):(\d{1,5})$/.exec(arg);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/**
 * The certificates a TLS server sends (`trunkgate pki inspect HOST:PORT`): one handshake, nothing verified (this
 * is a look, not a trust decision: `trunkgate tls probe` gives a profile's verdict), SNI sent unless the host is an
 * address, bounded by `timeoutMs`. Rejects with the handshake's error.
 */
export function inspectRemote(host: string, port: number, o: { sni?: string; timeoutMs?: number; now: Date }): Promise<CertificateRow[]> {
  return new Promise((resolve, reject) => {
    const servername = o.sni ?? (isIP(host) ? undefined : host);
    const s = tls.connect({ host, port, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    const timer = setTimeout(() => s.destroy(new Error(`no TLS handshake with ${host}:${port} within ${o.timeoutMs ?? 5000} ms`)), o.timeoutMs ?? 5000);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const pems = peerChain(s.getPeerCertificate(true)).filter((c) => c.raw).map((c) => new X509Certificate(c.raw).toString());
      s.destroy();
      if (pems.length === 0) {
        reject(new Error(`${host}:${port} sent no certificate`));
        return;
      }
      resolve(inspectPem(pems.join(''), `${host}:${port}`, o.now));
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    });
  });
}
