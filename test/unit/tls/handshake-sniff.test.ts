// The far end's first TLS flight read from its bytes: records and handshake messages built by hand here, byte by
// byte from RFC 5246 §6.2.1/§7.4 and RFC 8446 §4.1.3, with the CA names a probe would print. A flight that breaks
// the rules (truncated, overlong, junk) gives a reason, never an exception or a loop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLIGHT_RECORD_LIMIT, readServerFlight } from '../../../src/tls/handshake-sniff.js';

type Bytes = number[];
const u16 = (n: number): Bytes => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): Bytes => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const ascii = (s: string): Bytes => [...Buffer.from(s, 'utf8')];
/** A DER element; long-form length above 127. */
function der(tag: number, content: Bytes): Bytes {
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, ...u16(n)];
  return [tag, ...len, ...content];
}
// Attribute types, as their DER (RFC 5280 Appendix A; RFC 4519).
const CN = [0x06, 0x03, 0x55, 0x04, 0x03];
const O = [0x06, 0x03, 0x55, 0x04, 0x0a];
const OU = [0x06, 0x03, 0x55, 0x04, 0x0b];
const C = [0x06, 0x03, 0x55, 0x04, 0x06];
const DC = [0x06, 0x0a, 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19];
const EMAIL = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
const UNKNOWN_1_2_3_4 = [0x06, 0x03, 0x2a, 0x03, 0x04];
const atv = (type: Bytes, tag: number, value: Bytes): Bytes => der(0x30, [...type, ...der(tag, value)]);
const rdn = (...atvs: Bytes[]): Bytes => der(0x31, atvs.flat());
const dnName = (...rdns: Bytes[]): Bytes => der(0x30, rdns.flat());

const carrierCa = dnName(rdn(atv(C, 0x13, ascii('DE'))), rdn(atv(O, 0x0c, ascii('Carrier GmbH'))), rdn(atv(CN, 0x0c, ascii('Carrier Root CA'))));
const kamailioCa = dnName(rdn(atv(DC, 0x16, ascii('test'))), rdn(atv(OU, 0x13, ascii('SBC'), ), atv(CN, 0x0c, ascii('sbc CA'))));

const handshake = (type: number, body: Bytes): Bytes => [type, ...u24(body.length), ...body];
const record = (type: number, fragment: Bytes): Bytes => [type, 0x03, 0x03, ...u16(fragment.length), ...fragment];
/** Handshake messages cut into records of at most `size` bytes (messages then span records, RFC 5246 §6.2.1). */
function records(messages: Bytes, size = 16384): Bytes {
  const out: Bytes = [];
  for (let i = 0; i < messages.length; i += size) out.push(...record(22, messages.slice(i, i + size)));
  return out;
}

function serverHello(version: number, suite: number, extensions?: Bytes): Bytes {
  const random = Array.from({ length: 32 }, (_, i) => i);
  const sessionId = Array.from({ length: 32 }, () => 0xab);
  const ext = extensions === undefined ? [] : [...u16(extensions.length), ...extensions];
  return handshake(2, [...u16(version), ...random, sessionId.length, ...sessionId, ...u16(suite), 0, ...ext]);
}
function certificateRequest(types: Bytes, algs: number[] | undefined, cas: Bytes[]): Bytes {
  const algBytes = algs ? [...u16(algs.length * 2), ...algs.flatMap(u16)] : [];
  const caBytes = cas.flatMap((n) => [...u16(n.length), ...n]);
  return handshake(13, [types.length, ...types, ...algBytes, ...u16(caBytes.length), ...caBytes]);
}
const fakeCert = (fill: number, n: number): Bytes => der(0x30, Array.from({ length: n }, () => fill));
const certificate = (...certs: Bytes[]): Bytes => {
  const list = certs.flatMap((c) => [...u24(c.length), ...c]);
  return handshake(11, [...u24(list.length), ...list]);
};
const serverKeyExchange = handshake(12, [0x03, 0x00, 0x17, 0x41, ...Array.from({ length: 65 }, () => 4)]);
const serverHelloDone = handshake(14, []);

