/**
 * The server side of the TLS handshake benchmarks (bench/tls-handshake.ts, bench/tls-instructions.ts): a process
 * that runs either a bare Node `tls` server or the gateway's TLS listener with the same certificate, driven over
 * IPC by the benchmark, and the helpers the benchmark uses to start it, ask it for samples and stop it. The
 * gateway's listener is the SIP transport layer's TLS transport with a listener built from a TLS profile by
 * EngineTls, as the engine builds a tenant's own listener: the profile's server options, the inbound check, one
 * StreamConnection per socket.
 *
 * Run by the benchmarks (`--server`), not by hand.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { TrustpointMaterial } from '../src/pki/index.js';

type LogModule = typeof import('../src/log/logger.js');
type TransportModule = typeof import('../src/sip/transport/index.js');
type EngineTlsModule = typeof import('../src/engine/engine-tls.js');
type YoungCallsModule = typeof import('../src/common/young-calls.js');

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where the product is compiled for the server processes: module by module (compileProduct), since they import single
 * modules that the bundled dist/ has no files for (.tmp/ is ignored by git).
 */
export const DIST = `${ROOT}.tmp/bench-dist/`;

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

export type Kind = 'bare' | 'gateway';
export interface Ports { port: number; tcpPort: number }
export type Version = 'TLSv1.2' | 'TLSv1.3';
export type ToServer = { start: { kind: Kind; tp: TrustpointMaterial; caPem: string; product: 'dist' | 'src' } } | { sample: { gc: boolean } } | { stop: true };
export interface Sample {
  /** User + system CPU of the server process so far, microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  /** Connections that completed the handshake (and, for the gateway, its inbound check) since start. */
  accepted: number;
  open: number;
  /** CPU time of the main thread (JavaScript, OpenSSL, the event loop) so far, microseconds (Linux; 0 elsewhere). */
  mainCpuUs: number;
}

/** The main thread's run time from /proc (schedstat's first field is nanoseconds on CPU); 0 where there is none. */
function mainThreadCpuUs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return 0;
  }
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
    return { cpuUs: c.user + c.system, rss: mem.rss, heapUsed: mem.heapUsed, accepted, open, mainCpuUs: mainThreadCpuUs() };
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

// ---------------------------------------------------------------- what the benchmark uses

export interface Server {
  kind: Kind;
  child: ChildProcess;
  port: number;
  tcpPort: number;
}

export function ask<T>(child: ChildProcess, msg: ToServer): Promise<T> {
  const reply = once(child, 'message').then(([r]) => r as T);
  child.send(msg);
  return reply;
}

/** How a server process is started: with V8's CPU profiler, or under valgrind's callgrind writing to `callgrind`. */
export interface Launch {
  cpuProf?: string | undefined;
  callgrind?: string | undefined;
}

export async function startServer(kind: Kind, tp: TrustpointMaterial, caPem: string, product: 'dist' | 'src', launch: Launch = {}): Promise<Server> {
  const node = ['--import', 'tsx', '--expose-gc', ...(launch.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${launch.cpuProf}`] : [])];
  // Under callgrind the process is valgrind running node: one count per thread (thread 1 is the main thread).
  const valgrind = launch.callgrind
    ? { execPath: 'valgrind', execArgv: ['--tool=callgrind', '-q', '--cache-sim=no', '--branch-sim=no', '--separate-threads=yes', `--callgrind-out-file=${launch.callgrind}`, process.execPath, ...node] }
    : { execArgv: node };
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { ...valgrind, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, tcpPort } = await ask<Ports>(child, { start: { kind, tp, caPem, product } });
  return { kind, child, port, tcpPort };
}

/**
 * Compiles src/ into DIST for the server processes with the build's own compiler and settings (scripts/build.mjs:
 * esbuild, ES modules for node20), one file per module instead of bundled, so the code is the JavaScript `npm start`
 * runs.
 */
export function compileProduct(): void {
  process.stderr.write(`compiling src/ into ${DIST} ...\n`);
  rmSync(DIST, { recursive: true, force: true });
  const sources = readdirSync(`${ROOT}src`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `${ROOT}src/${f}`);
  buildSync({ entryPoints: sources, outdir: DIST, outbase: `${ROOT}src`, bundle: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
}

export async function stopServer(s: Server): Promise<void> {
  const exited = once(s.child, 'exit');
  s.child.send({ stop: true });
  await exited;
}

/** One full handshake: connect, finish the handshake, close cleanly, wait until the server closed too. */
export function handshake(port: number, version: Version): Promise<void> {
  return new Promise((resolve, reject) => {
    // The client skips chain verification to keep its own CPU low; it does not change the server's work.
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'gw.example.com', minVersion: version, maxVersion: version, rejectUnauthorized: false }, () => s.end());
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

/** `total` full handshakes, `concurrency` in flight at a time. */
export async function runHandshakes(port: number, version: Version, total: number, concurrency: number): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++;
      await handshake(port, version);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

if (process.argv.includes('--server')) void serverMain();
