// Issue 3's load case: the gateway's certificate swapped on disk while calls run over a TLS leg.
//   sipp UAC (UDP) → kamailio → mutual TLS → trunkgate (src/main.ts, as `npm start` runs it: profiles/ dir,
//   engine in its worker, dial-peer pipeline, file watch on the trustpoint) → UDP → sipp UAS.
// In the middle of a bounded run, the trustpoint's cert.pem and key.pem are replaced by a new certificate from
// the same CA; later, cert.pem alone is replaced (its key no longer matches). The first swap must reach new
// handshakes (openssl s_client, a kamailio started after it) while the live kamailio connection goes on; the
// second must be refused with its reason while the certificate of the first swap keeps serving. No call fails.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { kamailioVersion, startKamailio, type KamailioProcess } from '../support/kamailio.js';
import { runSipp, startSipp, startSippUas } from '../support/sipp.js';
import { createTestCa, type TestCa, type TestCert } from '../support/test-certs.js';
import { startTrunkgate, type LogLine, type TrunkgateProcess } from '../support/trunkgate-process.js';

const GW_NAME = 'gw.trunkgate.test';

interface Trunkgate extends TrunkgateProcess {
  tlsPort: number;
}

/** The product's own entry (src/main.ts) on a profiles dir; ready once the drachtio control endpoint is up. */
async function startGateway(t: TestContext, profilesDir: string): Promise<Trunkgate> {
  const tg = await startTrunkgate(t, profilesDir, {
    ready: (l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: drachtio control on'),
  });
  const tls = tg.lines.find((l) => l.transport === 'tls' && typeof l.port === 'number');
  assert.ok(tls, 'no TLS listener logged');
  return { ...tg, tlsPort: tls.port as number };
}

/** Writes the trustpoint's files as a renewal tool does: each to a temporary name, then renamed over the old. */
function installTrustpoint(dir: string, files: { cert: string; key?: string }): void {
  const put = (name: string, text: string, mode: number): void => {
    const tmp = join(dir, `.${name}.new`);
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, join(dir, name));
  };
  if (files.key !== undefined) put('key.pem', files.key, 0o600);
  put('cert.pem', files.cert, 0o644);
}

/** The certificate a fresh `openssl s_client` handshake is shown (with kamailio's client certificate). */
async function serverCertificate(port: number, client: TestCert, ca: TestCa): Promise<X509Certificate> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', GW_NAME, '-cert', client.certPath, '-key', client.keyPath,
    '-CAfile', ca.certPath, '-verify_return_error'];
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await new Promise<void>((ok) => child.once('close', () => ok()));
  clearTimeout(kill);
  const pem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(out);
  assert.ok(pem, `openssl s_client showed no certificate:\n${out.slice(0, 2000)}`);
  assert.match(out, /Verify return code: 0 \(ok\)/, 'the shown certificate verifies against the gateway CA');
  return new X509Certificate(pem[0]);
}

/** kamailio prints a serial in decimal; X509Certificate in hex. */
const decimalSerial = (c: X509Certificate): string => BigInt(`0x${c.serialNumber}`).toString();

async function carrierSbc(t: TestContext, carrier: TestCert, gatewayCa: TestCa, gwTlsPort: number): Promise<KamailioProcess> {
  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: carrier.cert, privateKey: carrier.key, caList: gatewayCa.cert,
      destinations: [{ host: '127.0.0.1', port: gwTlsPort, serverName: GW_NAME }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: gwTlsPort, transport: 'tls' } },
  });
  t.after(() => kam.stop());
  return kam;
}

/** kamailio's log comes through a pipe and can trail the calls: wait until `n` TLS replies are logged (5 s at most). */
async function tlsReplies(kam: KamailioProcess, n: number): Promise<string[]> {
  for (let i = 0; i < 200 && kam.tlsReplies().length < n; i++) await new Promise((ok) => setTimeout(ok, 25));
  return kam.tlsReplies().map((r) => r.peerSerial);
}

const isCdr = (l: LogLine): boolean => l.msg === 'cdr';
const cdrsBetween = (lines: LogLine[], from: number, to: number): number => lines.slice(from, to).filter(isCdr).length;
/** The called number of the long run, and of the short runs made between the swaps: a CDR says which run a call was. */
const LOAD = 'swapload';
const PROBE = 'swapprobe';
const loadCdrsBetween = (lines: LogLine[], from: number, to: number): number =>
  lines.slice(from, to).filter((l) => isCdr(l) && (l.cdr as { calledNumber?: string }).calledNumber === LOAD).length;

