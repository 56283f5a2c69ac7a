// The admin API on a running gateway built as `npm start` builds it (planStartup, startGateway with the engine in
// its worker thread, the reloader), listening on 127.0.0.1 port 0 and asked over real HTTP: the connection table
// shows a live TCP and a live mutual-TLS connection with version, cipher, profile, tenant and identities; /tls
// shows the profile's certificate and the handshake failures; /metrics is Prometheus text that moves when a call
// fails; POST /reload/tls says what changed or why it was refused; POST /reload/config changes the routing of the
// next call, and a bad configuration is refused with every problem while the old routing keeps working.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { pino } from 'pino';
import { startAdmin, type AdminServer } from '../../src/admin/index.js';
import { CertificateExpiryWatch } from '../../src/cert-expiry.js';
import { compileProfile } from '../../src/cli/tls-probe.js';
import { probeTls, type TlsProbeReport } from '../../src/tls/index.js';
import type { ConnectionInfo } from '../../src/sip/transport/index.js';
import { randomSecret, startGateway, type Gateway } from '../../src/gateway.js';
import { GatewayReloader, type ConfigReloadReport, type TlsReloadReport } from '../../src/gateway-reload.js';
import type { EngineSnapshot } from '../../src/engine/index.js';
import { silentLogger } from '../../src/log/index.js';
import { planStartup } from '../../src/startup.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { answer, sdp, ua, type Ua } from '../support/mini-ua.js';
import { parsePromText } from '../support/prom-text.js';
import { freePort, runSipp, startSippUas } from '../support/sipp.js';

/** The start's warm-up calls are off here: they would add a second or two to a start this test does not time. */
const NO_PREWARM = { prewarmCalls: 0 } as const;

interface Rig {
  gw: Gateway;
  admin: AdminServer;
  logs: Array<{ level: number; msg: string }>;
  get(path: string): Promise<{ status: number; body: unknown; text: string; type: string }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** The gateway and its admin API as src/start-command.ts composes them, from a profiles directory. */
async function rig(t: TestContext, profilesDir: string, token?: string): Promise<Rig> {
  const logs: Array<{ level: number; msg: string }> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  const log = pino({ level: 'info' }, dest);
  const plan = planStartup(profilesDir, {}, silentLogger());
  const gw = await startGateway({ ...plan.options, ...NO_PREWARM, control: { ...plan.options.control, secret: randomSecret() }, log, logLevel: 'silent' });
  t.after(() => gw.close());
  const reloader = new GatewayReloader({ gateway: gw, profilesDir, config: plan.config, env: {}, log });
  t.after(() => reloader.close());
  const expiry = new CertificateExpiryWatch({ log: silentLogger(), config: () => reloader.config });
  expiry.check();
  const admin = await startAdmin({
    engineSnapshot: () => gw.engineSnapshot(),
    b2buaStats: () => gw.b2bua.stats(),
    reloadTls: () => reloader.reloadTls('api'),
    reloadConfig: () => reloader.reloadConfig('api'),
    certificates: () => expiry.rows(),
    probeTls: (q) => probeTls({ host: q.host, port: q.port, ...(q.sni ? { sni: q.sni } : {}), ...(q.profile ? { profile: compileProfile(reloader.config, q.profile) } : {}) }),
  }, { host: '127.0.0.1', port: 0, log, ...(token ? { token } : {}) });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${admin.address.port}`;
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    gw, admin, logs,
    async get(path) {
      const res = await fetch(`${base}${path}`, { headers: auth });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return { status: res.status, text, type, body: type.includes('json') ? JSON.parse(text) as unknown : undefined };
    },
    async post(path, body) {
      const res = await fetch(`${base}${path}`, body === undefined ? { method: 'POST', headers: auth }
        : { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as unknown };
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function installTrustpoint(dir: string, files: { cert: string; key: string }): void {
  for (const [name, text, mode] of [['key.pem', files.key, 0o600], ['cert.pem', files.cert, 0o644]] as const) {
    writeFileSync(join(dir, `.${name}.new`), text, { mode });
    renameSync(join(dir, `.${name}.new`), join(dir, name));
  }
}

await requireOpenssl();
const ca = await createTestCa({ cn: 'admin API test CA' });
process.on('exit', () => void ca.cleanup());

test('admin API: the connection table shows live TCP and mutual-TLS connections; /tls the profile and its failures; TLS reload says what changed or why not', async (t) => {
  const gwCert = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'URI:sip:gw.test'] });
  const renewed = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'DNS:renewed.gw.test'] });
  const expired = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test'], validity: 'expired' });
  const pbx = await ca.issue({ cn: 'pbx.test', sans: ['DNS:pbx.test', 'URI:sip:pbx.test'] });
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-admin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const tpDir = join(root, 'pki', 'gw');
  mkdirSync(tpDir, { recursive: true });
  installTrustpoint(tpDir, gwCert);
  writeFileSync(join(root, 'ca.pem'), ca.cert);
  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  domain: gw.test
  listen:
    - { transport: tcp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge, tenant: carrier }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ${tpDir} }
trustStores:
  carriers: [${join(root, 'ca.pem')}]
tlsProfiles:
  edge: { trustpoint: gw, trustStore: carriers, requireClientCert: true, cnSanValidate: client, cnSan: [pbx.test] }
tenants:
  carrier: { transport: tls, tlsProfile: edge }
  pbx: { transport: tcp, sipServer: 127.0.0.1:9 }
tlsPeers:
  pbx.test: { permissions: {} }
dialPeers:
  - { id: 1, destinationPattern: ".", tenant: pbx, from: [carrier] }
`);
  const token = 'admin-test-token';
  const r = await rig(t, profiles, token);
  const tcpPort = r.gw.addresses.sip.find((l) => l.protocol === 'tcp')!.port;
  const tlsPort = r.gw.addresses.sip.find((l) => l.protocol === 'tls')!.port;