const HELLO_12 = serverHello(0x0303, 0xc02b, []);
/** ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ed25519 and a private value (RFC 8446 §4.2.3). */
const ALGS = [0x0403, 0x0804, 0x0401, 0x0807, 0xfe01];
const REQUEST = certificateRequest([1, 64], ALGS, [carrierCa, kamailioCa]);
const FLIGHT = [...HELLO_12, ...certificate(fakeCert(1, 300), fakeCert(2, 200)), ...serverKeyExchange, ...REQUEST, ...serverHelloDone];
const buf = (b: Bytes): Buffer => Buffer.from(b);

const EXPECTED_REQUEST = {
  certificateTypes: ['rsa_sign', 'ecdsa_sign'],
  signatureAlgorithms: ['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256', 'rsa_pkcs1_sha256', 'ed25519', '0xfe01'],
  caNames: ['C=DE, O=Carrier GmbH, CN=Carrier Root CA', 'DC=test, OU=SBC+CN=sbc CA'],
};

test('a TLS 1.2 flight that asks for a client certificate: its version, suite, certificates and the CAs it names, in the order sent', () => {
  const f = readServerFlight(buf(records(FLIGHT)));
  assert.equal(f.problem, undefined);
  assert.deepEqual(f.hello, { version: 'TLSv1.2', cipher: '0xC0,0x2B' });
  assert.deepEqual(f.certificateRequest, EXPECTED_REQUEST);
  assert.deepEqual(f.certificates?.map((c) => [c.length, c[c.length - 1]]), [[304, 1], [203, 2]]);
  assert.equal(f.done, true);
  assert.equal(f.encrypted, false);
});

test('messages split across records of 7 bytes, and one record per message, read the same CertificateRequest', () => {
  for (const f of [readServerFlight(buf(records(FLIGHT, 7))), readServerFlight(buf([HELLO_12, REQUEST, serverHelloDone].flatMap((m) => record(22, m))))]) {
    assert.equal(f.problem, undefined);
    assert.deepEqual(f.certificateRequest, EXPECTED_REQUEST);
    assert.equal(f.done, true);
  }
});

test('a CertificateRequest naming no CA (any CA will do) and a flight that asks for none are told apart', () => {
  const any = readServerFlight(buf(records([...HELLO_12, ...certificateRequest([64], [0x0403], []), ...serverHelloDone])));
  assert.deepEqual(any.certificateRequest, { certificateTypes: ['ecdsa_sign'], signatureAlgorithms: ['ecdsa_secp256r1_sha256'], caNames: [] });
  const none = readServerFlight(buf(records([...HELLO_12, ...certificate(fakeCert(1, 10)), ...serverHelloDone])));
  assert.equal(none.certificateRequest, undefined);
  assert.equal(none.done, true, 'the whole flight was read, so it did not ask');
});

test('TLS 1.1 has no signature algorithms in its CertificateRequest; TLS 1.2\'s stapled OCSP response is kept', () => {
  const ocsp = der(0x30, [0x0a, 0x01, 0x00]);
  const f = readServerFlight(buf(records([
    ...serverHello(0x0302, 0xc013), ...handshake(22, [1, ...u24(ocsp.length), ...ocsp]), ...certificateRequest([1], undefined, [carrierCa]), ...serverHelloDone,
  ])));
  assert.equal(f.problem, undefined);
  assert.deepEqual(f.hello, { version: 'TLSv1.1', cipher: '0xC0,0x13' });
  assert.deepEqual(f.certificateRequest, { certificateTypes: ['rsa_sign'], signatureAlgorithms: [], caNames: ['C=DE, O=Carrier GmbH, CN=Carrier Root CA'] });
  assert.deepEqual([...f.ocspStaple!], ocsp);
});

