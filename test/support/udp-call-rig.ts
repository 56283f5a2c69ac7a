// The smallest gateway that carries calls through its policy pipeline, for load runs and benches: a profiles
// directory with one UDP listener for the tenant `pbx` (trusting 127.0.0.1), the admin API, and one dial peer (3xxx)
// to a far end over UDP. One source offers every call, so the per-source request rate is off.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface UdpCallProfiles {
  /** The profiles directory (one gateway.yaml), in a folder of its own that also takes the default CDR file (`../cdr/`). */
  dir: string;
  sipPort: number;
  adminPort: number;
  /** Removes the directory. */
  remove(): void;
}

/**
 * Writes the profiles; `limits` adds entries to `gateway.limits` (YAML flow-mapping text, e.g. `maxDialogs: 50000`),
 * `gateway` whole lines to the gateway section (e.g. `workers: 2`), `sections` top-level YAML after the rest (e.g. a
 * `cdr:` section).
 */
export async function udpCallProfiles(farPort: number, limits = '', gateway = '', sections = ''): Promise<UdpCallProfiles> {
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-udp-calls-'));
  const dir = join(root, 'profiles');
  mkdirSync(dir);
  const [sipPort, adminPort, controlPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: ${controlPort} } }
  limits: { requestsPerSecondPerSource: 0${limits ? `, ${limits}` : ''} }
${gateway ? `  ${gateway}\n` : ''}tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1/32] }
  far: { transport: udp, sipServer: 127.0.0.1:${farPort} }
dialPeers:
  - { id: far-end, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }
${sections}`);
  return { dir, sipPort, adminPort, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Waits until the admin API answers /health (10 s at most); false if it never did. */
export async function adminUp(adminPort: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${adminPort}/health`).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** GET /stats of the admin API, as the caller's type. */
export async function adminStats<T>(adminPort: number): Promise<T> {
  return (await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).json()) as T;
}
