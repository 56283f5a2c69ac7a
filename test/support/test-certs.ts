/**
 * Test certificates made at test time with the `openssl` CLI (an oracle independent of our own PKI code).
 *
 *   const ca = await createTestCa({ keyType: 'ec' });
 *   t.after(() => ca.cleanup());
 *   const server = await ca.issue({ cn: 'gw.test', sans: ['DNS:gw.test', 'IP:127.0.0.1'] });
 *   const old = await ca.issue({ cn: 'old.test', validity: 'expired' });
 *   tls.createServer({ key: server.key, cert: server.cert, ca: ca.cert });
 *
 * Every CA lives in its own temporary directory, removed by `cleanup()`.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type TestKeyType = 'rsa' | 'ec';

export interface TestCertOptions {
  /** Subject common name. */
  cn: string;
  /** subjectAltName entries in OpenSSL form: 'DNS:host', 'IP:127.0.0.1', 'URI:sip:host'. None: no SAN extension. */
  sans?: string[];
  /** RSA 2048 or EC P-256 (default 'ec'). */
  keyType?: TestKeyType;
  /** 'valid' (default: from a day ago for 30 days), 'expired' (ended yesterday) or 'not-yet-valid' (starts tomorrow). */
  validity?: 'valid' | 'expired' | 'not-yet-valid';
  /** More extension lines in openssl's x509v3 form, e.g. 'authorityInfoAccess=OCSP;URI:http://ocsp.test/'. */
  extensions?: string[];
}

export interface TestCert {
  /** PEM certificate and PEM private key (unencrypted). */
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface TestCa extends TestCert {
  /** The temporary directory holding every file of this CA. */
  dir: string;
  /** Issues a leaf certificate signed by this CA (usable for both server and client authentication). */
  issue(options: TestCertOptions): Promise<TestCert>;
  /** Marks a certificate this CA issued as revoked in its database (index.txt), as `openssl ca -revoke` does. */
  revoke(cert: TestCert, reason?: string): Promise<void>;
  /** Removes the directory. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * The openssl CLI is a required test peer: a test file that needs it fails at load, naming the package, when it
 * cannot be run. It is never a skip (scripts/ensure-peers.sh installs it).
 */
export async function requireOpenssl(): Promise<true> {
  try {
    await run('openssl', ['version']);
    return true;
  } catch (e) {
    throw new Error(`openssl is not installed, and the TLS tests need it: apt-get install -y openssl (scripts/ensure-peers.sh does this as root): ${String(e)}`);
  }
}

function keyArgs(type: TestKeyType): string[] {
  return type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

/** The time form of the CA database (index.txt), UTCTime: YYMMDDHHMMSSZ. */
function dbTime(ms: number): string {
  return stamp(ms).slice(2);
}

/** OpenSSL's GeneralizedTime form, YYYYMMDDHHMMSSZ. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

const DAY = 86_400_000;

/** Creates a self-signed CA in a fresh temporary directory. */
export async function createTestCa(options: { cn?: string; keyType?: TestKeyType } = {}): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'trunkgate-certs-'));
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  await run('openssl', [
    'req', '-x509', ...keyArgs(options.keyType ?? 'ec'), '-nodes', '-keyout', keyPath, '-out', certPath,
    '-subj', `/CN=${options.cn ?? 'trunkgate test CA'}`, '-days', '60',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '1000\n');
  await writeFile(
    join(dir, 'ca.cnf'),
    [
      '[ca]', 'default_ca = c', '[c]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${dir}`,
      `serial = ${join(dir, 'serial')}`, 'default_md = sha256', 'policy = p', 'unique_subject = no',
      'copy_extensions = none', '[p]', 'commonName = supplied', '',
    ].join('\n'),
  );
  let seq = 0;
  let removed = false;
  const ca: TestCa = {
    dir,
    certPath,
    keyPath,
    cert: await readFile(certPath, 'utf8'),
    key: await readFile(keyPath, 'utf8'),
    async issue(o: TestCertOptions): Promise<TestCert> {
      const n = ++seq;
      const leafKey = join(dir, `leaf${n}.key`);
      const leafCsr = join(dir, `leaf${n}.csr`);
      const leafCert = join(dir, `leaf${n}.pem`);
      const ext = join(dir, `leaf${n}.ext`);
      const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'];
      if (o.sans && o.sans.length > 0) lines.push(`subjectAltName=${o.sans.join(',')}`);
      lines.push(...(o.extensions ?? []));
      if (o.validity === undefined || o.validity === 'valid') {
        // One openssl process makes the key and signs the certificate (req -CA), valid from now for 30 days; its
        // line in the CA's database is written here as `openssl ca` writes it, so OCSP and revocation find it.
        const serial = (0x100000 + n).toString(16).toUpperCase();
        await writeFile(ext, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', ...lines, ''].join('\n'));
        await run('openssl', [
          'req', '-x509', ...keyArgs(o.keyType ?? 'ec'), '-nodes', '-keyout', leafKey, '-out', leafCert, '-subj', `/CN=${o.cn}`,
          '-days', '30', '-CA', certPath, '-CAkey', keyPath, '-set_serial', `0x${serial}`, '-config', ext, '-extensions', 'ext',
        ]);
        const cert = await readFile(leafCert, 'utf8');
        const notAfter = new X509Certificate(cert).validTo;
        await appendFile(join(dir, 'index.txt'), `V\t${dbTime(Date.parse(notAfter))}\t\t${serial}\tunknown\t/CN=${o.cn}\n`);
        return { cert, key: await readFile(leafKey, 'utf8'), certPath: leafCert, keyPath: leafKey };
      }
      await run('openssl', ['req', '-new', ...keyArgs(o.keyType ?? 'ec'), '-nodes', '-keyout', leafKey, '-out', leafCsr, '-subj', `/CN=${o.cn}`]);
      await writeFile(ext, lines.join('\n') + '\n');
      const now = Date.now();
      const [from, to] = o.validity === 'expired' ? [now - 30 * DAY, now - DAY] : [now + DAY, now + 30 * DAY];
      await run('openssl', [
        'ca', '-batch', '-config', join(dir, 'ca.cnf'), '-cert', certPath, '-keyfile', keyPath, '-in', leafCsr, '-out', leafCert,
        '-startdate', stamp(from), '-enddate', stamp(to), '-extfile', ext, '-notext',
      ]);
      return { cert: await readFile(leafCert, 'utf8'), key: await readFile(leafKey, 'utf8'), certPath: leafCert, keyPath: leafKey };
    },
    async revoke(cert: TestCert, reason = 'unspecified'): Promise<void> {
      await run('openssl', ['ca', '-config', join(dir, 'ca.cnf'), '-cert', certPath, '-keyfile', keyPath, '-revoke', cert.certPath, '-crl_reason', reason]);
    },
    async cleanup(): Promise<void> {
      if (removed) return;
      removed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
  return ca;
}

/**
 * Writes a trustpoint folder as the gateway's profiles name it (`trustpoints.<name>.dir`): `cert.pem`, `key.pem`
 * (mode 0600) and `chain.pem` (the issuing CA) in `dir`, created with its parents.
 */
export function writeTrustpointDir(dir: string, cert: TestCert, chainPem: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cert.pem'), cert.cert);
  writeFileSync(join(dir, 'key.pem'), cert.key, { mode: 0o600 });
  writeFileSync(join(dir, 'chain.pem'), chainPem);
}
