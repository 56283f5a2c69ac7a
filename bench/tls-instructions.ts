/**
 * Instructions per full TLS handshake: the gateway's TLS listener against a bare Node `tls` server with the same
 * certificate (both in bench/tls-server-process.ts), counted by valgrind's callgrind. A count does not move with
 * the machine's other load, as the CPU-seconds of bench/tls-handshake.ts do, so a change of one or two percent shows.
 * It leaves out what the kernel does for the process (system calls) and what a cache miss costs: the CPU-seconds
 * remain the measure of the goal, and this one tells where a difference comes from.
 *
 * Each server runs under callgrind. After `--warm` handshakes (V8 has compiled the handshake path by then) the
 * counters are zeroed (`callgrind_control -z`), `--count` handshakes run, and the counters are dumped
 * (`callgrind_control -d`), one count per thread: the main thread (JavaScript, OpenSSL, the event loop) apart from
 * all threads (V8's helpers add compilation and concurrent garbage collection, which vary from run to run).
 *
 * Needs valgrind (Debian: `apt-get install valgrind`). Run by hand: at the defaults 1.5–2.5 minutes per server, key
 * and TLS version on a 2-core machine, about 15 minutes for all eight.
 *
 * Usage: node --import tsx bench/tls-instructions.ts [--warm 3000] [--count 1000] [--only rsa|ec] [--version TLSv1.2|TLSv1.3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalCa, issueGatewayCertificate, type TrustpointMaterial } from '../src/pki/index.js';
import { ask, compileProduct, runHandshakes, startServer, stopServer, type Kind, type Sample, type Version } from './tls-server-process.js';

/** Instructions counted per handshake: the main thread's and all threads'. */
interface Count {
  main: number;
  all: number;
}

/** Four in flight: enough to keep a server under valgrind busy, few enough that none times out. */
const IN_FLIGHT = 4;

function requireValgrind(): void {
  for (const tool of ['valgrind', 'callgrind_control']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: apt-get install valgrind`);
    }
  }
}

/** The counts of one dump: files `<out>.<dump>-<thread>`, each with a `totals:` (or `summary:`) line. */
function readDump(dir: string, base: string): Count {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${base}.1-`));
  if (files.length === 0) throw new Error(`callgrind wrote no dump for ${base}`);
  let main = 0;
  let all = 0;
  for (const f of files) {
    const m = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'));
    if (!m) throw new Error(`no totals in ${f}`);
    const n = Number(m[1]);
    all += n;
    if (f.endsWith('-01')) main = n;
  }
  return { main, all };
}

async function measure(kind: Kind, tp: TrustpointMaterial, caPem: string, version: Version, warm: number, count: number, dir: string, base: string): Promise<Count> {
  const server = await startServer(kind, tp, caPem, 'dist', { callgrind: join(dir, base) });
  const pid = String(server.child.pid);
  await runHandshakes(server.port, version, warm, IN_FLIGHT);
  const before = await ask<Sample>(server.child, { sample: { gc: false } });
  execFileSync('callgrind_control', ['-z', pid], { stdio: 'ignore' });
  await runHandshakes(server.port, version, count, IN_FLIGHT);
  execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
  const after = await ask<Sample>(server.child, { sample: { gc: false } });
  await stopServer(server);
  if (after.accepted - before.accepted !== count) throw new Error(`${kind}: ${after.accepted - before.accepted} of ${count} handshakes completed on the server`);
  const c = readDump(dir, base);
  return { main: c.main / count, all: c.all / count };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      warm: { type: 'string', default: '3000' },
      count: { type: 'string', default: '1000' },
      only: { type: 'string' },
      version: { type: 'string' },
    },
  });
  requireValgrind();
  compileProduct();
  const warm = Number(values.warm);
  const count = Number(values.count);
  const keys = (['rsa', 'ec'] as const).filter((k) => values.only === undefined || values.only === k);
  const versions = (['TLSv1.2', 'TLSv1.3'] as const).filter((v) => values.version === undefined || values.version === v);
  if (keys.length === 0) throw new Error(`--only must be rsa or ec, not ${values.only}`);
  if (versions.length === 0) throw new Error(`--version must be TLSv1.2 or TLSv1.3, not ${values.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'tls-instructions-'));
  const started = Date.now();
  const rows: string[][] = [];
  const k = (n: number): string => `${(n / 1000).toFixed(0)}k`;
  try {
    for (const key of keys) {
      const label = key === 'rsa' ? 'RSA-2048' : 'ECDSA P-256';
      const ca = createLocalCa({ key: { type: key } });
      const tp = issueGatewayCertificate(ca, { domain: 'gw.example.com', key: key === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec' } });
      for (const v of versions) {
        const bare = await measure('bare', tp, ca.certPem, v, warm, count, dir, `${key}-${v}-bare`);
        const gw = await measure('gateway', tp, ca.certPem, v, warm, count, dir, `${key}-${v}-gateway`);
        process.stderr.write(`${label} ${v}: done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        rows.push([label, v, k(bare.main), k(gw.main), (bare.main / gw.main).toFixed(3), k(bare.all), k(gw.all), (bare.all / gw.all).toFixed(3)]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const head = ['key', 'TLS', 'bare main thread', 'gateway main thread', 'ratio', 'bare all threads', 'gateway all threads', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`Instructions per full TLS handshake (callgrind), counted over ${count} handshakes after ${warm}; ratio = bare / gateway ` +
    '(as handshakes per CPU-second would be if instructions were all that cost).');
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`node ${process.version}, gateway code compiled as npm run build compiles it (esbuild), module by module, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
