// A stapled OCSP response as the probe reports it, from responses built by hand after RFC 6960 §4.2.1 (good, revoked
// with its reason, unknown, a responder that answers tryLater), and what a far end can do to the bytes: cut them,
// change them, send something else. Each gives a report or a reason, never an exception.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leafFields } from '../../../src/tls/cert-pointers.js';
import { decodeStapledOcsp } from '../../../src/tls/ocsp.js';
import { createLocalCa } from '../../../src/pki/index.js';

type Bytes = number[];
function der(tag: number, ...content: Bytes[]): Bytes {
  const body = content.flat();
  const n = body.length;
  return [tag, ...(n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]), ...body];
}
const time = (s: string): Bytes => der(0x18, [...Buffer.from(s, 'latin1')]);
const ID_PKIX_OCSP_BASIC = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
const SHA1 = der(0x30, [0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a], [0x05, 0x00]);
const ECDSA_SHA256 = der(0x30, [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
const twenty = (b: number): Bytes => der(0x04, Array.from({ length: 20 }, () => b));

function response(certStatus: Bytes, next = true): Buffer {
  const single = der(0x30, der(0x30, SHA1, twenty(1), twenty(2), der(0x02, [0x10, 0x00])), certStatus,
    time('20261204100000Z'), next ? der(0xa0, time('20261206100000Z')) : []);
  const tbs = der(0x30, der(0xa2, twenty(3)), time('20261204100500Z'), der(0x30, single));
  const basic = der(0x30, tbs, ECDSA_SHA256, der(0x03, [0x00, 0x30, 0x00]));
  return Buffer.from(der(0x30, [0x0a, 0x01, 0x00], der(0xa0, der(0x30, ID_PKIX_OCSP_BASIC, der(0x04, basic)))));
}
const GOOD = response([0x80, 0x00]);
const REVOKED = response(der(0xa1, time('20261201080000Z'), der(0xa0, [0x0a, 0x01, 0x01])));

test('good: the status, producedAt, thisUpdate and nextUpdate; without the far end\'s issuer the signature is not checked', () => {
  assert.deepEqual(decodeStapledOcsp(GOOD), {
    stapled: true, forLeaf: false, status: 'good', producedAt: '2026-12-04T10:05:00.000Z', thisUpdate: '2026-12-04T10:00:00.000Z',
    nextUpdate: '2026-12-06T10:00:00.000Z', signature: 'not checked', signatureNote: 'the far end sent no issuer certificate to check it with',
  });
});

test('revoked: when, and why (CRLReason 1, keyCompromise); unknown; and no nextUpdate when the responder gave none', () => {
  const r = decodeStapledOcsp(REVOKED);
  assert.deepEqual([r.status, r.revokedAt, r.reason], ['revoked', '2026-12-01T08:00:00.000Z', 'keyCompromise']);
  const u = decodeStapledOcsp(response([0x82, 0x00], false));
  assert.equal(u.status, 'unknown');
  assert.equal(u.nextUpdate, undefined);
});

test('a responder that is not successful (tryLater, RFC 6960 §4.2.1 value 3) gives no status, and says which answer it was', () => {
  assert.deepEqual(decodeStapledOcsp(Buffer.from(der(0x30, [0x0a, 0x01, 0x03]))), { stapled: true, responseStatus: 'tryLater' });
});

test('cut at every length, or another kind of response, it is unreadable with a reason', () => {
  for (let n = 0; n < GOOD.length; n++) {
    const r = decodeStapledOcsp(GOOD.subarray(0, n));
    assert.equal(r.stapled, true);
    assert.equal(typeof r.problem, 'string', `cut at ${n}`);
    assert.equal(r.status, undefined, `cut at ${n}`);
  }
  const otherType = Buffer.from(GOOD);
  otherType[otherType.indexOf(Buffer.from(ID_PKIX_OCSP_BASIC)) + ID_PKIX_OCSP_BASIC.length - 1] = 0x02; // id-pkix-ocsp-nonce
  assert.match(decodeStapledOcsp(otherType).problem ?? '', /is not id-pkix-ocsp-basic/);
  assert.match(decodeStapledOcsp(Buffer.from('HTTP/1.1 200 OK\r\n')).problem ?? '', /element at 0 claims 84 bytes/);
});

test('10,000 changed responses each give a report or a reason, never an exception', () => {
  let seed = 0x9e3779b9;
  const rand = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let problems = 0;
  for (let i = 0; i < 10_000; i++) {
    const b = [...(i % 2 ? GOOD : REVOKED)];
    for (let k = 1 + rand(3); k > 0; k--) {
      if (rand(2)) b[rand(b.length)] = rand(256);
      else b.splice(rand(b.length), 1 + rand(4));
    }
    const r = decodeStapledOcsp(Buffer.from(b));
    assert.equal(r.stapled, true);
    if (r.problem) problems++;
  }
  assert.ok(problems > 2000, `changes were found out (${problems} of 10000)`);
});

test('a certificate without revocation pointers names none; one cut short is unreadable with a reason', () => {
  const pem = createLocalCa({ commonName: 'pointer CA' }).certPem;
  const derBytes = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const f = leafFields(derBytes);
  assert.deepEqual([f.ocspUrls, f.crlUrls, f.fetched, f.problem], [[], [], false, undefined]);
  assert.ok(f.issuerName && f.issuerName[0] === 0x30, 'the issuer Name, as encoded');
  for (const n of [0, 1, 10, derBytes.length - 1]) assert.equal(typeof leafFields(derBytes.subarray(0, n)).problem, 'string', `cut at ${n}`);
});
