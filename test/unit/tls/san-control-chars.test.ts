// A certificate's subjectAltName with control characters (src/pki/inspect-certificate.ts): Node's text quotes and
// escapes them, and unquoting it brought them back, so `pki list`, `pki inspect HOST:PORT` and `tls probe` printed a
// far end's ESC sequences and CR LF raw. Every line is free of control characters now, and such an entry is no
// identity: `DNS:gw.example.com<LF>` no longer passes for gw.example.com (the name's trim had made it equal).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { inspectPem } from '../../../src/certificate-ops/index.js';
import { pkiCommandLine } from '../../../src/cli/pki.js';
import { formatRows } from '../../../src/cli/pki-list.js';
import { formatProbe } from '../../../src/cli/tls-probe.js';
import { generateKeyPair, inspectCertificate, issueCertificate } from '../../../src/pki/index.js';
import { checkClientIdentity, createCheckServerIdentity, peerIdentities, probeTls } from '../../../src/tls/index.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

const key = generateKeyPair();
/** Self-signed, with a CN the name checks would fall back on if the SAN were dropped whole. */
const pem = issueCertificate({
  subject: { commonName: 'gw.example.com' }, subjectKeyPem: key.publicKeyPem, issuerKeyPem: key.privateKeyPem,
  san: [
    { type: 'dns', value: 'ok.example\u001b]0;PWNED\u0007\u001b[2J' },
    { type: 'uri', value: 'sip:a\r\nFAKE LINE: trusted' },
    { type: 'dns', value: 'gw.example.com\n' },
    { type: 'uri', value: 'sip:gw.example.com\u0000.evil.example' },
    { type: 'dns', value: 'plain.example' },
  ],
});

async function server(t: TestContext): Promise<number> {
  const srv = tls.createServer({ key: key.privateKeyPem, cert: pem }, (s) => {
    s.on('error', () => undefined);
    s.end();
  });
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  return (srv.address() as { port: number }).port;
}

function noControls(lines: string[], what: string): void {
  assert.ok(lines.length > 0, `${what}: some output`);
  for (const l of lines) assert.doesNotMatch(l, CONTROL, `${what}: ${JSON.stringify(l)}`);
}

test('pki list / pki inspect FILE: the SAN line shows each control character as ?', () => {
  const info = inspectCertificate(pem);
  for (const s of info.san) assert.doesNotMatch(s, CONTROL, JSON.stringify(s));
  assert.ok(info.san.includes('dns:ok.example?]0;pwned??[2j'), JSON.stringify(info.san));
  const lines = formatRows(inspectPem(pem, 'cert.pem', new Date()));
  noControls(lines, 'formatRows');
  assert.ok(lines.some((l) => l.includes('sip:a??FAKE LINE: trusted')), JSON.stringify(lines));
});

test('pki inspect HOST:PORT and tls probe of a server sending that certificate print no control character', async (t) => {
  const port = await server(t);
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(...l.split('\n')), err: (l: string) => lines.push(...l.split('\n')), env: {} };
  await pkiCommandLine(['inspect', `127.0.0.1:${port}`], io);
  noControls(lines, 'pki inspect');
  assert.ok(lines.some((l) => /SAN .*plain\.example/.test(l)), JSON.stringify(lines));

  const report = await probeTls({ host: '127.0.0.1', port });
  const probe = formatProbe(report);
  noControls(probe, 'tls probe');
  const ids = probe.find((l) => l.startsWith('identities: '));
  assert.equal(ids, 'identities: dns:plain.example', 'only the clean entry is an identity');
});

test('an entry with control characters never matches a name, on either side of a connection', () => {
  const x509 = new X509Certificate(pem);
  assert.deepEqual(peerIdentities(x509), ['dns:plain.example']);
  // As Node hands a peer's certificate to checkServerIdentity and to a listener.
  const peer = { subject: { CN: 'gw.example.com' }, subjectaltname: x509.subjectAltName } as unknown as tls.PeerCertificate;
  for (const domain of ['gw.example.com', 'ok.example', 'a']) {
    const e = createCheckServerIdentity({ domain })('ignored', peer);
    assert.equal((e as { code?: string } | undefined)?.code, 'ERR_TLS_NAME_MISMATCH', `server identity ${domain}`);
    const c = checkClientIdentity(x509, [domain]);
    assert.equal(c.ok, false, `client identity ${domain}: ${JSON.stringify(c)}`);
  }
  assert.equal(createCheckServerIdentity({ domain: 'plain.example' })('ignored', peer), undefined, 'the clean entry still matches');
  // A SAN-less certificate whose CN (as the legacy object carries it, unescaped) has a control character: no identity.
  assert.deepEqual(peerIdentities({ subject: { CN: 'gw.example.com\n' }, subjectaltname: '' } as unknown as tls.PeerCertificate), []);
});
