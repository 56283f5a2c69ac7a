// A TLS file the watch reloads and the profile check refuses, on the gateway as `npm start` composes it (planStartup,
// the engine in its worker thread, the reloader watching the TLS files): the running profile keeps serving. A CRL that
// has expired, written over the profile's CRL file, is refused (ERR_TLS_CRL_INVALID) and a client's handshake still
// succeeds under the old CRL; swapped in, it would have failed every handshake (CRL_HAS_EXPIRED). A certificate for
// another key written into the trustpoint folder is refused too, and counted: /metrics and /stats of the admin API
// (as src/start-command.ts wires it) carry trunkgate_tls_reloads_total{trigger="file",outcome="ERR_PKI_KEY_MISMATCH"} 1.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { startAdmin } from '../../src/admin/index.js';
import { randomSecret, startGateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { createCrl, createLocalCa, issueGatewayCertificate } from '../../src/pki/index.js';
import { silentLogger } from '../../src/log/index.js';
import { planStartup } from '../../src/startup.js';
import { until } from '../support/until.js';
import { pingVerdict } from './engine-tls-support.js';

const TOKEN = 'reload-refused-token';
const ca = createLocalCa({ commonName: 'reload refused CA' });
const gwCert = issueGatewayCertificate(ca, { domain: 'gw.example.com' });
const client = issueGatewayCertificate(ca, { domain: 'pbx.example.com' });

interface Rig {
  root: string;
  tpDir: string;
  crlFile: string;
  tlsPort: number;
  reloader: GatewayReloader;
  /** The gateway's log lines, parsed. */
  logs: Record<string, unknown>[];
  /** GET on the admin API: its body as text. */
  get(path: string): Promise<string>;
}

/** A gateway with one mutual-TLS profile (trustpoint folder, trust store, CRL file) and its reloader watching the files. */
async function rig(t: TestContext): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'tg-reload-refused-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tpDir = join(root, 'tp');
  mkdirSync(tpDir);
  writeFileSync(join(tpDir, 'key.pem'), gwCert.keyPem, { mode: 0o600 });
  writeFileSync(join(tpDir, 'cert.pem'), gwCert.certPem);
  writeFileSync(join(tpDir, 'chain.pem'), ca.certPem);
  writeFileSync(join(root, 'ca.pem'), ca.certPem);
  const crlFile = join(root, 'ca.crl');
  writeFileSync(crlFile, createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [] }));
  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ${tpDir} }
trustStores:
  local: ${join(root, 'ca.pem')}
tlsProfiles:
  edge: { trustpoint: gw, trustStore: local, requireClientCert: true, revocation: { crl: ${crlFile} } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  remote: { transport: tls, tlsProfile: edge }
`);
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  }));
  const plan = planStartup(profiles, {}, silentLogger());
  const gw = await startGateway({ ...plan.options, prewarmCalls: 0, control: { ...plan.options.control, secret: randomSecret() }, log, logLevel: 'silent' });
  t.after(() => gw.close());
  const reloader = new GatewayReloader({ gateway: gw, profilesDir: profiles, config: plan.config, env: {}, log });
  reloader.watchTlsFiles();
  t.after(() => reloader.close());
  const admin = await startAdmin({
    engineSnapshot: () => gw.engineSnapshot(), b2buaStats: () => gw.b2bua.stats(),
    reloadTls: () => reloader.reloadTls('api'), reloadConfig: () => reloader.reloadConfig('api'),
    configReloads: () => reloader.reloadCounts(), tlsReloads: () => reloader.tlsReloadCounts(),
  }, { host: '127.0.0.1', port: 0, log: silentLogger(), token: TOKEN, processMetrics: false });
  t.after(() => admin.close());
  const get = async (path: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${admin.address.port}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return text;
  };
  const tlsPort = gw.addresses.sip.find((l) => l.protocol === 'tls')!.port;
  return { root, tpDir, crlFile, tlsPort, reloader, logs, get };
}

/** A client with a certificate of the CA: the listener checks it against the profile's CRL. */
const clientHello = (port: number) => pingVerdict(port, { cert: client.certPem, key: client.keyPem, rejectUnauthorized: false, servername: 'gw.example.com' });

/** The first TLS reload outcome the watch logged (from index `from`): refused or applied. */
async function fileReloadOutcome(r: Rig, from: number): Promise<Record<string, unknown>> {
  const isOutcome = (l: Record<string, unknown>): boolean => l['trigger'] === 'file' && (l['code'] === 'ERR_TLS_PROFILE_INVALID' || l['code'] === 'EVT_RELOAD_APPLIED');
  await until(() => r.logs.slice(from).some(isOutcome), 'a TLS reload after the file change', 15_000);
  return r.logs.slice(from).find(isOutcome)!;
}

test('an expired CRL written over the profile\'s CRL file is refused; the old CRL stays and handshakes still succeed', { timeout: 60_000 }, async (t) => {
  const r = await rig(t);
  assert.deepEqual(await clientHello(r.tlsPort), { verdict: 'accepted' }, 'the starting CRL lets the client in');
  const from = r.logs.length;
  writeFileSync(r.crlFile, createCrl({ issuerCertPem: ca.certPem, issuerKeyPem: ca.keyPem, revoked: [], thisUpdate: new Date('2024-01-01'), nextUpdate: new Date('2024-01-08') }));
  const outcome = await fileReloadOutcome(r, from);
  assert.equal(outcome['code'], 'ERR_TLS_PROFILE_INVALID', `the reload is refused: ${String(outcome['msg'])}`);
  const problems = outcome['problems'] as { code: string; message: string; profile: string }[];
  assert.deepEqual(problems.map((p) => [p.profile, p.code]), [['edge', 'ERR_TLS_CRL_INVALID']]);
  assert.match(problems[0]!.message, /^CRL .*ca\.crl: expired: its nextUpdate 2024-01-08T00:00:00\.000Z has passed$/);
  assert.deepEqual(await clientHello(r.tlsPort), { verdict: 'accepted' }, 'the running CRL still serves');
});

test('a certificate for another key written into the trustpoint folder: refused, and counted by trigger and outcome', { timeout: 60_000 }, async (t) => {
  const r = await rig(t);
  const series = /^trunkgate_tls_reloads_total\{trigger="file",outcome="([^"]+)"\} (\d+)$/gm;
  assert.deepEqual([...(await r.get('/metrics')).matchAll(series)], [], 'no file reload yet');
  writeFileSync(join(r.tpDir, 'cert.pem'), issueGatewayCertificate(ca, { domain: 'gw.example.com' }).certPem);
  // Bounded by the wait's deadline; what is asserted is the counter the watch's reload left.
  let text = '';
  await untilAsync(async () => (text = await r.get('/metrics')).match(series) !== null, 'a file reload on /metrics', 15_000);
  assert.deepEqual([...text.matchAll(series)].map((m) => [m[1], m[2]]), [['ERR_PKI_KEY_MISMATCH', '1']]);
  const stats = JSON.parse(await r.get('/stats')) as { tlsReloads?: Record<string, Record<string, number>> };
  assert.deepEqual(stats.tlsReloads, { file: { ERR_PKI_KEY_MISMATCH: 1 } });
  assert.deepEqual(await clientHello(r.tlsPort), { verdict: 'accepted' }, 'the running certificate still serves');
});

async function untilAsync(cond: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
