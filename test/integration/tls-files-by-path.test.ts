// Trustpoints and trust stores by file path, as a CA organisation hands them over (the Sangoma IMG's
// privateKey.pem, publickey.pem and CAList.pem): the gateway built as `npm start` builds it loads and serves them;
// a certificate that is not its key's, or a file that is not there, stops the start naming the files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { randomSecret, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log/index.js';
import { createLocalCa, issueGatewayCertificate, type LocalCa } from '../../src/pki/index.js';
import { planStartup } from '../../src/startup.js';
import { pingVerdict } from './engine-tls-support.js';

/** The start's warm-up calls are off here: they would add a second or two to a start this test does not time. */
const NO_PREWARM = { prewarmCalls: 0 } as const;

const ours = createLocalCa({ commonName: 'IMG org CA' });
const partner = createLocalCa({ commonName: 'partner CA' });
const gw = issueGatewayCertificate(ours, { domain: 'gw.test' });
const other = issueGatewayCertificate(ours, { domain: 'other.test' });
const client = issueGatewayCertificate(partner, { domain: 'pbx.partner.test' });

function files(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'tg-files-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'privateKey.pem'), gw.keyPem, { mode: 0o600 });
  writeFileSync(join(root, 'publickey.pem'), gw.certPem);
  writeFileSync(join(root, 'otherKey.pem'), other.keyPem, { mode: 0o600 });
  writeFileSync(join(root, 'CAList.pem'), ours.certPem + partner.certPem);
  writeFileSync(join(root, 'issuer.pem'), ours.certPem);
  mkdirSync(join(root, 'cas'));
  writeFileSync(join(root, 'cas', 'partner.crt'), partner.certPem);
  writeFileSync(join(root, 'cas', 'ignored.txt'), 'not a certificate');
  mkdirSync(join(root, 'profiles'));
  return root;
}

function profiles(root: string, trustpoint: string, trustStore: string): string {
  const dir = join(root, 'profiles');
  writeFileSync(join(dir, 'gateway.yaml'), `
gateway:
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: img }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
trustpoints:
  img: ${trustpoint}
trustStores:
  org: ${trustStore}
tlsProfiles:
  img: { trustpoint: img, trustStore: org, requireClientCert: true, cnSanValidate: none }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
  partner: { transport: tls, tlsProfile: img }
`);
  return dir;
}

async function serve(t: TestContext, dir: string): Promise<number> {
  const plan = planStartup(dir, {}, silentLogger());
  const g = await startGateway({ ...plan.options, ...NO_PREWARM, control: { ...plan.options.control, secret: randomSecret() }, logLevel: 'silent' });
  t.after(() => g.close());
  return g.addresses.sip.find((l) => l.protocol === 'tls')!.port;
}

const asClient = (ca: LocalCa) => ({ ca: ca.certPem, servername: 'gw.test', key: client.keyPem, cert: client.certPem + partner.certPem });

test('an IMG-style trustpoint (publickey.pem, privateKey.pem) with CAList.pem as the trust store loads and serves mutual TLS', async (t) => {
  const root = files(t);
  const port = await serve(t, profiles(root,
    `{ certificate: ${join(root, 'publickey.pem')}, key: ${join(root, 'privateKey.pem')}, chain: ${join(root, 'CAList.pem')} }`,
    join(root, 'CAList.pem')));
  assert.deepEqual(await pingVerdict(port, asClient(ours)), { verdict: 'accepted' });
  const noCert = await pingVerdict(port, { ca: ours.certPem, servername: 'gw.test' });
  assert.equal(noCert.verdict, 'refused', 'mutual TLS still asks for a certificate');
});

test('a trust store may be a folder of *.pem and *.crt files, or a list of files', async (t) => {
  const root = files(t);
  const tp = `{ certificate: ${join(root, 'publickey.pem')}, key: ${join(root, 'privateKey.pem')}, chain: [${join(root, 'issuer.pem')}] }`;
  const port = await serve(t, profiles(root, tp, join(root, 'cas')));
  assert.deepEqual(await pingVerdict(port, asClient(ours)), { verdict: 'accepted' });
  const root2 = files(t);
  const port2 = await serve(t, profiles(root2, tp.replaceAll(root, root2), `[${join(root2, 'cas', 'partner.crt')}]`));
  assert.deepEqual(await pingVerdict(port2, asClient(ours)), { verdict: 'accepted' });
});

test('a certificate that is not its key\'s stops the start naming both files; so does a missing file', async (t) => {
  const root = files(t);
  const mismatch = profiles(root, `{ certificate: ${join(root, 'publickey.pem')}, key: ${join(root, 'otherKey.pem')} }`, join(root, 'CAList.pem'));
  await assert.rejects(serve(t, mismatch), (e: Error) => {
    assert.match(e.message, /trustpoint img \(certificate \S*publickey\.pem, key \S*otherKey\.pem\): key does not match the certificate/);
    return true;
  });
  const missing = profiles(root, `{ certificate: ${join(root, 'nothere.pem')}, key: ${join(root, 'privateKey.pem')} }`, join(root, 'CAList.pem'));
  assert.throws(() => planStartup(missing, {}, silentLogger()), /trustpoint img: \S*nothere\.pem does not exist/);
  const noStore = profiles(root, `{ certificate: ${join(root, 'publickey.pem')}, key: ${join(root, 'privateKey.pem')} }`, join(root, 'none'));
  assert.throws(() => planStartup(noStore, {}, silentLogger()), /trust store org: \S*none does not exist/);
});
