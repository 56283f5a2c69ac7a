// The gateway the console test drives, started as `npm start` starts it (src/main.ts) on a profiles folder split
// as the shipped one is, with kamailio as a carrier SBC holding a certificate of its own CA:
//   sipp UAC (UDP) → kamailio → mutual TLS → trunkgate (tenant carrier, unknown TLS peers refused) → UDP → sipp UAS
//   sipp UAC (UDP, tenant pbx) → trunkgate → UDP → the same sipp UAS (numbers 3xxx)
// The UAS answers the number of calls the test asks for and ends when each has had its BYE.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startKamailio, type KamailioProcess } from '../../support/kamailio.js';
import { freePort, startSippUas, type SippProcess } from '../../support/sipp.js';
import { createTestCa } from '../../support/test-certs.js';
import { profilesDir, startTrunkgate, type LogLine, type TrunkgateProcess } from '../../support/trunkgate-process.js';

export const TOKEN = 'console-test-token';
export const GW_NAME = 'gw.console.test';
/** The carrier SBC's certificate identity (its CN and DNS SAN), signed by the carrier's own CA. */
export const SBC_NAME = 'sbc.console.test';

export interface ConsoleRig {
  gw: TrunkgateProcess;
  admin: string;
  sipPort: number;
  tlsPort: number;
  kam: KamailioProcess;
  uas: SippProcess;
  dir: string;
  cdrOf(number: string): Record<string, unknown> | undefined;
  api(method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function startConsoleRig(t: TestContext, o: { uasCalls: number }): Promise<ConsoleRig> {
  const gatewayCa = await createTestCa({ cn: 'trunkgate console CA' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa = await createTestCa({ cn: 'Carrier SBC CA' });
  t.after(() => carrierCa.cleanup());
  const gwCert = await gatewayCa.issue({ cn: GW_NAME, sans: [`DNS:${GW_NAME}`, 'IP:127.0.0.1'] });
  const sbc = await carrierCa.issue({ cn: SBC_NAME, sans: [`DNS:${SBC_NAME}`] });

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' }, calls: o.uasCalls });
  t.after(() => uas.stop());
  const [sipPort, tlsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = profilesDir(t, `# The gateway: the PBX's UDP listener and the carrier's TLS listener, on loopback.
gateway:
  domain: ${GW_NAME}
  listen:
    - { transport: udp, host: 127.0.0.1, port: ${sipPort} }
    - { transport: tls, host: 127.0.0.1, port: ${tlsPort}, tlsProfile: edge, tenant: carrier }
  defaultTenant: pbx
  admin: { host: 127.0.0.1, port: ${adminPort}, tokenEnv: TRUNKGATE_ADMIN_TOKEN }
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  limits: { requestsPerSecondPerSource: 0 }
`);
  const pki = join(dir, 'pki');
  mkdirSync(join(pki, 'gw'), { recursive: true });
  writeFileSync(join(pki, 'gw', 'cert.pem'), gwCert.cert);
  writeFileSync(join(pki, 'gw', 'key.pem'), gwCert.key, { mode: 0o600 });
  writeFileSync(join(pki, 'gw', 'chain.pem'), gatewayCa.cert);
  writeFileSync(join(pki, 'carrier-ca.pem'), carrierCa.cert);
  writeFileSync(join(dir, 'tls.yaml'), `# Our trustpoint, the carrier's CA, and the profile of the carrier's listener.
trustpoints:
  gw: { dir: pki/gw }
trustStores:
  carriers: [pki/carrier-ca.pem]
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, requireClientCert: true }
`);
  writeFileSync(join(dir, 'tenants.yaml'), `# The carrier calls in over mutual TLS; a certificate no TLS peer names is refused.
tenants:
  carrier: { transport: tls, tlsProfile: edge, unknownPeer: reject }
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port}, trustedSources: [127.0.0.1/32] }
`);
  writeFileSync(join(dir, 'dial-peers.yaml'), `# The carrier's calls go to the PBX; the PBX's 3xxx back to itself.
dialPeers:
  - { id: 1, destinationPattern: ".", tenant: pbx, from: [carrier] }
  - { id: 300, destinationPattern: "^3\\\\d{3}$", tenant: pbx, from: [pbx] }
`);
  writeFileSync(join(dir, 'permissions.yaml'), `# Categories are the built-in ones; TLS peers are added from the console.
permissions:
  emergency: { patterns: ["^911$"], default: true }
`);

  const gw = await startTrunkgate(t, dir, {
    env: { TRUNKGATE_ADMIN_TOKEN: TOKEN },
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: sbc.cert, privateKey: sbc.key, caList: gatewayCa.cert, verifyCertificate: true,
      destinations: [{ host: '127.0.0.1', port: tlsPort, serverName: GW_NAME }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: tlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());
  const cdrOf = (number: string): Record<string, unknown> | undefined =>
    gw.lines.find((l: LogLine) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === number)?.cdr as Record<string, unknown> | undefined;
  const api = async (method: string, path: string) => {
    const res = await fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  return { gw, admin, sipPort, tlsPort, kam, uas, dir, cdrOf, api };
}