test('TLS 1.3: the ServerHello names 1.3 in supported_versions, and what follows is encrypted, so no CertificateRequest is read', () => {
  const hello = serverHello(0x0303, 0x1301, [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
  const f = readServerFlight(buf([...record(22, hello), ...record(20, [1]), ...record(23, Array.from({ length: 40 }, () => 0x55))]));
  assert.deepEqual(f.hello, { version: 'TLSv1.3', cipher: '0x13,0x01' });
  assert.equal(f.encrypted, true);
  assert.equal(f.certificateRequest, undefined);
  assert.equal(f.done, false);
  assert.equal(f.problem, undefined);
});

test('a flight cut short (mid-record, mid-message) is incomplete, not invalid: what came before it is kept', () => {
  const whole = records(FLIGHT);
  const requestAt = whole.length - serverHelloDone.length - REQUEST.length + 20;
  for (const cut of [0, 3, 5 + 10, requestAt, whole.length - 1]) {
    const f = readServerFlight(buf(whole.slice(0, cut)));
    assert.equal(f.problem, undefined, `cut at ${cut}`);
    assert.equal(f.done, false, `cut at ${cut}`);
    assert.equal(f.certificateRequest, undefined, `cut at ${cut}`);
  }
  const split = [...records(FLIGHT.slice(0, FLIGHT.length - serverHelloDone.length), 100), ...record(22, serverHelloDone)];
  const f = readServerFlight(buf(split.slice(0, split.length - 2)));
  assert.equal(f.done, false);
  assert.deepEqual(f.certificateRequest, EXPECTED_REQUEST, 'the CertificateRequest was whole before the cut');
});

test('overlong lengths are refused with the field that overran, never read past the end', () => {
  const cases: [string, Bytes, RegExp][] = [
    ['a CA name longer than the CA list', [...HELLO_12, ...handshake(13, [1, 64, ...u16(2), ...u16(0x0403), ...u16(6), ...u16(40), 0x30, 0x02, 0x05, 0x00])], /CA name 1: 40 bytes announced, 4 remain/],
    ['a CA list longer than the message', [...HELLO_12, ...handshake(13, [1, 64, ...u16(2), ...u16(0x0403), ...u16(500)])], /certificate_authorities: 500 bytes announced, 0 remain/],
    ['signature algorithms of an odd length', [...HELLO_12, ...handshake(13, [1, 64, ...u16(3), 4, 3, 8, ...u16(0)])], /supported_signature_algorithms of 3 bytes/],
    ['no certificate type', [...HELLO_12, ...handshake(13, [0, ...u16(2), ...u16(0x0403), ...u16(0)])], /no certificate type/],
    ['bytes after the CA list', [...HELLO_12, ...handshake(13, [1, 64, ...u16(2), ...u16(0x0403), ...u16(0), 0xff])], /1 bytes after the CertificateRequest/],
    ['a session id of 33 bytes', handshake(2, [3, 3, ...Array.from({ length: 32 }, () => 0), 33, ...Array.from({ length: 33 }, () => 0), 0xc0, 0x2b, 0]), /session id of 33 bytes/],
    ['a DER length past the CA name', [...HELLO_12, ...certificateRequest([64], [0x0403], [[0x30, 0x81, 0x7f, 0x31, 0x00]])], /CA name 1 is not a DER name: element at 0 claims 127 bytes, 2 remain/],
    ['an indefinite DER length', [...HELLO_12, ...certificateRequest([64], [0x0403], [[0x30, 0x80, 0x00, 0x00]])], /indefinite length/],
    ['a CA name that is not a Name', [...HELLO_12, ...certificateRequest([64], [0x0403], [der(0x04, [1, 2, 3])])], /not a SEQUENCE/],
    ['a message before the ServerHello', [...serverHelloDone, ...HELLO_12], /message 14 before the ServerHello/],
    ['a Finished in the clear', [...HELLO_12, ...handshake(20, Array.from({ length: 12 }, () => 0))], /handshake message 20 in the server's first flight/],
  ];
  for (const [what, messages, reason] of cases) {
    const f = readServerFlight(buf(records(messages)));
    assert.match(f.problem ?? '(none)', reason, what);
    assert.equal(f.certificateRequest, undefined, what);
  }
  const huge = readServerFlight(buf([22, 3, 3, ...u16(16385), ...Array.from({ length: 16385 }, () => 0)]));
  assert.match(huge.problem ?? '', /a record of 16385 bytes/);
  const empty = readServerFlight(buf([...record(22, HELLO_12), 22, 3, 3, 0, 0]));
  assert.match(empty.problem ?? '', /an empty handshake record/);
});

test('what is not TLS at all (a SIP answer on a TLS port, nothing) is said to be so', () => {
  assert.match(readServerFlight(buf(ascii('SIP/2.0 400 Bad Request\r\n\r\n'))).problem ?? '', /not a TLS record at byte 0: SIP\/2/);
  assert.deepEqual(readServerFlight(Buffer.alloc(0)), { done: false, encrypted: false });
  const alert = readServerFlight(buf(record(21, [2, 70])));
  assert.deepEqual(alert.alert, { fatal: true, description: 70 });
  assert.equal(alert.hello, undefined);
});

test('CA names: other attribute types by their OID, BMP and UTF-8 text, and control characters escaped so a terminal is not steered', () => {
  const odd = dnName(
    rdn(atv(UNKNOWN_1_2_3_4, 0x0c, ascii('x'))), rdn(atv(EMAIL, 0x16, ascii('pki@carrier.test'))),
    rdn(atv(O, 0x1e, [0x00, 0x4d, 0x00, 0xfc, 0x00, 0x6c])), rdn(atv(CN, 0x0c, ascii('Zürich\u001b[31m\n'))), rdn(atv(OU, 0x04, [0xde, 0xad])),
  );
  const f = readServerFlight(buf(records([...HELLO_12, ...certificateRequest([64], [0x0403], [odd]), ...serverHelloDone])));
  assert.equal(f.problem, undefined);
  assert.deepEqual(f.certificateRequest?.caNames, ['1.2.3.4=x, emailAddress=pki@carrier.test, O=Mül, CN=Zürich\\x1b[31m\\x0a, OU=#0402dead']);
});

test(`the reader looks at no more than ${FLIGHT_RECORD_LIMIT} bytes: a certificate past it leaves the flight incomplete`, () => {
  const big = records([...HELLO_12, ...certificate(fakeCert(7, 70_000)), ...REQUEST, ...serverHelloDone]);
  assert.ok(big.length > FLIGHT_RECORD_LIMIT);
  const f = readServerFlight(buf(big));
  assert.equal(f.problem, undefined);
  assert.equal(f.done, false);
  assert.equal(f.certificateRequest, undefined);
});

test('20,000 mangled flights (bytes changed, cut, repeated) each end with a flight or a reason, never an exception', () => {
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const whole = records(FLIGHT, 50);
  let problems = 0;
  for (let i = 0; i < 20_000; i++) {
    const b = [...whole];
    for (let k = 1 + rand(4); k > 0; k--) {
      const at = rand(b.length);
      const op = rand(3);
      if (op === 0) b[at] = rand(256);
      else if (op === 1) b.splice(at, 1 + rand(8));
      else b.splice(at, 0, ...b.slice(rand(b.length), rand(b.length)).slice(0, 64));
    }
    const f = readServerFlight(buf(b));
    assert.equal(typeof f.done, 'boolean');
    if (f.problem !== undefined) {
      assert.equal(typeof f.problem, 'string');
      problems++;
    }
  }
  assert.ok(problems > 1000, `mangling was found out (${problems} of 20000)`);
});
