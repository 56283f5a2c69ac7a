// The sipXecs walk-through to its end, with trunkgate's commands only on our side: create our CA and export it,
// trust the remote system's CA, make a CSR, import what the remote CA signed, name the remote system as a TLS
// peer with its permissions; then start the gateway as `npm start` does and let the remote system call in:
//   sipp UAC (UDP) → kamailio (its own CA, mutual TLS) → TLS → trunkgate (src/main.ts) → UDP → sipp UAS.
// A local number connects; an international one is refused with 403 and a Reason naming the category, as sipp
// sees it through kamailio. The profiles name their files relative to themselves (../pki), and the gateway runs
// from another working directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pkiCommand } from '../../../src/cli/pki.js';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { refusedCallScenario } from '../../support/refused-call-scenario.js';
import { runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, requireOpenssl } from '../../support/test-certs.js';
import { startTrunkgate, type LogLine } from '../../support/trunkgate-process.js';

await requireOpenssl();
const run = promisify(execFile);
const GW_NAME = 'gw.example.com';
const SBC_NAME = 'sbc.remote.test';

function pki(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = pkiCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const cdrOf = (lines: LogLine[], number: string): Record<string, unknown> | undefined =>
  lines.find((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === number)?.cdr as Record<string, unknown> | undefined;

test(`sipXecs walk-through with trunkgate's commands, then kamailio (${kamailioVersion()}) with its own CA calls in over mutual TLS: ` +
  'local allowed, international refused with a Reason naming the category', { timeout: 90_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-walk-call-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const remote = await createTestCa({ cn: 'Remote system CA' });
  t.after(() => remote.cleanup());
  const sbc = await remote.issue({ cn: SBC_NAME, sans: [`DNS:${SBC_NAME}`] });
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());

  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  domain: ${GW_NAME}
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge, tenant: remote }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ../pki/trustpoints/gw }
trustStores:
  remote: ../pki/trust
tlsProfiles:
  edge: { trustpoint: gw, trustStore: remote, requireClientCert: true, cnSanValidate: client, cnSan: [${SBC_NAME}] }
tenants:
  remote: { transport: tls, tlsProfile: edge, unknownPeer: reject }
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
tlsPeers:
  ${SBC_NAME}: { permissions: { international: false } }
dialPeers:
  - { id: 1, destinationPattern: ".", tenant: pbx, from: [remote] }
`);
  const P = ['--profiles', profiles];
  const pkiDir = join(root, 'pki');

  // Our CA and its export; the remote system's CA trusted; a CSR; the remote CA signs it (openssl plays that CA).
  assert.equal(pki(['ca', 'create', '--pki', pkiDir, '--name', 'trunkgate CA walk']).code, 0);
  const exported = pki(['ca', 'export', '--pki', pkiDir, '--out', join(root, 'our-ca.pem')]);
  assert.equal(exported.code, 0, exported.err);
  mkdirSync(join(pkiDir, 'trust'));
  const trusted = pki(['trust', 'add', 'remote', remote.certPath, ...P]);
  assert.equal(trusted.code, 0, trusted.err);
  const csr = pki(['csr', 'gw', '--subject', `CN=${GW_NAME}`, '--san', `DNS:${GW_NAME},URI:sip:${GW_NAME}`, '--out', join(root, 'gw.csr'), ...P]);
  assert.equal(csr.code, 0, csr.err);
  await run('openssl', ['x509', '-req', '-in', join(root, 'gw.csr'), '-CA', remote.certPath, '-CAkey', remote.keyPath, '-CAcreateserial',
    '-out', join(root, 'gw.crt'), '-days', '30', '-copy_extensions', 'copy']);
  const imported = pki(['import', 'gw', join(root, 'gw.crt'), remote.certPath, ...P]);
  assert.equal(imported.code, 0, imported.err);

  // The gateway as `npm start` runs it (its working directory is the repository, not the profiles' folder).
  const gw = await startTrunkgate(t, profiles, { ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on') });
  const tlsPort = gw.lines.find((l) => l.transport === 'tls' && typeof l.port === 'number')?.port as number | undefined;
  assert.ok(tlsPort, 'no TLS listener logged');

  // The remote system: its certificate from its own CA, which is also the only CA it trusts for ours.
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: sbc.cert, privateKey: sbc.key, caList: remote.cert, verifyCertificate: true,
      destinations: [{ host: '127.0.0.1', port: tlsPort, serverName: GW_NAME }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: tlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());
  const remoteUdp = `127.0.0.1:${kam.port('udp')}`;

  const local = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: remoteUdp, service: '5551234', calls: 1, timeoutSec: 20 });
  assert.equal(local.stats.successful, 1, `local call: ${local.errors.slice(0, 1500)}\n${gw.lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}`);
  await gw.waitFor((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === '5551234', 10_000);
  const localCdr = cdrOf(gw.lines, '5551234')!;
  assert.equal(localCdr.status, 200);
  assert.equal(localCdr.tenantIn, 'remote');
  assert.equal(localCdr.tlsPeer, SBC_NAME, 'the caller is known by its certificate, signed by the CA we were told to trust');

  const scenario = refusedCallScenario(root, 403, /cause=403.*category international/);
  const intl = await runSipp({ scenario: { file: scenario }, remote: remoteUdp, service: '+442071234567', calls: 1, timeoutSec: 20 });
  assert.equal(intl.stats.successful, 1, `international call: 403 with a Reason naming the category expected\n${intl.errors.slice(0, 1500)}`);
  await gw.waitFor((l) => l.msg === 'cdr' && (l.cdr as { calledNumber?: string }).calledNumber === '+442071234567', 10_000);
  const intlCdr = cdrOf(gw.lines, '+442071234567')!;
  assert.equal(intlCdr.status, 403);
  assert.equal(intlCdr.cause, 'denied:international');
  assert.equal(intlCdr.tlsPeer, SBC_NAME);
});
