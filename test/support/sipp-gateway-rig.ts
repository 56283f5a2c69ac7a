// trunkgate as `npm start` runs it (trunkgate-process.ts) between sipp callers and a sipp UAS: one UDP loopback
// listener, defaultTenant pbx, the admin API behind a token from the environment, the embedded engine, a tenant
// pbx trusting loopback (or the sources given) and a tenant far whose sipServer is the UAS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort, startSippUas, type SippProcess } from './sipp.js';
import { profilesDir, startTrunkgate, type TrunkgateProcess } from './trunkgate-process.js';

/** What gateway.yaml says that may change between writes. */
export interface RigYaml {
  /** The port of the UDP listener (default: the free port picked at start). */
  port?: number;
  /** pbx's trustedSources, the text between the brackets (default `127.0.0.0/8`). */
  pbxSources?: string;
  /** Text added inside pbx's mapping after its trustedSources, e.g. `, maxCallsPerSecond: 2`. */
  pbx?: string;
}

export interface RigOptions extends RigYaml {
  /** The environment variable the admin API's token is read from, and the token. */
  token: { env: string; value: string };
  /** Lines added to the gateway section before its listener, indented as they go (e.g. `  domain: gw.test\n`). */
  gateway?: string;
  /** Tenant lines added between pbx and far, indented as they go. */
  tenants?: string;
  /** Top-level YAML after the tenants, e.g. a `dialPeers:` list. */
  sections?: string;
  /** Other files of the profiles directory, by name, written before the start. */
  files?: Record<string, string>;
  /** far's sipServer; given, no UAS is started (default: a sipp UAS running uas-call.xml). */
  farServer?: string;
}

export interface SippGatewayRig {
  /** The UAS far sends calls to; absent with `farServer`. */
  uas?: SippProcess;
  sipPort: number;
  adminPort: number;
  /** `127.0.0.1:<sipPort>`, what a sipp caller dials. */
  remote: string;
  /** The profiles directory holding gateway.yaml. */
  dir: string;
  /** The token's environment entry, as the gateway and a `trunkgate reload` CLI get it. */
  env: Record<string, string>;
  gw: TrunkgateProcess;
  /** Writes gateway.yaml again, `changes` over the options it started with. */
  writeGateway(changes?: RigYaml): void;
  /** An admin API request with the bearer token: status and JSON body. */
  admin<T>(path: string, method?: 'GET' | 'POST'): Promise<{ status: number; body: T }>;
}

/** Starts the UAS (unless `farServer`), writes the profiles and starts trunkgate, ready once its admin API is on. */
export async function startSippGatewayRig(t: TestContext, o: RigOptions): Promise<SippGatewayRig> {
  const uas = o.farServer === undefined ? await startSippUas({ scenario: { file: 'uas-call.xml' } }) : undefined;
  if (uas) t.after(() => uas.stop());
  const farServer = o.farServer ?? `127.0.0.1:${uas!.port}`;
  const sipPort = await freePort();
  const adminPort = await freePort();
  const yaml = (y: RigYaml): string => `
gateway:
${o.gateway ?? ''}  listen: [{ transport: udp, host: 127.0.0.1, port: ${y.port ?? sipPort} }]
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort}, tokenEnv: ${o.token.env} }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [${y.pbxSources ?? '127.0.0.0/8'}]${y.pbx ?? ''} }
${o.tenants ?? ''}  far: { transport: udp, sipServer: ${farServer} }
${o.sections ?? ''}`;
  const dir = profilesDir(t, yaml(o));
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), text);
  const env = { [o.token.env]: o.token.value };
  const gw = await startTrunkgate(t, dir, { env, ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: admin API on') });
  return {
    ...(uas ? { uas } : {}), sipPort, adminPort, remote: `127.0.0.1:${sipPort}`, dir, env, gw,
    writeGateway: (changes = {}) => writeFileSync(join(dir, 'gateway.yaml'), yaml({ ...o, ...changes })),
    admin: async <T>(path: string, method: 'GET' | 'POST' = 'GET') => {
      const r = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method, headers: { authorization: `Bearer ${o.token.value}` } });
      return { status: r.status, body: (await r.json()) as T };
    },
  };
}
