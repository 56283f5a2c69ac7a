// The sipXecs certificate walk-through over the admin API of a running gateway (planStartup, startGateway with the
// engine in its worker thread, the reloader watching the TLS files, as src/start-command.ts composes them), asked over real HTTP
// with a bearer token: export our CA, trust a remote CA, make a CSR, import what the remote CA signed (openssl plays
// that CA), and see a new TLS handshake to the gateway present the imported certificate without a restart. Then the
// refusals: a certificate for another key, an expired one, an unknown trustpoint, a second task while one runs, no
// token, an oversized body; each a 4xx with its code, and the trustpoint's files byte for byte as they were.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { startAdmin } from '../../src/admin/index.js';
import { CertificateExpiryWatch } from '../../src/cert-expiry.js';
import { pkiService, type PkiService } from '../../src/certificate-ops/index.js';
import { randomSecret, startGateway } from '../../src/gateway.js';
import { GatewayReloader } from '../../src/gateway-reload.js';
import { silentLogger } from '../../src/log/index.js';
import { planStartup } from '../../src/startup.js';
import { createTestCa, requireOpenssl, type TestCa } from '../support/test-certs.js';
import { pingVerdict } from './engine-tls-support.js';

/** The start's warm-up calls are off here: they would add a second or two to a start this test does not time. */
const NO_PREWARM = { prewarmCalls: 0 } as const;

await requireOpenssl();
const run = promisify(execFile);
const TOKEN = 'pki-admin-token';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
  body: { code?: string; message?: string } & Record<string, unknown>;
}

interface Rig {
  tlsPort: number;
  logs: string[];
  /** While set, POST /pki/csr waits on it inside the service (the route's one-task-at-a-time guard is held). */
  hold(gate: Promise<void> | undefined): void;
  held: () => number;
  call(method: string, path: string, body?: unknown, opts?: { token?: string | null; raw?: string }): Promise<Answer>;
}

/** The gateway and its admin API as src/start-command.ts composes them, the pki service included. */
async function rig(t: TestContext, profiles: string): Promise<Rig> {
  const logs: string[] = [];
  const log = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  }));
  const plan = planStartup(profiles, {}, silentLogger());
  const gw = await startGateway({ ...plan.options, ...NO_PREWARM, control: { ...plan.options.control, secret: randomSecret() }, log, logLevel: 'silent' });
  t.after(() => gw.close());
  const reloader = new GatewayReloader({ gateway: gw, profilesDir: profiles, config: plan.config, env: {}, log });
  reloader.watchTlsFiles();
  t.after(() => reloader.close());
  const expiry = new CertificateExpiryWatch({ log: silentLogger(), config: () => reloader.config });
  expiry.check();
  const real = pkiService({ config: () => reloader.config, changed: () => expiry.check() });
  let gate: Promise<void> | undefined;
  let held = 0;
  const pki: PkiService = {
    ...real,
    csr: async (r) => {
      if (gate) {
        held++;
        await gate;
      }
      return real.csr(r);
    },
  };
  const admin = await startAdmin({
    engineSnapshot: () => gw.engineSnapshot(), b2buaStats: () => gw.b2bua.stats(),
    reloadTls: () => reloader.reloadTls('api'), reloadConfig: () => reloader.reloadConfig('api'),
    certificates: () => expiry.rows(), pki,
  }, { host: '127.0.0.1', port: 0, log, token: TOKEN });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${admin.address.port}`;
  return {
    tlsPort: gw.addresses.sip.find((l) => l.protocol === 'tls')!.port,
    logs,
    hold: (g) => { gate = g; },
    held: () => held,
    async call(method, path, body, opts = {}) {
      const headers: Record<string, string> = {};
      if (opts.token !== null) headers['authorization'] = `Bearer ${opts.token ?? TOKEN}`;
      const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      const json = (res.headers.get('content-type') ?? '').includes('json');
      return { status: res.status, headers: res.headers, text, bytes, body: json ? JSON.parse(text) as Answer['body'] : {} };
    },
  };
}

/** The SHA-256 fingerprint of the certificate a new TLS handshake to the gateway presents. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'gw.example.com', rejectUnauthorized: false });
    const cap = setTimeout(() => {
      s.destroy();
      reject(new Error('no TLS handshake within 5 s'));
    }, 5000);
    s.on('secureConnect', () => {
      clearTimeout(cap);
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', (e) => {
      clearTimeout(cap);
      reject(e);
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The remote CA signs a CSR with the given dates (`openssl ca`, so notBefore and notAfter can lie in the past). */
async function signWithDates(ca: TestCa, csrPath: string, out: string, from: Date, to: Date): Promise<string> {
  const stamp = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
  await run('openssl', ['ca', '-batch', '-config', join(ca.dir, 'ca.cnf'), '-cert', ca.certPath, '-keyfile', ca.keyPath, '-in', csrPath,
    '-out', out, '-startdate', stamp(from), '-enddate', stamp(to), '-notext']);
  return readFileSync(out, 'utf8');
}

/** Every file of a folder with its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

test('admin API pki: export our CA, trust a remote CA, CSR, import what it signed; a new handshake presents it without a restart', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-admin-pki-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const remote = await createTestCa({ cn: 'Remote system CA' });
  t.after(() => remote.cleanup());
  const profiles = join(root, 'profiles');
  const tpDir = join(root, 'pki', 'trustpoints', 'gw');
  const trustDir = join(root, 'pki', 'trust');
  mkdirSync(profiles);
  mkdirSync(trustDir, { recursive: true });
  writeFileSync(join(profiles, 'gateway.yaml'), `
