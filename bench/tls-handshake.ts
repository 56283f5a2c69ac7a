/**
 * Full TLS handshakes per second and memory per idle TLS connection: the gateway's TLS listener (the SIP
 * transport layer's TLS transport with a listener built from a TLS profile by EngineTls, as the engine builds
 * a tenant's own listener: the profile's server options, the inbound check, one StreamConnection per socket)
 * against a bare Node `tls` server with the same
 * certificate; RSA-2048 and ECDSA P-256, TLS 1.2 and 1.3.
 *
 * Each server runs in its own process and the clients in this one. Rounds are interleaved (bare and gateway
 * alternate, order swapped every round) so both see the same machine load. A server's capacity is measured
 * as handshakes per CPU-second of that server process (process.cpuUsage in the server), which a shared
 * machine's load barely moves; the wall-clock rate is printed beside it. Medians of the rounds, with the
 * min–max of the per-round ratios.
 *
 * Usage: node --import tsx bench/tls-handshake.ts [--rounds 5] [--per-round 300] [--concurrency 8]
 *          [--idle 5000] [--only rsa|ec] [--version TLSv1.2|TLSv1.3] [--product dist|src] [--cpu-prof DIR]
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLocalCa, issueGatewayCertificate, type TrustpointMaterial } from '../src/pki/index.js';

type LogModule = typeof import('../src/log/logger.js');
type TransportModule = typeof import('../src/sip/transport/index.js');
type EngineTlsModule = typeof import('../src/engine/engine-tls.js');
type YoungCallsModule = typeof import('../src/common/young-calls.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the product is compiled for the server processes (tsc, as `npm start` runs it; .tmp/ is ignored by git). */
const DIST = `${ROOT}.tmp/bench-dist/`;

/**
 * The product modules a server process runs: compiled JavaScript by default, as `npm start` runs it. From
 * TypeScript sources (`--product src`) tsx wraps every closure in a naming helper, which costs the gateway's
 * per-connection code several percent that production does not pay.
 */
async function productModules(from: 'dist' | 'src'): Promise<{
  log: LogModule; transport: TransportModule; engineTls: EngineTlsModule; youngCalls: YoungCallsModule;
}> {
  const base = from === 'dist' ? DIST : `${ROOT}src/`;
  const ext = from === 'dist' ? 'js' : 'ts';
  return {
    log: (await import(`${base}log/logger.${ext}`)) as LogModule,
    transport: (await import(`${base}sip/transport/index.${ext}`)) as TransportModule,
    engineTls: (await import(`${base}engine/engine-tls.${ext}`)) as EngineTlsModule,
    youngCalls: (await import(`${base}common/young-calls.${ext}`)) as YoungCallsModule,
  };
}

type Kind = 'bare' | 'gateway';
interface Ports { port: number; tcpPort: number }
type Version = 'TLSv1.2' | 'TLSv1.3';
type ToServer = { start: { kind: Kind; tp: TrustpointMaterial; caPem: string; product: 'dist' | 'src' } } | { sample: { gc: boolean } } | { stop: true };
interface Sample {
  /** User + system CPU of the server process so far, microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  /** Connections that completed the handshake (and, for the gateway, its inbound check) since start. */
  accepted: number;
  open: number;
}

// ---------------------------------------------------------------- server process

