import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { grantedExpires, refreshDelayMs, retryDelayMs } from '../../../src/b2bua/register-timing.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { captureLog } from './fake-srf.js';

interface Sent { uri: string; proxy?: string; headers: Record<string, string>; answer(status: number, headers?: Record<string, string>): void }

function fakeSrf(): RegisterSrf & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    request(uri, opts, cb) {
      let onResponse: ((res: { status: number; get(n: string): string | undefined }) => void) | undefined;
      sent.push({
        uri, ...(opts.proxy !== undefined ? { proxy: opts.proxy } : {}), headers: opts.headers,
        answer: (status, headers = {}) => onResponse?.({ status, get: (n) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1] }),
      });
      cb(null, { on: (_e, fn) => { onResponse = fn; } });
      return undefined;
    },
  };
}

const spec: RegistrationSpec = {
  tenant: 'carrier', registrar: '127.0.0.1:5070', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
  expires: 600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 40 }, transport: 'udp', scheme: 'sip',
};

const flush = () => new Promise((r) => setImmediate(r));

test('REGISTER as RFC 3261 §10.2 asks: AOR in From and To, our contact, Expires, one Call-ID and a rising CSeq; refreshed before it runs out', async () => {
  const clock = new ManualClock(1_000_000);
  const srf = fakeSrf();
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock });
  r.start();
  await flush();
  assert.equal(srf.sent.length, 1);
  const first = srf.sent[0]!;
  assert.equal(first.uri, 'sip:carrier.test', 'the Request-URI names the domain (RFC 3261 §10.2)');
  assert.equal(first.proxy, '<sip:127.0.0.1:5070>', 'sent to the registrar\'s address');
  assert.equal(first.headers.From, '<sip:trunk1@carrier.test>');
  assert.equal(first.headers.To, '<sip:trunk1@carrier.test>');
  assert.equal(first.headers.Contact, '<sip:trunk1@localhost>');
  assert.equal(first.headers.Expires, '600');
  first.answer(200, { Contact: '<sip:other@10.0.0.9>;expires=900, <sip:trunk1@127.0.0.1:5060;transport=udp>;expires=300' });
  assert.equal(r.snapshot()[0]!.state, 'registered');
  assert.equal(r.snapshot()[0]!.granted, 300, 'the expires of our own contact, not another binding');
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_UP').length, 1);
  clock.advance(239_000);
  await flush();
  assert.equal(srf.sent.length, 1, 'not yet');
  clock.advance(1_000);
  await flush();
  assert.equal(srf.sent.length, 2, 'a minute before the 300 s run out');
  assert.equal(srf.sent[1]!.headers['Call-ID'], first.headers['Call-ID']);
  assert.ok(Number.parseInt(srf.sent[1]!.headers.CSeq!, 10) > Number.parseInt(first.headers.CSeq!, 10));
  srf.sent[1]!.answer(200, { Expires: '300' });
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_UP').length, 1, 'a refresh is no change of state');
  r.close();
});

test('failures back off, doubling to the maximum; a binding still valid stays registered until it runs out; 423 asks again with Min-Expires', async () => {
  const clock = new ManualClock(0);
  const srf = fakeSrf();
  const { log, lines } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock, timeoutMs: 2_000 });
  r.start();
  await flush();
  srf.sent[0]!.answer(423, { 'Min-Expires': '1200' });
  await flush();
  assert.equal(srf.sent.length, 2, '423: asked again at once');
  assert.equal(srf.sent[1]!.headers.Expires, '1200');
  srf.sent[1]!.answer(403);
  assert.equal(r.snapshot()[0]!.state, 'failed');
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_DOWN').length, 1);
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before: number = srf.sent.length;
    let waited = 0;
    while (srf.sent.length === before && waited < 100_000) {
      clock.advance(1_000);
      waited += 1_000;
      await flush();
    }
    waits.push(waited);
    // no answer at all: the timeout counts as a failure
    clock.advance(2_000);
    await flush();
  }
  assert.deepEqual(waits, [5_000, 10_000, 20_000, 40_000, 40_000], 'from 5 s after the first failure (a 423 is none), doubling, at most 40 s');
  assert.equal(lines.filter((l) => l.code === 'EVT_REGISTRATION_DOWN').length, 1, 'failed once, logged once');
  r.close();
});

test('a refresh that fails keeps the binding until it runs out, then the trunk has failed', async () => {
  const clock = new ManualClock(0);
  const srf = fakeSrf();
  const { log } = captureLog();
  const r = new Registrations({ srf, specs: [{ ...spec, expires: 120 }], log, clock, timeoutMs: 1_000 });
  r.start();
  await flush();
  srf.sent[0]!.answer(200, { Expires: '120' });
  clock.advance(60_000);
  await flush();
  srf.sent[1]!.answer(503);
  assert.equal(r.snapshot()[0]!.state, 'registered', 'the binding holds');
  clock.advance(60_000);
  await flush();
  assert.equal(r.snapshot()[0]!.state, 'failed', 'run out');
  assert.equal(r.tenantForUser('trunk1'), 'carrier');
  assert.equal(r.tenantForUser('someone'), undefined);
  r.close();
});

