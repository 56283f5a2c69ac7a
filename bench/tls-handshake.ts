/**
 * Full TLS handshakes per second and memory per idle TLS connection: the gateway's TLS listener against a bare
 * Node `tls` server with the same certificate (both in bench/tls-server-process.ts); RSA-2048 and ECDSA P-256,
 * TLS 1.2 and 1.3. bench/tls-instructions.ts counts the same handshakes in instructions instead.
 *
 * Each server runs in its own process and the clients in this one. Rounds are interleaved (bare and gateway
 * alternate, order swapped every round) so both see the same machine load. A server's capacity is measured
 * as handshakes per CPU-second of that server process (process.cpuUsage in the server), which a shared
 * machine's load moves less than the wall clock (per-round ratios still swing by about ±10% on a 2-core VM); the
 * wall-clock rate is printed beside it, and the main thread's own CPU time per handshake (from /proc), which leaves
 * out V8's helper threads (concurrent marking and compilation, the same work for both servers). Medians of the
 * rounds, with the min–max of the per-round ratios.
 *
 * Usage: node --import tsx bench/tls-handshake.ts [--rounds 5] [--per-round 300] [--concurrency 8]
 *          [--idle 5000] [--only rsa|ec] [--version TLSv1.2|TLSv1.3] [--product dist|src] [--cpu-prof DIR]
 */
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { createLocalCa, issueGatewayCertificate } from '../src/pki/index.js';
import { ask, compileProduct, runHandshakes, startServer, stopServer, type Sample, type Server, type Version } from './tls-server-process.js';

interface Cell {
  wall: number;
  cpu: number;
  /** Handshakes per CPU-second of the main thread alone (V8's helper threads left out). */
  main: number;
}

async function round(server: Server, version: Version, total: number, concurrency: number): Promise<Cell> {
  const before = await ask<Sample>(server.child, { sample: { gc: false } });
  const t0 = process.hrtime.bigint();
  await runHandshakes(server.port, version, total, concurrency);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await ask<Sample>(server.child, { sample: { gc: false } });
  const done = after.accepted - before.accepted;
  if (done !== total) throw new Error(`${server.kind}: ${done} of ${total} handshakes completed on the server`);
  return { wall: total / wallS, cpu: total / ((after.cpuUs - before.cpuUs) / 1e6), main: total / ((after.mainCpuUs - before.mainCpuUs) / 1e6) };
}

/**
 * Server memory per connection held open by the client: `tls` finished its handshake and is idle, `half-open`
 * sent the first bytes of a ClientHello and stalls (the server sits in its handshake), `tcp` is a plain TCP
 * connection to a SIP TCP listener that never sends a byte.
 */