async function serverMain(): Promise<void> {
  let sample: (gc: boolean) => Sample = () => {
    throw new Error('not started');
  };
  let close: () => Promise<void> = async () => undefined;
  process.on('message', async (m: ToServer) => {
    if ('start' in m) {
      const { kind, tp, caPem, product } = m.start;
      const ports = kind === 'bare' ? await startBare(tp) : await startGateway(tp, caPem, await productModules(product));
      process.send!(ports);
    } else if ('sample' in m) {
      process.send!(sample(m.sample.gc));
    } else {
      await close();
      process.exit(0);
    }
  });

  const measure = (gc: boolean, accepted: number, open: number): Sample => {
    if (gc) for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
    const c = process.cpuUsage();
    const mem = process.memoryUsage();
    return { cpuUs: c.user + c.system, rss: mem.rss, heapUsed: mem.heapUsed, accepted, open };
  };

  async function startBare(tp: TrustpointMaterial): Promise<Ports> {
    const sockets = new Set<tls.TLSSocket>();
    let accepted = 0;
    const server = tls.createServer({ key: tp.keyPem, cert: tp.certPem + tp.chainPems.join('') }, (s) => {
      accepted++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    });
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const tcp = net.createServer((s) => {
      s.on('error', () => undefined);
      sockets.add(s as tls.TLSSocket);
      s.on('close', () => sockets.delete(s as tls.TLSSocket));
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    sample = (gc) => measure(gc, accepted, sockets.size);
    close = () => {
      for (const s of sockets) s.destroy();
      tcp.close();
      return new Promise((r) => server.close(() => r()));
    };
    return { port: (server.address() as AddressInfo).port, tcpPort: (tcp.address() as AddressInfo).port };
  }

  async function startGateway(tp: TrustpointMaterial, caPem: string, m: Awaited<ReturnType<typeof productModules>>): Promise<Ports> {
    // The gateway's process runs with V8's pretenuring off (startGateway does it); the bare server keeps Node's defaults.
    m.youngCalls.keepCallObjectsYoung();
    // The listener as the engine builds a tenant's own TLS listener (src/startup-tls.ts: sniProfiles is its
    // profile only): EngineTls gives the Node server options and the inbound verdict.
    const engineTls = new m.engineTls.EngineTls({ profiles: [{ spec: { name: 'bench', tenant: 'bench' }, material: { trustpoint: tp, trustedCaPems: [caPem] } }] }, m.log.silentLogger());
    const { tls: serverOptions, checkInbound } = engineTls.listener({ id: 'tls-bench', tlsProfile: 'bench', tenant: 'bench', sniProfiles: ['bench'] });
    const layer = new m.transport.TransportLayer({
      listeners: [{ id: 'tls-bench', protocol: 'tls', host: '127.0.0.1', port: 0, tenant: 'bench', tlsProfile: 'bench', tls: serverOptions, checkInbound },
        { id: 'tcp-bench', protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      log: m.log.silentLogger(),
      tlsClientOptions: engineTls.clientOptions,
      tenantForServername: (sn) => engineTls.tenantForServername(sn),
      // Idle and half-open connections must outlive the memory measurement (the defaults close unused ones after
      // 60 s and handshakes after 10 s), and thousands come from one address (the caps are per source).
      unusedTimeoutMs: 600_000,
      connectTimeoutMs: 120_000,
      connections: { maxConnections: 100_000, maxConnectionsPerSource: 100_000, maxHandshakes: 100_000, maxHandshakesPerSource: 100_000 },
    });
    layer.setUser({ onMessage: () => undefined });
    const [l, t] = await layer.start();
    sample = (gc) => {
      const s = layer.stats();
      return measure(gc, s.connectionsOpened, s.inboundSockets);
    };
    close = () => layer.close();
    return { port: l!.port, tcpPort: t!.port };
  }
}

// ---------------------------------------------------------------- client (this process)

interface Server {
  kind: Kind;
  child: ChildProcess;
  port: number;
  tcpPort: number;
}

function ask<T>(child: ChildProcess, msg: ToServer): Promise<T> {
  const reply = once(child, 'message').then(([r]) => r as T);
  child.send(msg);
  return reply;
}

async function startServer(kind: Kind, tp: TrustpointMaterial, caPem: string, product: 'dist' | 'src', cpuProf: string | undefined): Promise<Server> {
  const execArgv = ['--import', 'tsx', '--expose-gc', ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : [])];
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, tcpPort } = await ask<Ports>(child, { start: { kind, tp, caPem, product } });
  return { kind, child, port, tcpPort };
}

async function stopServer(s: Server): Promise<void> {
  const exited = once(s.child, 'exit');
  s.child.send({ stop: true });
  await exited;
}

/** One full handshake: connect, finish the handshake, close cleanly, wait until the server closed too. */
function handshake(port: number, version: Version): Promise<void> {
  return new Promise((resolve, reject) => {
    // The client skips chain verification to keep its own CPU low; it does not change the server's work.
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'gw.example.com', minVersion: version, maxVersion: version, rejectUnauthorized: false }, () => s.end());
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

interface Cell {
  wall: number;
  cpu: number;
}

async function round(server: Server, version: Version, total: number, concurrency: number): Promise<Cell> {
  const before = await ask<Sample>(server.child, { sample: { gc: false } });
  let started = 0;
  const t0 = process.hrtime.bigint();
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      await handshake(server.port, version);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await ask<Sample>(server.child, { sample: { gc: false } });
  const done = after.accepted - before.accepted;
  if (done !== total) throw new Error(`${server.kind}: ${done} of ${total} handshakes completed on the server`);
  return { wall: total / wallS, cpu: total / ((after.cpuUs - before.cpuUs) / 1e6) };
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
  if (product === 'dist') {
    process.stderr.write(`compiling src/ into ${DIST} ...\n`);
    execFileSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`, '--outDir', DIST], { stdio: 'inherit' });
  }
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
    const servers: Server[] = [await startServer('bare', tp, ca.certPem, product, cpuProf), await startServer('gateway', tp, ca.certPem, product, cpuProf)];
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
      rows.push([
        label, v,
        median(b.map((c) => c.cpu)).toFixed(0), median(g.map((c) => c.cpu)).toFixed(0),
        `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
        median(b.map((c) => c.wall)).toFixed(0), median(g.map((c) => c.wall)).toFixed(0),
        `${median(wallRatios).toFixed(2)} (${Math.min(...wallRatios).toFixed(2)}–${Math.max(...wallRatios).toFixed(2)})`,
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
        rows.push([mode === 'tcp' ? '-' : label, `${what} ×${idle}`, `${kib(b.rss)} KiB RSS`, `${kib(g.rss)} KiB RSS`, (g.rss / b.rss).toFixed(2), `${kib(b.heap)} KiB heap`, `${kib(g.heap)} KiB heap`, (g.heap / b.heap).toFixed(2)]);
      }
      process.stderr.write(`${label}: idle memory done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    for (const s of servers) await stopServer(s);
  }

  const head = ['key', 'TLS / measure', 'bare hs/CPU-s', 'gateway hs/CPU-s', 'ratio (min–max)', 'bare hs/s wall', 'gateway hs/s wall', 'wall ratio (min–max)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`TLS handshakes: ${rounds} interleaved rounds of ${perRound} full handshakes, ${concurrency} in flight; medians. ` +
    `hs/CPU-s = handshakes per CPU-second of the server process; memory rows: server RSS and V8 heap per idle connection (after GC).`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`node ${process.version}, gateway code from ${product === 'dist' ? 'tsc output' : 'TypeScript sources via tsx'}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (process.argv.includes('--server')) void serverMain();
else await main();
