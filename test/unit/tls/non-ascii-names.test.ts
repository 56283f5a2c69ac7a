// Names compare case-insensitively in ASCII only: a certificate's CN with U+212A KELVIN SIGN, which
// String.toLowerCase turns into `k`, is not the name `karrier.example`, neither for a profile's cnSan check nor for
// the TLS peer lookup of the call policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PeerCertificate } from 'node:tls';
import { normalizeDnsName, presentedNameMatches } from '../../../src/common/peer-name.js';
import { matchTlsPeer } from '../../../src/policy/index.js';
import { checkClientIdentity, createCheckServerIdentity, matchIdentity, peerIdentities } from '../../../src/tls/index.js';
import { requireOpenssl } from '../../support/test-certs.js';

const KELVIN = '\u212A';
const lookalike = `${KELVIN}arrier.example`;

/** A real certificate whose subject CN is `cn` (UTF-8), without subjectAltName, as Node reads it. */
async function certificateWithCn(cn: string): Promise<X509Certificate> {
  await requireOpenssl();
  const dir = await mkdtemp(join(tmpdir(), 'trunkgate-cn-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-utf8', '-subj', `/CN=${cn}`, '-days', '1',
      '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
    ]);
    return new X509Certificate(await readFile(join(dir, 'c.pem')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('only ASCII letters fold: a Kelvin sign stays what it is', () => {
  assert.equal(normalizeDnsName(' PBX.Example.COM. '), 'pbx.example.com');
  assert.equal(normalizeDnsName(lookalike), lookalike);
  assert.equal(presentedNameMatches(lookalike, 'karrier.example'), false);
  assert.equal(presentedNameMatches('KARRIER.example', 'karrier.example'), true);
});

test('a CN with a Kelvin sign neither passes a cnSan of karrier.example nor matches the TLS peer karrier.example', async () => {
  const real = await certificateWithCn(lookalike);
  assert.equal(real.subject, `CN=${lookalike}`, 'Node reads the CN as written');
  const legacy = { subject: { CN: lookalike } } as unknown as PeerCertificate;
  for (const c of [real, legacy]) {
    const ids = peerIdentities(c);
    assert.deepEqual(ids, [`cn:${lookalike}`]);
    assert.equal(matchIdentity(ids, 'karrier.example'), undefined);
    assert.equal(checkClientIdentity(c, ['karrier.example']).ok, false, 'cnSan validate client');
    assert.equal((createCheckServerIdentity({ domain: 'karrier.example' })('karrier.example', c as PeerCertificate) as { code?: string } | undefined)?.code,
      'ERR_TLS_NAME_MISMATCH', 'the server name check');
    assert.equal(matchTlsPeer(ids, { 'karrier.example': { permissions: {} } }), undefined, 'the TLS peer lookup');
  }
  // An ASCII CN in capitals still matches both ways.
  const upper = { subject: { CN: 'KARRIER.Example' } } as unknown as PeerCertificate;
  assert.equal(checkClientIdentity(upper, ['karrier.example']).ok, true);
  assert.equal(matchTlsPeer(peerIdentities(upper), { 'karrier.example': { permissions: {} } })?.name, 'karrier.example');
});