async function idleMemory(server: Server, n: number, mode: 'tls' | 'half-open' | 'tcp' = 'tls'): Promise<{ rss: number; heap: number }> {
  const before = await ask<Sample>(server.child, { sample: { gc: true } });
  const clients: net.Socket[] = [];
  const open1 = (): Promise<void> => new Promise<void>((resolve, reject) => {
    if (mode === 'tls') {
      const s = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'gw.example.com', rejectUnauthorized: false }, () => resolve());
      s.on('error', reject);
      clients.push(s);
      return;
    }
    const s = net.connect({ host: '127.0.0.1', port: mode === 'tcp' ? server.tcpPort : server.port }, () => {
      // A TLS record header (handshake, 512 bytes to come) and the first 3 of those bytes.
      if (mode === 'half-open') s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]));
      resolve();
    });
    s.on('error', reject);
    clients.push(s);
  });
  for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, open1));
  // A half-open or plain TCP connection is not counted by the bare servers: give the server a second to take them.
  if (mode !== 'tls') await new Promise((r) => setTimeout(r, 1000));
  let after = await ask<Sample>(server.child, { sample: { gc: true } });
  for (let i = 0; i < 100 && mode !== 'half-open' && after.open - before.open < n; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await ask<Sample>(server.child, { sample: { gc: true } });
  }
  const open = mode === 'half-open' ? n : after.open - before.open;
  if (open < n) throw new Error(`${server.kind}: only ${open} of ${n} idle connections open on the server`);
  for (const s of clients) s.destroy();
  // Let the server see the closes before the next measurement.
  for (let i = 0; i < 100; i++) {
    const s = await ask<Sample>(server.child, { sample: { gc: false } });
    if (s.open <= before.open) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { rss: (after.rss - before.rss) / open, heap: (after.heapUsed - before.heapUsed) / open };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'per-round': { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '8' },
      idle: { type: 'string', default: '5000' },
      only: { type: 'string' },
      version: { type: 'string' },
      'cpu-prof': { type: 'string' },
      product: { type: 'string', default: 'dist' },
    },
  });
  const product = values.product === 'src' ? 'src' : 'dist';
  if (product === 'dist') compileProduct();
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const concurrency = Number(values.concurrency);
  const idle = Number(values.idle);
  const cpuProf = values['cpu-prof'];
  const keys = (['rsa', 'ec'] as const).filter((k) => values.only === undefined || values.only === k);
  const versions = (['TLSv1.2', 'TLSv1.3'] as const).filter((v) => values.version === undefined || values.version === v);
  if (keys.length === 0) throw new Error(`--only must be rsa or ec, not ${values.only}`);
  if (versions.length === 0) throw new Error(`--version must be TLSv1.2 or TLSv1.3, not ${values.version}`);
  const rows: string[][] = [];
  const started = Date.now();

  for (const key of keys) {
    const label = key === 'rsa' ? 'RSA-2048' : 'ECDSA P-256';
    const ca = createLocalCa({ key: { type: key } });
    const tp = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: key === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec' } });
    const servers: Server[] = [await startServer('bare', tp, ca.certPem, product, { cpuProf }), await startServer('gateway', tp, ca.certPem, product, { cpuProf })];
    for (const s of servers) for (const v of versions) await round(s, v, Math.min(100, perRound), concurrency); // warm-up

    const cells = new Map<string, Cell[]>();
    for (let r = 0; r < rounds; r++) {
      for (const v of versions) {
        for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
          const k = `${s.kind}/${v}`;
          cells.set(k, [...(cells.get(k) ?? []), await round(s, v, perRound, concurrency)]);
        }
      }
      process.stderr.write(`${label}: round ${r + 1}/${rounds} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    for (const v of versions) {
      const b = cells.get(`bare/${v}`)!;
      const g = cells.get(`gateway/${v}`)!;
      const ratios = g.map((c, i) => c.cpu / b[i]!.cpu);
      const wallRatios = g.map((c, i) => c.wall / b[i]!.wall);
      const mainRatios = g.map((c, i) => c.main / b[i]!.main);
      rows.push([
        label, v,
        median(b.map((c) => c.cpu)).toFixed(0), median(g.map((c) => c.cpu)).toFixed(0),
        `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
        median(b.map((c) => c.wall)).toFixed(0), median(g.map((c) => c.wall)).toFixed(0),
        `${median(wallRatios).toFixed(2)} (${Math.min(...wallRatios).toFixed(2)}–${Math.max(...wallRatios).toFixed(2)})`,
        `${(1e6 / median(b.map((c) => c.main))).toFixed(0)} / ${(1e6 / median(g.map((c) => c.main))).toFixed(0)}`,
        `${median(mainRatios).toFixed(2)} (${Math.min(...mainRatios).toFixed(2)}–${Math.max(...mainRatios).toFixed(2)})`,
      ]);
    }
    if (idle > 0) {
      const mem: Record<string, { rss: number; heap: number }> = {};
      const kib = (x: number): string => (x / 1024).toFixed(1);
      for (const mode of ['tls', 'half-open', 'tcp'] as const) {
        if (mode === 'tcp' && key !== keys[0]) continue;
        for (const s of servers) mem[s.kind] = await idleMemory(s, idle, mode);
        const b = mem['bare']!;
        const g = mem['gateway']!;
        const what = mode === 'tls' ? 'idle' : mode === 'half-open' ? 'half-open TLS' : 'idle TCP';
        rows.push([mode === 'tcp' ? '-' : label, `${what} ×${idle}`, `${kib(b.rss)} KiB RSS`, `${kib(g.rss)} KiB RSS`, (g.rss / b.rss).toFixed(2), `${kib(b.heap)} KiB heap`, `${kib(g.heap)} KiB heap`, (g.heap / b.heap).toFixed(2), '', '']);
      }
      process.stderr.write(`${label}: idle memory done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    for (const s of servers) await stopServer(s);
  }

  const head = ['key', 'TLS / measure', 'bare hs/CPU-s', 'gateway hs/CPU-s', 'ratio (min–max)', 'bare hs/s wall', 'gateway hs/s wall', 'wall ratio (min–max)',
    'main thread µs/hs (bare / gateway)', 'main-thread ratio (min–max)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`TLS handshakes: ${rounds} interleaved rounds of ${perRound} full handshakes, ${concurrency} in flight; medians. ` +
    `hs/CPU-s = handshakes per CPU-second of the server process; main thread = the same for its main thread alone (from /proc); ` +
    `memory rows: server RSS and V8 heap per idle connection (after GC).`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`node ${process.version}, gateway code ${product === 'dist' ? 'compiled as npm run build compiles it (esbuild), module by module' : 'from the TypeScript sources via tsx'}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