gateway:
  domain: gw.example.com
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  gw: { dir: ${tpDir} }
trustStores:
  remote: ${trustDir}
  bundle: ${remote.certPath}
tlsProfiles:
  edge: { trustpoint: gw, trustStore: remote }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  remote: { transport: tls, tlsProfile: edge }
`);
  // First start: our CA and a trustpoint it issued.
  const r = await rig(t, profiles);
  const first = await presented(r.tlsPort);
  assert.equal(first, new X509Certificate(readFileSync(join(tpDir, 'cert.pem'))).fingerprint256, 'the first start\'s certificate serves');

  // 1. Our CA for the remote system: PEM, and DER with ?format=der; the same certificate as on disk.
  const caFile = new X509Certificate(readFileSync(join(root, 'pki', 'ca', 'ca.crt')));
  const caPem = await r.call('GET', '/pki/ca');
  assert.equal(caPem.status, 200, caPem.text);
  assert.match(caPem.headers.get('content-type') ?? '', /application\/x-pem-file/);
  assert.equal(new X509Certificate(caPem.text).fingerprint256, caFile.fingerprint256);
  assert.equal(new X509Certificate(caPem.text).ca, true);
  const caDer = await r.call('GET', '/pki/ca?format=der');
  assert.equal(caDer.status, 200);
  assert.match(caDer.headers.get('content-type') ?? '', /application\/pkix-cert/);
  assert.equal(caDer.bytes[0], 0x30, 'DER starts with a SEQUENCE');
  assert.equal(new X509Certificate(caDer.bytes).fingerprint256, caFile.fingerprint256);
  const certsOf = async () => ((await r.call('GET', '/certificates')).body as unknown as { certificates: { where: string; role: string; sha256: string }[] }).certificates;

  // 2. Trust the remote system's CA: a file in the trust-store folder, listed by GET /certificates at once.
  const remoteFp = new X509Certificate(remote.cert).fingerprint256;
  const trusted = await r.call('POST', '/pki/trust', { store: 'remote', certificate: remote.cert });
  assert.equal(trusted.status, 200, trusted.text);
  assert.deepEqual([trusted.body['store'], trusted.body['sha256']], ['remote', remoteFp]);
  assert.match(String(trusted.body['subject']), /Remote system CA/);
  assert.equal(readdirSync(trustDir).length, 1);
  assert.ok((await certsOf()).some((c) => c.where === 'trust store remote' && c.role === 'ca' && c.sha256 === remoteFp));

  // 3. A CSR, held inside the service a moment: meanwhile another task that writes is refused 429, a read is not.
  let release!: () => void;
  r.hold(new Promise<void>((res) => { release = res; }));
  const csrAsked = r.call('POST', '/pki/csr', { trustpoint: 'gw', subject: 'CN=gw.example.com,O=Example', san: 'DNS:gw.example.com,URI:sip:gw.example.com' });
  await until('the CSR held in the service', async () => (r.held() === 1 ? true : undefined), 5000);
  const busy = await r.call('POST', '/pki/trust', { store: 'remote', certificate: remote.cert });
  assert.equal(busy.status, 429, busy.text);
  assert.equal(busy.body.code, 'ERR_ADMIN_PKI_BUSY');
  assert.match(busy.body.message ?? '', /certificate task \(csr\) is running/);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.equal((await r.call('POST', '/pki/inspect', { pem: remote.cert })).status, 200, 'a read is not held up');
  r.hold(undefined);
  release();
  const csr = await csrAsked;
  assert.equal(csr.status, 200, csr.text);
  assert.equal(csr.body['newKey'], true);
  assert.doesNotMatch(csr.text, /PRIVATE KEY/, 'no key in the answer');
  assert.equal(statSync(join(tpDir, 'key.pending.pem')).mode & 0o777, 0o600, 'the new key waits readable by its owner only');
  writeFileSync(join(root, 'gw.csr'), String(csr.body['csr']));
  const verified = await run('openssl', ['req', '-in', join(root, 'gw.csr'), '-noout', '-verify', '-text']);
  assert.match(verified.stdout + verified.stderr, /verify OK/i);
  assert.match(verified.stdout, /DNS:gw\.example\.com, URI:sip:gw\.example\.com/);

  // 4. The remote CA signs it (openssl): once for 30 days, once with dates that ended yesterday.
  await run('openssl', ['x509', '-req', '-in', join(root, 'gw.csr'), '-CA', remote.certPath, '-CAkey', remote.keyPath, '-CAcreateserial',
    '-out', join(root, 'gw.crt'), '-days', '30', '-copy_extensions', 'copy']);
  const signed = readFileSync(join(root, 'gw.crt'), 'utf8');
  const day = 86_400_000;
  const expired = await signWithDates(remote, join(root, 'gw.csr'), join(root, 'old.crt'), new Date(Date.now() - 30 * day), new Date(Date.now() - day));
  const stranger = await remote.issue({ cn: 'someone.else', sans: ['DNS:someone.else'] });

  // 5. Refusals: each a 4xx with its code and a reason, the trustpoint's files untouched.
  const before = snapshot(tpDir);
  const wrongKey = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: stranger.cert, chain: remote.cert });
  assert.equal(wrongKey.status, 422, wrongKey.text);
  assert.equal(wrongKey.body.code, 'ERR_PKI_KEY_MISMATCH');
  assert.match(wrongKey.body.message ?? '', /^the certificate was not issued for .*key\.pending\.pem \(the new key of pki csr\) or the key of trustpoint gw \(.*key\.pem\)$/);
  const old = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: expired, chain: remote.cert });
  assert.equal(old.status, 422, old.text);
  assert.equal(old.body.code, 'ERR_PKI_CERT_EXPIRED');
  assert.match(old.body.message ?? '', /^the certificate for trustpoint gw: .*CN=gw\.example\.com.* expired/);
  const unknown = await r.call('POST', '/pki/import', { trustpoint: 'nope', certificate: signed });
  assert.deepEqual([unknown.status, unknown.body.code], [404, 'ERR_ADMIN_REQUEST']);
  assert.match(unknown.body.message ?? '', /no trustpoint nope in the configuration \(known: gw\)/);
  assert.equal((await r.call('POST', '/pki/import', { trustpoint: 'constructor', certificate: signed })).status, 404, 'only the configuration\'s own names');
  const pathName = await r.call('POST', '/pki/import', { trustpoint: '../trust', certificate: signed });
  assert.deepEqual([pathName.status, pathName.body.code], [400, 'ERR_ADMIN_REQUEST']);
  const garbage = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' });
  assert.deepEqual([garbage.status, garbage.body.code], [400, 'ERR_PKI_CERT_INVALID'], garbage.text);
  const noChain = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: signed, chain: 'not a PEM' });
  assert.deepEqual([noChain.status, noChain.body.code, noChain.body.message], [400, 'ERR_PKI_CERT_INVALID', 'the chain: no certificate in it']);
  const anon = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: signed, chain: remote.cert }, { token: null });
  assert.deepEqual([anon.status, anon.body.code], [401, 'ERR_ADMIN_UNAUTHORIZED']);
  const wrongToken = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: signed, chain: remote.cert }, { token: 'guess' });
  assert.equal(wrongToken.status, 401);
  const huge = await r.call('POST', '/pki/import', undefined, { raw: JSON.stringify({ trustpoint: 'gw', certificate: signed + 'A'.repeat(300 * 1024) }) });
  assert.deepEqual([huge.status, huge.body.code], [413, 'ERR_ADMIN_BODY_TOO_LARGE'], huge.text);
  const notCa = await r.call('POST', '/pki/trust', { store: 'remote', certificate: stranger.cert });
  assert.deepEqual([notCa.status, notCa.body.code], [422, 'ERR_PKI_NOT_CA']);
  const fileStore = await r.call('POST', '/pki/trust', { store: 'bundle', certificate: remote.cert });
  assert.deepEqual([fileStore.status, fileStore.body.code], [409, 'ERR_ADMIN_REQUEST']);
  assert.match(fileStore.body.message ?? '', /trust store bundle is a file or a list of files/);
  assert.deepEqual(snapshot(tpDir), before, 'nothing written by a refused request');
  assert.equal(await presented(r.tlsPort), first, 'the first certificate still serves');

  // 6. The certificate the remote CA signed, with its chain: installed, the waiting key became the trustpoint's.
  const signedFp = new X509Certificate(signed).fingerprint256;
  const imported = await r.call('POST', '/pki/import', { trustpoint: 'gw', certificate: signed, chain: remote.cert });
  assert.equal(imported.status, 200, imported.text);
  assert.deepEqual([imported.body['sha256'], imported.body['chainLength'], imported.body['key']], [signedFp, 1, 'new']);
  assert.equal(existsSync(join(tpDir, 'key.pending.pem')), false, 'the pending key became the trustpoint key');
  assert.equal(statSync(join(tpDir, 'key.pem')).mode & 0o777, 0o600);
  assert.equal(new X509Certificate(readFileSync(join(tpDir, 'cert.pem'))).fingerprint256, signedFp);

  // 7. The running gateway's watch picks the files up: a new handshake presents the imported certificate, and a
  // client that trusts only the remote CA gets through by the name it was issued for.
  await until('a handshake presenting the imported certificate', async () => ((await presented(r.tlsPort)) === signedFp ? true : undefined));
  assert.deepEqual(await pingVerdict(r.tlsPort, { ca: remote.cert, servername: 'gw.example.com' }), { verdict: 'accepted' });
  assert.ok((await certsOf()).some((c) => c.where === 'trustpoint gw' && c.role === 'leaf' && c.sha256 === signedFp), 'GET /certificates lists the new leaf');

  // 8. A look at PEM text: every certificate of it, as pki inspect --json shows them.
  const looked = await r.call('POST', '/pki/inspect', { pem: signed + remote.cert });
  assert.equal(looked.status, 200, looked.text);
  const rows = looked.body['certificates'] as { role: string; subject: string; issuer: string; san: string[]; sha256: string; daysLeft: number }[];
  assert.deepEqual(rows.map((x) => [x.role, x.sha256]), [['leaf', signedFp], ['chain', remoteFp]]);
  assert.match(rows[0]!.subject, /CN=gw\.example\.com/);
  assert.match(rows[0]!.issuer, /Remote system CA/);
  assert.deepEqual(rows[0]!.san, ['dns:gw.example.com', 'sip:gw.example.com']);
  assert.ok(rows[0]!.daysLeft >= 28 && rows[0]!.daysLeft <= 30, String(rows[0]!.daysLeft));
  assert.deepEqual([(await r.call('POST', '/pki/inspect', { pem: 'nothing here' })).status], [400]);

  // 9. Stop trusting the remote CA, by its fingerprint; a second time finds nothing.
  const removed = await r.call('DELETE', `/pki/trust/remote/${remoteFp}`);
  assert.equal(removed.status, 200, removed.text);
  assert.equal((removed.body['removed'] as string[]).length, 1);
  assert.deepEqual(readdirSync(trustDir), []);
  const again = await r.call('DELETE', `/pki/trust/remote/${remoteFp.replace(/:/g, '').slice(0, 16)}`);
  assert.deepEqual([again.status, again.body.code], [404, 'ERR_ADMIN_REQUEST']);
  assert.equal((await r.call('DELETE', '/pki/trust/remote/..%2F..')).status, 400);

  // The OpenAPI description lists the routes.
  const api = (await r.call('GET', '/openapi.json')).body as unknown as { paths: Record<string, Record<string, unknown>> };
  for (const [p, m] of [['/pki/ca', 'get'], ['/pki/csr', 'post'], ['/pki/import', 'post'], ['/pki/trust', 'post'], ['/pki/trust/{store}/{sha256}', 'delete'], ['/pki/inspect', 'post']] as const) {
    assert.ok(api.paths[p]?.[m], `${m.toUpperCase()} ${p} in the OpenAPI description`);
  }

  // Every task is in the log; no key ever is.
  const text = r.logs.join('\n');
  assert.match(text, /admin: pki import: trustpoint gw now holds .*gw\.example\.com/);
  assert.match(text, /admin: pki import refused: .*ERR_PKI_KEY_MISMATCH|"code":"ERR_PKI_KEY_MISMATCH"/);
  assert.doesNotMatch(text, /PRIVATE KEY/);
});
