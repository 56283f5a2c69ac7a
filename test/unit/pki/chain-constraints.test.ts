// An issuer's pathLenConstraint and keyUsage bind the chain (src/pki/verify-chain.ts): a root with pathlen 0 above an
// intermediate CA, or an intermediate whose keyUsage lacks keyCertSign, is refused by verifyCertificateChain, by the
// import of a signed certificate and by a TLS profile's trustpoint check, as `openssl verify` refuses them; openssl
// makes the chains and gives the verdict, so the rule is a peer's, not ours. A valid three-level chain still passes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importSignedCertificate, verifyCertificateChain } from '../../../src/pki/index.js';
import { buildTlsProfile } from '../../../src/tls/index.js';
import { requireOpenssl } from '../../support/test-certs.js';

await requireOpenssl();
const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

interface Chain {
  dir: string;
  root: string;
  inter: string;
  leaf: string;
  leafKey: string;
}

/** root → intermediate → leaf, each CA's extensions as given, written by openssl into a temporary folder. */
async function chain(t: TestContext, rootExt: string, interExt: string): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-chain-constraints-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = (n: string): string => join(dir, n);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', f('root.key'), '-out', f('root.pem'), '-subj', '/CN=Constraint Root', '-days', '30',
    '-addext', `basicConstraints=critical,${rootExt}`, '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const sign = async (name: string, cn: string, ext: string, ca: string): Promise<void> => {
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    await run('openssl', ['req', '-new', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
    await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-set_serial', String(Date.now() % 1e9),
      '-days', '20', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
  };
  await sign('inter', 'Constraint Issuing CA', interExt, 'root');
  await sign('leaf', 'gw.example.com', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:gw.example.com', 'inter');
  const read = (n: string): string => readFileSync(f(n), 'utf8');
  return { dir, root: read('root.pem'), inter: read('inter.pem'), leaf: read('leaf.pem'), leafKey: read('leaf.key') };
}

/** `openssl verify`'s verdict: undefined when it accepts, else its error line. */
async function opensslVerdict(c: Chain): Promise<string | undefined> {
  try {
    await run('openssl', ['verify', '-CAfile', join(c.dir, 'root.pem'), '-untrusted', join(c.dir, 'inter.pem'), join(c.dir, 'leaf.pem')]);
    return undefined;
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '') + String((e as { stderr?: string }).stderr ?? '');
  }
}

/** What each of the three callers says of the chain: 'ok', or the code and message they refused it with. */
function gatewayVerdicts(c: Chain): { verify: string; importSigned: string; profile: string } {
  const v = verifyCertificateChain({ certPem: c.leaf, chainPems: [c.inter], trustedPems: [c.root] });
  let importSigned = 'ok';
  try {
    importSignedCertificate({ privateKeyPem: c.leafKey, certPem: c.leaf, chainPems: [c.inter], trustedPems: [c.root] });
  } catch (e) {
    importSigned = `${(e as { code?: string }).code} ${(e as Error).message}`;
  }
  let profile = 'ok';
  try {
    buildTlsProfile({ name: 'edge' }, { trustpoint: { certPem: c.leaf, keyPem: c.leafKey, chainPems: [c.inter] }, trustedCaPems: [c.root] });
  } catch (e) {
    const d = (e as { details?: { code?: string } }).details;
    profile = `${d?.code} ${(e as Error).message}`;
  }
  return { verify: v.ok ? 'ok' : `${v.code} ${v.reason}`, importSigned, profile };
}

test('a root with pathLenConstraint 0 above an intermediate CA: openssl and the gateway refuse the chain', async (t) => {
  const c = await chain(t, 'CA:TRUE,pathlen:0', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign');
  assert.match(await opensslVerdict(c) ?? 'accepted', /path length constraint exceeded/);
  const v = gatewayVerdicts(c);
  for (const [who, said] of Object.entries(v)) {
    assert.match(said, /^ERR_PKI_NOT_CA .*path length constraint exceeded: CN=Constraint Root allows 0 CA certificates below it/, `${who}: ${said}`);
  }
});

test('an intermediate CA whose keyUsage lacks keyCertSign: openssl and the gateway refuse the chain', async (t) => {
  const c = await chain(t, 'CA:TRUE', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign');
  assert.notEqual(await opensslVerdict(c), undefined, 'openssl refuses it');
  const v = gatewayVerdicts(c);
  for (const [who, said] of Object.entries(v)) {
    assert.match(said, /^ERR_PKI_NOT_CA .*CN=Constraint Issuing CA may not sign certificates: its keyUsage does not include keyCertSign/, `${who}: ${said}`);
  }
});

test('a valid three-level chain (the intermediate\'s own pathlen 0 leaves room for the leaf) is accepted by both', async (t) => {
  const c = await chain(t, 'CA:TRUE,pathlen:1', 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign');
  assert.equal(await opensslVerdict(c), undefined);
  assert.deepEqual(gatewayVerdicts(c), { verify: 'ok', importSigned: 'ok', profile: 'ok' });
});
