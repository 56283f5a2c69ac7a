// The gateway of the load tier's attack runs: trunkgate started as `npm start` starts it (src/main.ts on a profiles
// dir) with UDP, TCP and TLS listeners and the admin API, the PBX tenant trusting 127.0.0.1 and the flood sources,
// one dial peer (3xxx) to a far end over TCP; and the process's counters and memory as the tests read them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createTestCa } from '../support/test-certs.js';
import { freePort } from '../support/sipp.js';
import { startTrunkgate, type TrunkgateProcess } from '../support/trunkgate-process.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const sources = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);

/** The soft limit on open files of this process (the gateway inherits it). */
export function openFilesLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 0);
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

export interface Stats {
  engine: {
    transport: { connectionsOpen: number; inboundSockets: number; tlsHandshakes: number; drops: Record<string, number> };
    transactions: { live: Record<string, number> };
    core?: Record<string, number>;
    rate?: { admitted: number; rejected: number; dropped: number };
    heap?: { total: number; used: number };
  };
  process?: { rss: number; heapTotal: number; heapUsed: number; external: number };
}

export async function stats(adminPort: number): Promise<Stats> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/stats`);
  assert.equal(res.status, 200);
  return (await res.json()) as Stats;
}

export const liveTransactions = (s: Stats) => Object.values(s.engine.transactions.live).reduce((a, b) => a + b, 0);

/** The lowest RSS over `ms` (sampled each second): V8 gives memory back in steps well after a burst ends. */
export async function quietRss(pid: number, ms: number): Promise<number> {
  let low = rssBytes(pid);
  for (const end = Date.now() + ms; Date.now() < end;) {
    await sleep(1000);
    low = Math.min(low, rssBytes(pid));
  }
  return low;
}

/** Samples the RSS each second until it is at most `limit` (true) or `ms` passed (false). */
export async function rssFallsTo(pid: number, limit: number, ms: number): Promise<{ ok: boolean; rss: number }> {
  let rss = rssBytes(pid);
  for (const end = Date.now() + ms; rss > limit && Date.now() < end;) {
    await sleep(1000);
    rss = Math.min(rss, rssBytes(pid));
  }
  return { ok: rss <= limit, rss };
}

export interface Rig { p: TrunkgateProcess; sipPort: number; tlsPort: number; adminPort: number }

export async function rig(t: TestContext, uasPort: number): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-hostile-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const ca = await createTestCa({ cn: 'hostile test CA' });
  t.after(() => ca.cleanup());
  const gw = await ca.issue({ cn: 'gw.hostile.test', sans: ['DNS:gw.hostile.test', 'IP:127.0.0.1'] });
  const tp = join(root, 'tp');
  mkdirSync(tp, { recursive: true, mode: 0o700 });
  writeFileSync(join(tp, 'key.pem'), gw.key, { mode: 0o600 });
  writeFileSync(join(tp, 'cert.pem'), gw.cert);
  writeFileSync(join(tp, 'chain.pem'), ca.cert);
  const [sipPort, tlsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  domain: gw.hostile.test
  listen:
    - { transport: udp, host: 127.0.0.1, port: ${sipPort} }
    - { transport: tcp, host: 127.0.0.1, port: ${sipPort} }
    - { transport: tls, host: 127.0.0.1, port: ${tlsPort}, tlsProfile: edge, tenant: carrier }
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: ${await freePort()} } }
  # Shorter than the defaults (60 s, 10 s) so that the run ends sooner; each is enforced the same way.
  limits: { unusedConnectionTimeoutMs: 20000, handshakeTimeoutMs: 8000 }
trustpoints:
  gw: { dir: ${tp} }
trustStores:
  local: [${ca.certPath}]
tlsProfiles:
  edge: { trustpoint: gw, trustStore: local, minVersion: TLSv1.2 }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32, 127.0.4.0/24, 127.0.5.0/24] }
  carrier: { transport: tls, tlsProfile: edge }
  far: { transport: tcp, sipServer: 127.0.0.1:${uasPort} }
dialPeers:
  - { id: far-end, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
`);
  const p = await startTrunkgate(t, profiles, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${adminPort}/health`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  return { p, sipPort, tlsPort, adminPort };
}

