import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { chainCaCount, chainDepthProblem, withDepthCheck } from '../../../src/tls/chain-check.js';
import { resolveCipherList } from '../../../src/tls/cipher-names.js';

/** A peer certificate with `cas` issuers above it; the last one issues itself, as Node links a root. */
function chain(cas: number): DetailedPeerCertificate {
  const certs = Array.from({ length: cas + 1 }, (_, i) => ({ subject: { CN: `c${i}` } }) as unknown as DetailedPeerCertificate);
  for (let i = 0; i < cas; i++) certs[i]!.issuerCertificate = certs[i + 1]!;
  certs[cas]!.issuerCertificate = certs[cas]!;
  return certs[0]!;
}

test('the CAs above a peer certificate are counted up to the self-issued root, which counts once', () => {
  assert.equal(chainCaCount(chain(0)), 0);
  assert.equal(chainCaCount(chain(1)), 1);
  assert.equal(chainCaCount(chain(6)), 6);
  assert.equal(chainCaCount(undefined), 0);
  assert.equal(chainCaCount({} as DetailedPeerCertificate), 0);
  const open = chain(2);
  (open.issuerCertificate.issuerCertificate as { issuerCertificate?: unknown }).issuerCertificate = undefined;
  assert.equal(chainCaCount(open), 2, 'a chain Node left unlinked at the top');
  const empty = chain(1);
  empty.issuerCertificate = {} as DetailedPeerCertificate;
  assert.equal(chainCaCount(empty), 0, 'an empty issuer object is no certificate');
});

test('a chain over the limit is a problem naming both numbers; at the limit it is none', () => {
  assert.equal(chainDepthProblem(chain(4), 4), undefined);
  assert.equal(chainDepthProblem(chain(5), 4), "the peer's chain has 5 CA certificates above its own, more than maxChainDepth 4");
  assert.equal(chainDepthProblem(chain(1), 0), "the peer's chain has 1 CA certificates above its own, more than maxChainDepth 0");
});

test('the outbound check refuses a deep chain with ERR_TLS_CHAIN_DEPTH before the name check, else defers to it', () => {
  let names = 0;
  const nameCheck = () => (names++, undefined);
  const check = withDepthCheck(4, nameCheck);
  const e = check('h', chain(5) as unknown as PeerCertificate) as Error & { code?: string; details?: unknown };
  assert.equal(e.code, 'ERR_TLS_CHAIN_DEPTH');
  assert.deepEqual(e.details, { maxChainDepth: 4 });
  assert.equal(names, 0);
  assert.equal(check('h', chain(4) as unknown as PeerCertificate), undefined);
  assert.equal(names, 1);
  const wrong = new Error('name');
  assert.equal(withDepthCheck(4, () => wrong)('h', chain(1) as unknown as PeerCertificate), wrong);
});

test('DSS suite names are known and refused with the reason; DHE_RSA names resolve', () => {
  const r = resolveCipherList(['TLS_DHE_DSS_WITH_AES_128_CBC_SHA', 'DHE_DSS_AES256_GCM_SHA384']);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, 'ERR_TLS_CIPHER_UNSUPPORTED');
  assert.deepEqual((r as { unknown?: string[] }).unknown, []);
  assert.match(r.reason, /DSS suites authenticate with a DSA certificate/);
  const rsa = resolveCipherList(['DHE_RSA_AES128_GCM_SHA256', 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384']);
  assert.ok(rsa.ok);
  if (rsa.ok) assert.equal(rsa.value.tls12, 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384');
  const other = resolveCipherList(['TLS_RSA_WITH_3DES_EDE_CBC_SHA']);
  assert.ok(!other.ok && !other.reason.includes('DSS'), 'the DSS note only for DSS suites');
});
