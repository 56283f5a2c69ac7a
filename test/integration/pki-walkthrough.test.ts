// The sipXecs certificate walk-through with trunkgate's own commands and no openssl on our side: create our CA and
// export it, trust the remote system's CA, make a CSR, import what the remote CA signed (openssl plays that CA),
// list everything, then serve TLS with the imported certificate to a client that trusts only the remote CA.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pkiCommand } from '../../src/cli/pki.js';
import { randomSecret, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { inspectCertificate } from '../../src/pki/index.js';
import { planStartup } from '../../src/startup.js';
import { createTestCa, requireOpenssl } from '../support/test-certs.js';
import { pingVerdict } from './engine-tls-support.js';

/** The start's warm-up calls are off here: they would add a second or two to a start this test does not time. */
const NO_PREWARM = { prewarmCalls: 0 } as const;

await requireOpenssl();
const run = promisify(execFile);

function pki(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = pkiCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('sipXecs walk-through: CA, export, trust the remote CA, CSR, import the signed certificate, list, serve', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-pki-walk-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const remote = await createTestCa({ cn: 'Remote system CA' });
  t.after(() => remote.cleanup());
  const profiles = join(root, 'profiles');
  mkdirSync(profiles);
  const tpDir = join(root, 'pki', 'trustpoints', 'gw');
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
  remote: ${join(root, 'pki', 'trust')}
tlsProfiles:
  edge: { trustpoint: gw, trustStore: remote }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  remote: { transport: tls, tlsProfile: edge }
`);
  const P = ['--profiles', profiles];

  // 1. Our CA, and its certificate for the remote system to import.
  assert.equal(pki(['ca', 'create', '--pki', join(root, 'pki'), '--name', 'trunkgate CA test']).code, 0);
  assert.equal(statSync(join(root, 'pki', 'ca', 'ca.key')).mode & 0o777, 0o600);
  const exported = pki(['ca', 'export', '--pki', join(root, 'pki'), '--out', join(root, 'our-ca.pem')]);
  assert.equal(exported.code, 0, exported.err);
  const ours = inspectCertificate(readFileSync(join(root, 'our-ca.pem')));
  assert.equal(ours.isCA, true);
  assert.match(ours.subject, /trunkgate CA test/);
  assert.equal(pki(['ca', 'export', '--pki', join(root, 'pki'), '--out', join(root, 'our-ca.der'), '--der']).code, 0);
  assert.equal(readFileSync(join(root, 'our-ca.der'))[0], 0x30, 'DER starts with a SEQUENCE');

  // 2. Trust the remote system's CA.
  const added = pki(['trust', 'add', 'remote', remote.certPath, ...P]);
  assert.equal(added.code, 0, added.err);
  assert.match(added.out, /trust store remote: added .*Remote system CA/);

  // 3. A CSR for our trustpoint; the new key waits beside it, readable only by its owner.
  const csr = pki(['csr', 'gw', '--subject', 'CN=gw.example.com,O=Example', '--san', 'DNS:gw.example.com,URI:sip:gw.example.com', '--out', join(root, 'gw.csr'), ...P]);
  assert.equal(csr.code, 0, csr.err);
  assert.equal(statSync(join(tpDir, 'key.pending.pem')).mode & 0o777, 0o600);
  const verified = await run('openssl', ['req', '-in', join(root, 'gw.csr'), '-noout', '-verify', '-text']);
  assert.match(verified.stdout + verified.stderr, /verify OK|Certificate request self-signature verify OK/i);
  assert.match(verified.stdout, /DNS:gw\.example\.com, URI:sip:gw\.example\.com/);

  // 4. The remote CA signs it (openssl plays the remote CA); we import it with its chain.
  await run('openssl', ['x509', '-req', '-in', join(root, 'gw.csr'), '-CA', remote.certPath, '-CAkey', remote.keyPath, '-CAcreateserial',
    '-out', join(root, 'gw.crt'), '-days', '30', '-copy_extensions', 'copy']);
  const imported = pki(['import', 'gw', join(root, 'gw.crt'), remote.certPath, ...P]);
  assert.equal(imported.code, 0, imported.err);
  assert.match(imported.out, /trustpoint gw: installed .*gw\.example\.com/);
  assert.equal(existsSync(join(tpDir, 'key.pending.pem')), false, 'the pending key became the trustpoint key');
  assert.equal(statSync(join(tpDir, 'key.pem')).mode & 0o777, 0o600);

  // 5. The list shows the trustpoint's leaf and chain and the trust store's CA, each with days left.
  const listed = pki(['list', '--json', ...P]);
  assert.equal(listed.code, 0, listed.err);
  const rows = (JSON.parse(listed.out) as { rows: { where: string; role: string; subject: string; issuer: string; daysLeft: number }[] }).rows;
  const leaf = rows.find((r) => r.where === 'trustpoint gw' && r.role === 'leaf')!;
  assert.match(leaf.subject, /CN=gw\.example\.com/);
  assert.match(leaf.issuer, /Remote system CA/);
  assert.ok(leaf.daysLeft >= 28 && leaf.daysLeft <= 30, String(leaf.daysLeft));
  assert.ok(rows.some((r) => r.where === 'trust store remote' && r.role === 'ca' && /Remote system CA/.test(r.subject)));
  assert.match(pki(['list', ...P]).out, /trustpoint gw \(leaf\): .*CN=gw\.example\.com[\s\S]*days left/);

  // 6. The gateway serves the imported certificate: a client that trusts only the remote CA gets through.
  const plan = planStartup(profiles, {}, silentLogger());
  const gw = await startGateway({ ...plan.options, ...NO_PREWARM, control: { ...plan.options.control, secret: randomSecret() }, logLevel: 'silent' });
  t.after(() => gw.close());
  const port = gw.addresses.sip.find((l) => l.protocol === 'tls')!.port;
  assert.deepEqual(await pingVerdict(port, { ca: remote.cert, servername: 'gw.example.com' }), { verdict: 'accepted' });
});

test('pki refuses with a reason: a certificate for another key, an unknown trustpoint, a CA that is not there, a bad flag', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tg-pki-no-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const remote = await createTestCa({ cn: 'Remote CA 2' });
  t.after(() => remote.cleanup());
  const stranger = await remote.issue({ cn: 'someone.else', sans: ['DNS:someone.else'] });
  mkdirSync(join(root, 'profiles'));
  writeFileSync(join(root, 'profiles', 'gateway.yaml'), `
trustpoints:
  gw: { dir: ${join(root, 'tp')} }
trustStores:
  bundle: ${remote.certPath}
  folder: ${join(root, 'trust')}
`);
  const P = ['--profiles', join(root, 'profiles')];
  assert.equal(pki(['csr', 'gw', '--subject', 'CN=gw.test', ...P]).code, 0);
  const wrong = pki(['import', 'gw', stranger.certPath, remote.certPath, ...P]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /was not issued for .*key\.pending\.pem.*\[ERR_PKI_KEY_MISMATCH\]/);
  // Signed by a CA in none of our trust stores: accepted when its root comes along as the chain, refused without it.
  const other = await createTestCa({ cn: 'Issuing CA elsewhere' });
  t.after(() => other.cleanup());
  assert.equal(pki(['csr', 'gw', '--subject', 'CN=gw.test', '--out', join(root, 'gw.csr'), ...P]).code, 0);
  await run('openssl', ['x509', '-req', '-in', join(root, 'gw.csr'), '-CA', other.certPath, '-CAkey', other.keyPath, '-CAcreateserial',
    '-out', join(root, 'gw.crt'), '-days', '30']);
  const noRoot = pki(['import', 'gw', join(root, 'gw.crt'), ...P]);
  assert.equal(noRoot.code, 1, 'no root sent, and the issuer is in no trust store');
  assert.match(noRoot.err, /\[ERR_PKI_CHAIN_INCOMPLETE\]/);
  const withRoot = pki(['import', 'gw', join(root, 'gw.crt'), other.certPath, ...P]);
  assert.equal(withRoot.code, 0, withRoot.err);
  assert.match(withRoot.out, /trustpoint gw: installed .*CN=gw\.test/);
  assert.match(pki(['csr', 'nope', '--subject', 'CN=x', ...P]).err, /no trustpoint nope in the configuration \(known: gw\)/);
  assert.match(pki(['csr', 'gw', '--subject', 'O=only', ...P]).err, /--subject needs a CN/);
  assert.match(pki(['csr', 'gw', '--subject', 'CN=x', '--key', 'dsa:1024', ...P]).err, /--key dsa:1024: one of ec:p256/);
  assert.match(pki(['trust', 'add', 'bundle', remote.certPath, ...P]).err, /trust store bundle is a file or a list of files/);
  assert.match(pki(['ca', 'export', '--pki', join(root, 'none')]).err, /no CA at .*ca\.crt/);
  const bad = pki(['list', '--bogus']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--bogus'[\s\S]*Usage:/);
  assert.equal(pki(['frobnicate']).code, 2);
  // trust add then remove by fingerprint start
  const added = pki(['trust', 'add', 'folder', remote.certPath, ...P]);
  assert.equal(added.code, 0, added.err);
  const fp = /SHA-256 ([0-9A-F:]+)/.exec(added.out)![1]!;
  assert.match(pki(['trust', 'remove', 'folder', fp.slice(0, 11), ...P]).out, /trust store folder: removed \w+\.pem/);
  assert.match(pki(['trust', 'remove', 'folder', fp.slice(0, 11), ...P]).err, /no CA matches/);
});