  // Without the token: 401, except /health.
  const anon = await fetch(`http://127.0.0.1:${r.admin.address.port}/connections`);
  assert.equal(anon.status, 401);
  assert.equal(((await anon.json()) as { code: string }).code, 'ERR_ADMIN_UNAUTHORIZED');
  assert.equal((await fetch(`http://127.0.0.1:${r.admin.address.port}/health`)).status, 200);

  // A live TCP connection and a live mutual-TLS connection.
  const plain = net.connect(tcpPort, '127.0.0.1');
  t.after(() => plain.destroy());
  await once(plain, 'connect');
  plain.write('\r\n\r\n');
  const secure = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'gw.test', ca: ca.cert, key: pbx.key, cert: pbx.cert });
  t.after(() => secure.destroy());
  await once(secure, 'secureConnect');
  secure.write('\r\n\r\n');

  const rows = async () => ((await r.get('/connections')).body as { count: number; connections: ConnectionInfo[] }).connections;
  const tcpRow = await until('the TCP row', async () => (await rows()).find((c) => c.protocol === 'tcp' && c.remotePort === plain.localPort));
  assert.equal(tcpRow.direction, 'inbound');
  assert.equal(tcpRow.state, 'open');
  assert.equal(tcpRow.localPort, tcpPort);
  assert.equal(tcpRow.remoteAddress, '127.0.0.1');
  assert.equal(tcpRow.tls, undefined);

  const tlsRow = await until('the TLS row with its peer identities', async () =>
    (await rows()).find((c) => c.protocol === 'tls' && c.remotePort === secure.localPort && c.tls?.identities.length));
  const cipher = secure.getCipher();
  assert.equal(tlsRow.state, 'open');
  assert.equal(tlsRow.localPort, tlsPort);
  assert.equal(tlsRow.tlsProfile, 'edge');
  assert.equal(tlsRow.tenant, 'carrier');
  assert.equal(tlsRow.tls!.version, secure.getProtocol());
  assert.ok([cipher.name, cipher.standardName].includes(tlsRow.tls!.cipher), `cipher ${tlsRow.tls!.cipher} vs ${JSON.stringify(cipher)}`);
  assert.equal(tlsRow.tls!.profile, 'edge');
  assert.equal(tlsRow.tls!.tenant, 'carrier');
  assert.equal(tlsRow.tls!.authorized, true);
  assert.ok(tlsRow.tls!.identities.includes('dns:pbx.test') && tlsRow.tls!.identities.includes('sip:pbx.test'), JSON.stringify(tlsRow.tls));
  assert.equal(tlsRow.servername, 'gw.test');

  // /tls: the loaded profile with its certificate, and a refused handshake counted by tenant, direction, reason.
  const fp1 = new X509Certificate(gwCert.cert).fingerprint256;
  const tlsView = (await r.get('/tls')).body as EngineSnapshot['tls'];
  const edge = tlsView.profiles.find((p) => p.name === 'edge');
  assert.ok(edge, JSON.stringify(tlsView));
  assert.equal(edge.certificate.fingerprint256, fp1);
  assert.deepEqual(edge.certificate.san.filter((s) => s.startsWith('dns:')), ['dns:gw.test']);
  assert.equal(edge.certificate.notAfter, new Date(new X509Certificate(gwCert.cert).validTo).toISOString());
  assert.match(edge.certificate.subject, /CN=gw\.test/);
  assert.equal(edge.requestCert, true);
  assert.equal(tlsView.failures.length, 0);

  const noCert = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'gw.test', ca: ca.cert });
  noCert.on('error', () => undefined);
  t.after(() => noCert.destroy());
  const failure = await until('a counted handshake failure', async () =>
    ((await r.get('/tls')).body as EngineSnapshot['tls']).failures.find((f) => f.tenant === 'carrier' && f.direction === 'server'));
  assert.equal(failure.count, 1);
  assert.match(failure.reason, /^[a-z-]+$/, 'a stable reason code');
  const metrics = parsePromText((await r.get('/metrics')).text);
  assert.equal(metrics.value('trunkgate_tls_handshake_failures_total', { tenant: 'carrier', direction: 'server', reason: failure.reason }), 1);
  assert.equal(metrics.value('trunkgate_connections_open', { protocol: 'tls', direction: 'inbound' }), 1);
  assert.equal(metrics.value('trunkgate_connections_open', { protocol: 'tcp', direction: 'inbound' }), 1);
  // Every configured certificate's expiry, the trust store's CA included.
  const expiries = metrics.samples.filter((s) => s.name === 'trunkgate_certificate_expiry_timestamp_seconds');
  const gwLeaf = expiries.find((s) => s.labels['where'] === 'trustpoint gw' && s.labels['role'] === 'leaf');
  assert.equal(gwLeaf?.value, Date.parse(new X509Certificate(gwCert.cert).validTo) / 1000);
  assert.ok(expiries.some((s) => s.labels['where'] === 'trust store carriers' && s.labels['role'] === 'ca'), JSON.stringify(expiries));
  const certs = (await r.get('/certificates')).body as { certificates: { where: string; role: string; sha256: string; daysLeft: number }[] };
  const leafRow = certs.certificates.find((c) => c.where === 'trustpoint gw' && c.role === 'leaf');
  assert.equal(leafRow?.sha256, new X509Certificate(gwCert.cert).fingerprint256);
  assert.ok(leafRow!.daysLeft >= 28 && leafRow!.daysLeft <= 30, String(leafRow?.daysLeft));

  // /stats: engine and b2bua counters side by side.
  const stats = (await r.get('/stats')).body as { engine: { transport: { connectionsOpen: number }; tls: { handshakeFailures: number }; apps: number }; b2bua: { attempted: number } };
  assert.equal(stats.engine.tls.handshakeFailures, 1);
  assert.equal(stats.engine.apps, 1, 'the b2bua is connected over the control protocol');
  assert.equal(stats.b2bua.attempted, 0);
  const mem = (await r.get('/stats')).body as { engine: { heap: { used: number; total: number }; rate: { admitted: number } }; process: { rss: number; heapUsed: number } };
  assert.ok(mem.engine.heap.used > 0 && mem.engine.heap.used <= mem.engine.heap.total, 'the engine thread\'s heap is reported');
  assert.ok(mem.process.rss > mem.process.heapUsed, 'the process RSS holds its heap');
  assert.equal(typeof mem.engine.rate.admitted, 'number', 'the per-source rate counters are reported');

  // POST /tls/probe runs one probe at a time: while one waits on a far end that accepts and never answers, another
  // is refused with 429; once that far end goes away, the first comes back.
  const held: net.Socket[] = [];
  const silent = net.createServer((s) => { held.push(s); });
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const stalled = r.post('/tls/probe', { host: '127.0.0.1', port: silentPort });
  for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(held.length, 1, 'the first probe reached the silent far end');
  const busy = await r.post('/tls/probe', { host: '127.0.0.1', port: tlsPort });
  for (const s of held) s.destroy();
  silent.close();
  assert.equal((await stalled).status, 200);

  // The gateway probes a far end (here its own TLS listener) with a profile of its configuration.
  const probed = await r.post('/tls/probe', { host: '127.0.0.1', port: tlsPort, sni: 'gw.test', profile: 'edge' });
  assert.equal(probed.status, 200, JSON.stringify(probed.body));
  const rep = probed.body as TlsProbeReport;
  assert.equal(rep.versions['TLSv1.3'], true, JSON.stringify(rep));
  assert.ok(rep.identities.includes('dns:gw.test'), JSON.stringify(rep.identities));
  // The listener wants a client certificate naming pbx.test and closes on anyone else right after the handshake:
  // the probe says the connection was refused after it, for the certificate its TLS 1.2 CertificateRequest asks for
  // (from the CA of its trust store), and that the profile (presenting gw.test) does not get in.
  assert.equal(rep.clientCertificate, 'required');
  assert.deepEqual(rep.clientCaNames, ['CN=admin API test CA'], JSON.stringify(rep));
  assert.match(rep.refusedAfterHandshake?.detail ?? '', /closed the connection right after the handshake/, JSON.stringify(rep));
  assert.equal(rep.refusedAfterHandshake?.reason, 'no-client-certificate');
  assert.equal(rep.profile?.name, 'edge');
  assert.equal(rep.profile?.ok, false);
  assert.equal(busy.status, 429, 'one probe at a time');
  assert.equal((busy.body as { code: string }).code, 'ERR_ADMIN_TLS_PROBE_BUSY');
  assert.equal((await r.post('/tls/probe', { host: '127.0.0.1', port: 0 })).status, 400);
  const unknown = await r.post('/tls/probe', { host: '127.0.0.1', port: tlsPort, profile: 'nope' });
  assert.equal(unknown.status, 422);
  assert.match((unknown.body as { message: string }).message, /no TLS profile nope/);

  // TLS reload: a renewed certificate on disk is taken and named; an expired one is refused with its reason.
  installTrustpoint(tpDir, renewed);
  const ok = await r.post('/reload/tls');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const okBody = ok.body as TlsReloadReport;
  assert.deepEqual(okBody.certificates, [{ profile: 'edge', kind: 'server', from: fp1, to: new X509Certificate(renewed.cert).fingerprint256 }]);
  assert.deepEqual([okBody.added, okBody.removed], [[], []]);
  installTrustpoint(tpDir, expired);
  const refused = await r.post('/reload/tls');
  assert.equal(refused.status, 422);
  const refusedBody = refused.body as TlsReloadReport;
  assert.equal(refusedBody.ok, false);
  assert.equal(refusedBody.version, okBody.version, 'the profile set did not move');
  assert.ok(refusedBody.problems.some((p) => p.profile === 'edge' && /expired|valid/i.test(`${p.code} ${p.message}`)), JSON.stringify(refusedBody));
  const still = ((await r.get('/tls')).body as EngineSnapshot['tls']).profiles.find((p) => p.name === 'edge')!;
  assert.equal(still.certificate.fingerprint256, new X509Certificate(renewed.cert).fingerprint256, 'the renewed certificate keeps serving');
  assert.equal(secure.destroyed, false, 'the live TLS connection went on through both reloads');

  // The OpenAPI description lists every route.
  const api = (await r.get('/openapi.json')).body as { openapi: string; paths: Record<string, unknown> };
  assert.match(api.openapi, /^3\./);
  for (const p of ['/connections', '/tls', '/trunks', '/certificates', '/stats', '/metrics', '/tls/probe', '/reload/tls', '/reload/config']) assert.ok(api.paths[p], `${p} in the OpenAPI description`);
});