test(`certificate swapped under load: sipp → kamailio (${kamailioVersion()}) → TLS → trunkgate → sipp, 600 calls, 0 failed; ` +
  'new handshakes show the new certificate, a key that does not match is refused and the renewed one keeps serving', { timeout: 150_000 }, async (t) => {
  const gatewayCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa = await createTestCa({ cn: 'carrier SBC CA' });
  t.after(() => carrierCa.cleanup());
  const sans = [`DNS:${GW_NAME}`, 'IP:127.0.0.1'];
  const first = await gatewayCa.issue({ cn: GW_NAME, sans });
  const renewed = await gatewayCa.issue({ cn: GW_NAME, sans });
  const stray = await gatewayCa.issue({ cn: GW_NAME, sans });
  const carrier = await carrierCa.issue({ cn: 'sbc.carrier.test', sans: ['DNS:sbc.carrier.test'] });
  const [firstX, renewedX, strayX] = [first, renewed, stray].map((c) => new X509Certificate(c.cert)) as [X509Certificate, X509Certificate, X509Certificate];
  assert.notEqual(firstX.fingerprint256, renewedX.fingerprint256);

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());

  // profiles/ as an administrator writes it: a TLS listener for the carrier tenant, mutual TLS, one dial peer to the PBX.
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-swap-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tpDir = join(root, 'pki', 'gw');
  mkdirSync(tpDir, { recursive: true, mode: 0o700 });
  installTrustpoint(tpDir, first);
  writeFileSync(join(tpDir, 'chain.pem'), gatewayCa.cert);
  writeFileSync(join(root, 'carrier-ca.pem'), carrierCa.cert);
  const profilesDir = join(root, 'profiles');
  mkdirSync(profilesDir);
  writeFileSync(join(profilesDir, 'gateway.yaml'), `
gateway:
  domain: ${GW_NAME}
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge, tenant: carrier }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ${tpDir} }
trustStores:
  carriers: [${join(root, 'carrier-ca.pem')}]
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, minVersion: TLSv1.2, requireClientCert: true, cnSanValidate: client, cnSan: [sbc.carrier.test] }
tenants:
  carrier: { transport: tls, tlsProfile: edge }
  pbx: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
tlsPeers:
  sbc.carrier.test: { permissions: {} }
dialPeers:
  - { id: 1, destinationPattern: ".", tenant: pbx, from: [carrier] }
`);
  const gw = await startGateway(t, profilesDir);
  assert.equal(decimalSerial(await serverCertificate(gw.tlsPort, carrier, gatewayCa)), decimalSerial(firstX), 'before the swap: the first certificate');

  const kamA = await carrierSbc(t, carrier, gatewayCa, gw.tlsPort);
  const calls = 600;
  const load = await startSipp({
    scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kamA.port('udp')}`, calls, rate: 30, pauseMs: 1000, timeoutSec: 90,
    service: LOAD,
  });
  t.after(() => load.stop());

  // Let calls flow over kamailio's TLS connection (made with the first certificate): the 60th call's CDR, not a
  // time, says the load is under way; then renew on disk.
  await gw.waitFor(() => gw.lines.filter(isCdr).length >= 60, 30_000);
  const swapAt = gw.lines.length;
  const kamALogAtSwap = kamA.logs().length;
  installTrustpoint(tpDir, renewed);
  const reloaded = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: TLS profiles reloaded from disk'), 10_000, swapAt);
  assert.equal(gw.lines.slice(swapAt, reloaded.index).filter((l) => String(l.msg).includes('TLS reload refused')).length, 0,
    'the renewal was taken at once, not after a refused half-written state');
  assert.equal(decimalSerial(await serverCertificate(gw.tlsPort, carrier, gatewayCa)), decimalSerial(renewedX), 'after the swap: the renewed certificate');

  // A kamailio connecting now handshakes with the renewed certificate, while the load goes on through the first.
  const kamB = await carrierSbc(t, carrier, gatewayCa, gw.tlsPort);
  const viaB = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kamB.port('udp')}`, calls: 20, rate: 10, timeoutSec: 30, service: PROBE });
  assert.equal(viaB.stats.successful, 20, `calls over a connection made after the swap: ${viaB.errors.slice(0, 1500)}`);
  assert.equal(viaB.stats.failed, 0);
  // Each call gets at least the INVITE's 200 and the BYE's 200 back over TLS.
  const bSerials = new Set(await tlsReplies(kamB, 40));
  assert.deepEqual([...bSerials], [decimalSerial(renewedX)], 'kamailio B saw only the renewed certificate');

  // A bad renewal: a new cert.pem whose key is not the key.pem beside it.
  const badAt = gw.lines.length;
  installTrustpoint(tpDir, { cert: stray.cert });
  const refused = await gw.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('trunkgate: TLS reload refused'), 10_000, badAt);
  const problems = refused.line.problems as Array<{ profile: string; code: string; reason: string }>;
  assert.ok(problems.some((p) => p.profile === 'edge' && p.code === 'ERR_PKI_KEY_MISMATCH'), JSON.stringify(problems));
  const stillServing = await serverCertificate(gw.tlsPort, carrier, gatewayCa);
  assert.equal(decimalSerial(stillServing), decimalSerial(renewedX), 'the renewed certificate keeps serving');
  assert.notEqual(decimalSerial(stillServing), decimalSerial(strayX));
  const kamC = await carrierSbc(t, carrier, gatewayCa, gw.tlsPort);
  const viaC = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${kamC.port('udp')}`, calls: 10, rate: 10, timeoutSec: 30, service: PROBE });
  assert.equal(viaC.stats.successful, 10, `calls over a connection made after the refused swap: ${viaC.errors.slice(0, 1500)}`);
  assert.deepEqual([...new Set(await tlsReplies(kamC, 20))], [decimalSerial(renewedX)]);
  const badDoneAt = gw.lines.length;

  const r = await load.exited;
  const diag = `sipp: ${r.errors.slice(0, 1500)}\nkamailio A:\n${kamA.logs().slice(-2000)}`;
  assert.equal(r.exitCode, 0, diag);
  assert.equal(r.stats.successful, calls, diag);
  assert.equal(r.stats.failed, 0, diag);
  assert.deepEqual(kamA.relayFailures(), []);

  // The b2bua writes a call's CDR when its legs are torn down, which can trail sipp's last BYE 200 a little.
  const total = calls + 30;
  for (let i = 0; i < 200 && gw.lines.filter(isCdr).length < total; i++) await new Promise((ok) => setTimeout(ok, 25));

  // Calls were answered before, between and after the swaps: the swaps happened under load, not in a lull.
  assert.ok(cdrsBetween(gw.lines, 0, swapAt) > 0, 'calls before the first swap');
  assert.ok(cdrsBetween(gw.lines, reloaded.index, badAt) > 0, 'calls between the swaps');
  assert.ok(cdrsBetween(gw.lines, badDoneAt, gw.lines.length) > 0, 'calls after the refused swap');
  // The long run itself went on across both swaps: calls of the load (not of the short runs) ended after each.
  assert.ok(loadCdrsBetween(gw.lines, reloaded.index, gw.lines.length) > 0, 'load calls ended after the renewal was taken');
  assert.ok(loadCdrsBetween(gw.lines, refused.index, gw.lines.length) > 0, 'load calls ended after the bad renewal was refused');
  const failedCdrs = gw.lines.filter((l) => isCdr(l) && (l.cdr as { status?: number } | undefined)?.status !== 200);
  assert.deepEqual(failedCdrs, [], 'every call the gateway saw was answered 200');
  // Every call ran the policy pipeline: the carrier tenant in (the TLS listener), dial peer 1 to the PBX tenant.
  const routes = new Set(gw.lines.filter(isCdr).map((l) => {
    const c = l.cdr as { tenantIn?: string | null; tenantOut?: string | null; dialPeer?: string | null };
    return `${c.tenantIn} -> ${c.dialPeer} -> ${c.tenantOut}`;
  }));
  assert.deepEqual([...routes], ['carrier -> 1 -> pbx']);
  assert.equal(gw.lines.filter(isCdr).length, total, 'the gateway saw every call of the three sipp runs');
  assert.deepEqual(gw.lines.filter((l) => l.event === 'TLS_HANDSHAKE_FAILED'), [], 'no handshake failed');

  // kamailio A's connection, made before the swap, went on with the first certificate: live connections are spared.
  const aSerials = await tlsReplies(kamA, 2 * calls);
  const aAfterSwap = kamA.logs().slice(kamALogAtSwap).split('\n').filter((l) => l.includes('tg-reply ')).length;
  assert.ok(aAfterSwap > 0, 'kamailio A received replies after the swap');
  assert.deepEqual([...new Set(aSerials)], [decimalSerial(firstX)], 'kamailio A\'s live connection kept the first certificate');
});
