/**
 * The bench's kamailios and certificates (bench/sipp-targets.ts): the carrier SBC in front of the gateway (UDP from
 * sipp; UDP or mutual TLS to the gateway), and the PBX behind it (UDP or mutual TLS from the gateway; UDP to sipp's
 * UAS). Certificates are made once per run from three CAs: the gateway's, the carrier's and the PBX's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio, type KamailioProcess } from '../test/support/kamailio.js';
import { createTestCa, type TestCa, type TestCert } from '../test/support/test-certs.js';

export interface BenchPki {
  gatewayCa: TestCa;
  carrierCa: TestCa;
  pbxCa: TestCa;
  gateway: TestCert;
  carrier: TestCert;
  pbx: TestCert;
  /** key.pem, cert.pem, chain.pem, client-ca.pem and pbx-ca.pem for bench/gateway-process.ts --tls-files. */
  dir: string;
}

let pkiMade: Promise<BenchPki> | undefined;

export function benchPki(): Promise<BenchPki> {
  pkiMade ??= (async () => {
    const gatewayCa = await createTestCa({ cn: 'bench gateway CA' });
    const carrierCa = await createTestCa({ cn: 'bench carrier CA' });
    const pbxCa = await createTestCa({ cn: 'bench PBX CA' });
    const gatewayCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
    const carrier = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test'] });
    const pbx = await pbxCa.issue({ cn: 'pbx.remote.test', sans: ['DNS:pbx.remote.test', 'IP:127.0.0.1'] });
    const dir = mkdtempSync(join(tmpdir(), 'tg-bench-tls-'));
    writeFileSync(join(dir, 'key.pem'), gatewayCert.key, { mode: 0o600 });
    writeFileSync(join(dir, 'cert.pem'), gatewayCert.cert);
    writeFileSync(join(dir, 'chain.pem'), gatewayCa.cert);
    writeFileSync(join(dir, 'client-ca.pem'), carrierCa.cert);
    writeFileSync(join(dir, 'pbx-ca.pem'), pbxCa.cert);
    return { gatewayCa, carrierCa, pbxCa, gateway: gatewayCert, carrier, pbx, dir };
  })();
  return pkiMade;
}

/** Removes the certificates, when a target made them. */
export async function cleanupPki(): Promise<void> {
  if (!pkiMade) return;
  const p = await pkiMade;
  rmSync(p.dir, { recursive: true, force: true });
  await Promise.all([p.gatewayCa.cleanup(), p.carrierCa.cleanup(), p.pbxCa.cleanup()]);
}

/** What every bench kamailio shares: its tlsf allocator (q_malloc checks every block and was the bottleneck). */
export const kamailioBase = (children: number) => ({ logLevel: 'error' as const, children, sharedMemoryMb: 512, memoryManager: 'tlsf' as const, frInvTimerMs: 30_000 });

/** The carrier SBC: kamailio taking UDP from sipp and relaying over mutual TLS to the gateway's `tlsPort`. */
export function carrierKamailio(p: BenchPki, tlsPort: number, children: number): Promise<KamailioProcess> {
  return startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: p.carrier.cert, privateKey: p.carrier.key, caList: p.gatewayCa.cert,
      destinations: [{ host: '127.0.0.1', port: tlsPort, serverName: 'gw.trunkgate.test' }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: tlsPort, transport: 'tls' } },
    ...kamailioBase(children),
  });
}

/** kamailio relaying UDP from sipp to the gateway's UDP `sipPort`. */
export function udpFrontKamailio(sipPort: number, children: number): Promise<KamailioProcess> {
  return startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }],
    route: { kind: 'relay', target: { host: '127.0.0.1', port: sipPort, transport: 'udp' } },
    ...kamailioBase(children),
  });
}

/**
 * The PBX behind the gateway: kamailio relaying to sipp's UAS over UDP, record-routing so the ACK and BYE come back
 * through it (the UAS copies its Record-Route). With `p`, it takes the gateway's calls over mutual TLS only: its
 * certificate is the PBX CA's, and the gateway's client certificate must come from the gateway's CA.
 */
export async function pbxKamailio(uasPort: number, children: number, p?: BenchPki): Promise<{ kam: KamailioProcess; port: number }> {
  const route = { kind: 'relay' as const, target: { host: '127.0.0.1', port: uasPort, transport: 'udp' as const } };
  if (!p) {
    const kam = await startKamailio({ listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }], route, ...kamailioBase(children) });
    return { kam, port: kam.port('udp') };
  }
  const kam = await startKamailio({
    listen: [{ proto: 'tls', host: '127.0.0.1', port: 0 }, { proto: 'udp', host: '127.0.0.1', port: 0 }],
    tls: { certificate: p.pbx.cert, privateKey: p.pbx.key, caList: p.gatewayCa.cert, requireCertificate: true },
    route, ...kamailioBase(children),
  });
  return { kam, port: kam.port('tls') };
}