let seq = 0;
async function invite(uac: Ua, sipPort: number, number: string): Promise<string> {
  const n = ++seq;
  const callId = `admin-${process.pid}-${n}`;
  uac.send([`INVITE sip:${number}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bKadm${n};rport`, 'Max-Forwards: 70',
    `From: <sip:1000@127.0.0.1:${uac.port}>;tag=adm${n}`, `To: <sip:${number}@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${uac.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const res = await uac.next(new RegExp(`^SIP/2\\.0 [3-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  return /^SIP\/2\.0 (\d{3})/.exec(res)![1]!;
}

test('admin API: /metrics is Prometheus text that moves when a call fails; a config reload routes the next call by the new dial peer, a bad one is refused with every problem and the old routing goes on', async (t) => {
  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const busy = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '486 Busy Here', self.port), from);
  });
  const sipPort = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'trunkgate-admin-reload-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
  far: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
  busy: { transport: udp, sipServer: 127.0.0.1:${busy.port} }
`);
  const peers = (extra: string) => writeFileSync(join(root, 'dial-peers.yaml'), `
dialPeers:
  - { id: 1, destinationPattern: "^2\\\\d{3}$", tenant: far, from: [pbx] }
  - { id: 2, destinationPattern: "^4\\\\d{3}$", tenant: busy, from: [pbx] }
${extra}`);
  peers('');
  const r = await rig(t, root);
  const uac = await ua(t);
  const scrape = async () => {
    const res = await r.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    return parsePromText(res.text);
  };

  const m0 = await scrape();
  assert.equal(m0.types.get('trunkgate_calls_failed_total'), 'counter');
  assert.equal(m0.value('trunkgate_calls_failed_total', { status: '486', stage: 'bridge' }), undefined);
  assert.equal(m0.value('trunkgate_calls_failed_total', { status: '404', stage: 'policy' }), 0);

  // A call the far end refuses: failures by status move.
  assert.equal(await invite(uac, sipPort, '4001'), '486');
  const m1 = await until('the 486 counted', async () => {
    const m = await scrape();
    return m.value('trunkgate_calls_failed_total', { status: '486', stage: 'bridge' }) === 1 ? m : undefined;
  });
  assert.equal(m1.value('trunkgate_calls_attempted_total'), 1);

  // 3001 has no dial peer: 404, counted.
  assert.equal(await invite(uac, sipPort, '3001'), '404');
  const m2 = await scrape();
  assert.equal(m2.value('trunkgate_calls_failed_total', { status: '404', stage: 'policy' }), 1);
  assert.equal(m2.value('trunkgate_calls_no_route_total'), 1);
  // Two INVITEs went through the engine's stages; nothing was shed, and the engine thread's GC and busy time count.
  assert.equal(m2.types.get('trunkgate_engine_stage_p99_seconds'), 'gauge');
  assert.ok((m2.value('trunkgate_engine_stage_p99_seconds', { stage: 'trying' }) ?? 0) > 0);
  assert.ok((m2.value('trunkgate_engine_stage_p99_seconds', { stage: 'app' }) ?? 0) > 0);
  assert.equal(m2.value('trunkgate_overload_admit_share'), 1);
  assert.equal(m2.value('trunkgate_overload_shed_total', { action: 'reject' }), 0);
  assert.equal(m2.types.get('trunkgate_engine_gc_seconds_total'), 'counter');
  assert.ok((m2.value('trunkgate_engine_busy_seconds_total') ?? 0) > 0);

  // A dial peer for 3xxx, reloaded by API: the next call completes (sipp UAC ↔ sipp UAS through the gateway).
  peers('  - { id: 3, destinationPattern: "^3\\\\d{3}$", tenant: far, from: [pbx] }');
  const good = await r.post('/reload/config');
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const goodBody = good.body as ConfigReloadReport;
  assert.deepEqual(goodBody.changed, ['dialPeers']);
  assert.deepEqual(goodBody.applied, ['routing']);
  assert.deepEqual(goodBody.needsRestart, []);
  const call = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3001', calls: 1, timeoutSec: 20 });
  assert.equal(call.exitCode, 0, call.errors || call.stderr);
  assert.equal(call.stats.successful, 1);

  // A bad configuration: a dial peer naming no tenant and a pattern that does not compile. Refused with both
  // problems (file and path), logged; the running routing goes on.
  peers(`  - { id: 4, destinationPattern: "^5\\\\d{3}$", tenant: nowhere, from: [pbx] }
  - { id: 5, destinationPattern: "^(6", tenant: far }`);
  const bad = await r.post('/reload/config');
  assert.equal(bad.status, 422);
  const badBody = bad.body as ConfigReloadReport;
  assert.equal(badBody.ok, false);
  assert.deepEqual(badBody.applied, []);
  const codes = badBody.problems.map((p) => `${p.code} ${p.path}`);
  assert.ok(codes.some((c) => /^ERR_CONFIG_REFERENCE dialPeers\[2\]\.tenant/.test(c)), codes.join('\n'));
  assert.ok(codes.some((c) => /^ERR_CONFIG_PATTERN dialPeers\[3\]\.destinationPattern/.test(c)), codes.join('\n'));
  assert.ok(badBody.problems.every((p) => p.file?.endsWith('dial-peers.yaml')), JSON.stringify(badBody.problems));
  assert.ok(r.logs.some((l) => l.level === 40 && /configuration reload refused/.test(l.msg)), 'the refusal is logged');
  assert.ok(r.logs.some((l) => l.level === 40 && /nowhere/.test(l.msg)), 'each problem is logged');
  const again = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${sipPort}`, service: '3002', calls: 1, timeoutSec: 20 });
  assert.equal(again.exitCode, 0, again.errors || again.stderr);
  assert.equal(await invite(uac, sipPort, '5001'), '404', 'the refused dial peer did not take effect');

  // A listener change is accepted but reported as needing a restart; the routing part of it is applied.
  writeFileSync(join(root, 'gateway.yaml'), `
gateway:
  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }, { transport: tcp, host: 127.0.0.1, port: ${sipPort} }]
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.1] }
  far: { transport: udp, sipServer: 127.0.0.1:${uas.port} }
  busy: { transport: udp, sipServer: 127.0.0.1:${busy.port} }
`);
  peers('');
  const restart = await r.post('/reload/config');
  assert.equal(restart.status, 200, JSON.stringify(restart.body));
  const restartBody = restart.body as ConfigReloadReport;
  assert.deepEqual(restartBody.needsRestart.map((n) => n.what), ['listeners']);
  assert.deepEqual(restartBody.applied, ['routing']);
  assert.equal(await invite(uac, sipPort, '3003'), '404', 'dial peer 3 removed again: the routing was applied');
  assert.equal(r.gw.addresses.sip.length, 1, 'no listener was opened');
});