test('timing helpers', () => {
  assert.equal(refreshDelayMs(3600), 3_540_000);
  assert.equal(refreshDelayMs(60), 30_000);
  assert.equal(retryDelayMs(1, { min: 5, max: 300 }), 5_000);
  assert.equal(retryDelayMs(4, { min: 5, max: 300 }), 40_000);
  assert.equal(retryDelayMs(30, { min: 5, max: 300 }), 300_000);
  assert.equal(grantedExpires({ status: 200, get: () => undefined }, 'x', 600), 600);
  assert.equal(grantedExpires({ status: 200, get: (n) => (n === 'Contact' ? '"a, b" <sip:x@h>;expires=77' : undefined) }, 'x', 600), 77);
});

test('a registrar named by host name over TLS: sent to its address, the name kept for the certificate check and SNI', async () => {
  const srf = fakeSrf();
  const { log } = captureLog();
  const r = new Registrations({ srf, specs: [{ ...spec, registrar: 'localhost:5071', transport: 'tls', tlsProfile: 'edge' }], log, clock: new ManualClock(0) });
  r.start();
  for (let i = 0; i < 200 && srf.sent.length === 0; i++) await new Promise((ok) => setTimeout(ok, 10));
  assert.equal(srf.sent[0]!.uri, 'sip:carrier.test');
  assert.equal(srf.sent[0]!.proxy, '<sip:127.0.0.1:5071;transport=tls>', 'in angle brackets: its transport is the URI\'s');
  assert.equal(srf.sent[0]!.headers['X-Trunkgate-Route'], 'tenant=carrier;profile=edge;domain=localhost');
  r.close();
});

test('a registrar named by its address with no domain: the Request-URI is that address, sent to directly', async () => {
  const srf = fakeSrf();
  const { log } = captureLog();
  const { domain: _d, ...bare } = spec;
  const r = new Registrations({ srf, specs: [bare], log, clock: new ManualClock(0) });
  r.start();
  await flush();
  assert.equal(srf.sent[0]!.uri, 'sip:127.0.0.1:5070');
  assert.equal(srf.sent[0]!.proxy, undefined);
  assert.equal(srf.sent[0]!.headers.To, '<sip:trunk1@127.0.0.1>');
  r.close();
});

test('a 401 is answered once, by the gateway: same Call-ID, the next CSeq, the same Request-URI and proxy; a second 401 is final', async () => {
  const clock = new ManualClock(0);
  const srf = fakeSrf();
  const { log } = captureLog();
  const r = new Registrations({ srf, specs: [spec], log, clock });
  r.start();
  await flush();
  srf.sent[0]!.answer(401, { 'WWW-Authenticate': 'Digest realm="carrier.test", nonce="n1", qop="auth", opaque="o1"' });
  assert.equal(srf.sent.length, 2, 'answered at once');
  const [a, b] = [srf.sent[0]!, srf.sent[1]!];
  assert.equal(b.headers['Call-ID'], a.headers['Call-ID']);
  assert.equal(Number.parseInt(b.headers.CSeq!, 10), Number.parseInt(a.headers.CSeq!, 10) + 1);
  assert.deepEqual([b.uri, b.proxy], [a.uri, a.proxy]);
  const auth = b.headers.Authorization ?? '';
  assert.match(auth, /^Digest username="trunk1", realm="carrier.test", nonce="n1", uri="sip:carrier.test", response="[0-9a-f]{32}", algorithm=MD5, qop=auth, nc=00000001, cnonce="[0-9a-f]+", opaque="o1"$/);
  b.answer(407, { 'Proxy-Authenticate': 'Digest realm="carrier.test", nonce="n2"' });
  assert.equal(srf.sent.length, 2, 'challenged again after the credentials: not answered');
  assert.equal(r.snapshot()[0]!.state, 'failed');
  assert.equal(r.snapshot()[0]!.lastStatus, 407);
  clock.advance(5_000);
  await flush();
  assert.equal(srf.sent.length, 3, 'the next cycle after the back-off');
  assert.ok(Number.parseInt(srf.sent[2]!.headers.CSeq!, 10) > Number.parseInt(b.headers.CSeq!, 10));
  srf.sent[2]!.answer(401, { 'WWW-Authenticate': 'Digest realm="carrier.test", nonce="n3"' });
  srf.sent[3]!.answer(200, { Expires: '600' });
  assert.equal(r.snapshot()[0]!.state, 'registered', 'a new cycle answers its own challenge');
  r.close();
});
