/**
 * Full TLS handshakes per second and memory per idle TLS connection: a listener built from a TLS profile
 * (SNI callback, inbound check) against a bare Node tls server with the same certificate; RSA-2048 and
 * ECDSA P-256, TLS 1.2 and 1.3. The server runs in a child process so its memory is measured alone.
 * Usage: node --import tsx bench/tls-handshake.ts [handshakes=400] [idle=2000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLocalCa, issueGatewayCertificate, type TrustpointMaterial } from '../src/pki/index.js';
import { buildListenerTlsOptions, buildTlsProfile, profileForSocket, type ListenerTlsOptions } from '../src/tls/index.js';

type Kind = 'profile' | 'bare';
type Msg = { start: { kind: Kind; tp: TrustpointMaterial; caPem: string } } | { mem: true } | { stop: true };

async function serverMain(): Promise<void> {
  let server: tls.Server | undefined;
  const sockets = new Set<tls.TLSSocket>();
  process.on('message', async (m: Msg) => {
    if ('start' in m) {
      const { kind, tp, caPem } = m.start;
      if (kind === 'bare') {
        server = tls.createServer({ key: tp.keyPem, cert: tp.certPem + tp.chainPems.join('') });
        server.on('secureConnection', (s) => track(s));
      } else {
        const p = buildTlsProfile({ name: 'bench', tenant: 'bench', cnSanValidate: 'server' }, { trustpoint: tp, trustedCaPems: [caPem] });
        const opts: ListenerTlsOptions = { profiles: () => [p], defaultProfile: () => p };
        server = tls.createServer(buildListenerTlsOptions(opts));
        server.on('secureConnection', (s) => {
          const r = profileForSocket(opts, s).checkInbound(s);
          if (!r.ok) s.destroy();
          else track(s);
        });
      }
      server.on('tlsClientError', () => {});
      server.listen(0, '127.0.0.1', () => process.send!({ port: (server!.address() as AddressInfo).port }));
    } else if ('mem' in m) {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ rss: process.memoryUsage().rss, sockets: sockets.size });
    } else {
      for (const s of sockets) s.destroy();
      server?.close(() => process.exit(0));
    }
  });
  function track(s: tls.TLSSocket): void {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  }
}

function ask<T>(child: ChildProcess, msg: Msg): Promise<T> {
  child.send(msg);
  return once(child, 'message').then(([r]) => r as T);
}

async function handshakes(port: number, caPem: string, version: 'TLSv1.2' | 'TLSv1.3', total: number, concurrency: number): Promise<number> {
  let started = 0;
  const t0 = process.hrtime.bigint();
  async function lane(): Promise<void> {
    while (started < total) {
      started++;
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: [caPem], servername: 'gw.example.com', minVersion: version, maxVersion: version }, () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return total / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function idleMemory(child: ChildProcess, port: number, caPem: string, n: number): Promise<number> {
  const before = await ask<{ rss: number }>(child, { mem: true });
  const clients: tls.TLSSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () => new Promise<void>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: [caPem], servername: 'gw.example.com' }, () => resolve());
        s.on('error', reject);
        clients.push(s);
      })),
    );
  }
  // Let the server finish its side of every handshake.
  for (let i = 0; i < 50; i++) {
    const m = await ask<{ rss: number; sockets: number }>(child, { mem: true });
    if (m.sockets >= n) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = await ask<{ rss: number; sockets: number }>(child, { mem: true });
  for (const s of clients) s.destroy();
  return (after.rss - before.rss) / after.sockets;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 400);
  const idle = Number(process.argv[3] ?? 2000);
  const rows: string[][] = [];
  for (const key of ['rsa', 'ec'] as const) {
    const ca = createLocalCa({ key: { type: key } });
    const tp = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: key === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec' } });
    const results: Record<string, number> = {};
    for (const kind of ['bare', 'profile'] as Kind[]) {
      const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--import', 'tsx', '--expose-gc'] });
      const { port } = await ask<{ port: number }>(child, { start: { kind, tp, caPem: ca.certPem } });
      await handshakes(port, ca.certPem, 'TLSv1.3', 50, 4); // warm-up
      for (const v of ['TLSv1.2', 'TLSv1.3'] as const) results[`${kind}-${v}`] = await handshakes(port, ca.certPem, v, total, 8);
      results[`${kind}-mem`] = await idleMemory(child, port, ca.certPem, idle);
      child.send({ stop: true });
      await once(child, 'exit');
    }
    const label = key === 'rsa' ? 'RSA-2048' : 'ECDSA P-256';
    for (const v of ['TLSv1.2', 'TLSv1.3']) {
      const b = results[`bare-${v}`]!;
      const p = results[`profile-${v}`]!;
      rows.push([label, v, b.toFixed(0), p.toFixed(0), (p / b).toFixed(2)]);
    }
    const bm = results['bare-mem']!;
    const pm = results['profile-mem']!;
    rows.push([label, `idle x${idle}`, `${(bm / 1024).toFixed(1)} KiB`, `${(pm / 1024).toFixed(1)} KiB`, (pm / bm).toFixed(2)]);
  }
  const head = ['key', 'TLS / measure', 'bare node tls', 'profile listener', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`full handshakes/s (client and server on one 2-core host, ${total} per cell, 8 in flight); memory = server RSS per idle connection`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

if (process.argv.includes('--server')) void serverMain();
else await main();
