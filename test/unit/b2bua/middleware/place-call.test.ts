import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeCall, type B2buaPolicy, type SipServerResolver } from '../../../../src/b2bua/index.js';
import { settle, sipError } from '../fake-srf.js';
import { FakeDialog, FakeRes, fakeInvite, policy } from '../pipeline-fakes.js';
import { cdrOf, offer, start } from './place-call-rig.js';

test('place-call: the target tenant\'s scheme, transport and TLS profile; Max-Forwards less one; crypto filtered and ordered', async () => {
  const s = start('+442071234567');
  const a = await s.srf.attempt(0);
  assert.equal(a.uri, 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls');
  const headers = a.opts.headers as Record<string, string>;
  assert.equal(headers['X-Trunkgate-Route'], 'tenant=carrier;profile=carrier-tls');
  assert.equal(headers['Max-Forwards'], '69');
  assert.equal(a.opts.passFailure, false);
  const sdpB = a.opts.localSdpB as string;
  // pbx allows 80 and GCM; carrier orders GCM first; the 32-bit-tag suite is gone
  assert.deepEqual(sdpB.split('\r\n').filter((l) => l.startsWith('a=crypto')),
    ['a=crypto:3 AEAD_AES_256_GCM inline:CCCC', 'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBBB']);
});

test('place-call: the caller\'s tenant alone names SRTP suites (the target none): the B leg still gets the filtered offer', async () => {
  const { srtpCrypto: _none, ...carrierWithout } = policy.tenants.carrier!;
  const s = start('+442071234567', 'pbx', offer, {}, { ...policy, tenants: { ...policy.tenants, carrier: carrierWithout } });
  const a = await s.srf.attempt(0);
  const sdpB = a.opts.localSdpB as string | undefined;
  assert.ok(sdpB, 'an offer changed by the caller\'s tenant is sent as localSdpB');
  assert.deepEqual(sdpB.split('\r\n').filter((l) => l.startsWith('a=crypto')),
    ['a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBBB', 'a=crypto:3 AEAD_AES_256_GCM inline:CCCC']);
});

test('place-call: failover order 503 → 408 → transport failure → answered, on each target of each dial peer', async () => {
  const s = start('+442071234567');
  (await s.srf.attempt(0)).reject(sipError(503));
  (await s.srf.attempt(1)).reject(sipError(408));
  const third = await s.srf.attempt(2);
  // createB2BUA answers the A leg 500 itself when the B-leg INVITE cannot be sent; that 500 is held back
  third.res.send(500);
  third.cbRequest(new Error('connect ECONNREFUSED'));
  third.reject(new Error('connect ECONNREFUSED'));
  assert.equal(s.res.sent.length, 0, 'the caller saw no 500');
  assert.deepEqual(s.srf.attempts.map((x) => x.uri), [
    'sips:+442071234567@sbc1.carrier.example:5061;transport=tls',
    'sips:+442071234567@sbc2.carrier.example:5061;transport=tls',
    'sip:+442071234567@192.0.2.10:5060',
  ]);
  assert.equal(s.srf.attempts.length, 3);
  await settle();
  assert.equal(s.res.status, 503, 'every target failed: the last failure, 503 for a transport failure');
  assert.equal(s.stats.failovers, 2);
  assert.deepEqual(s.stats.calls.snapshot().failed, { 503: 1 });
  const cdr = cdrOf(s.lines)!;
  assert.equal(cdr.cause, 'transport');
  assert.equal(cdr.attempts, 3);
  assert.equal(cdr.dialPeer, 'intl-backup');
});

test('place-call: a 503 then an answer on the second target bridges; BYE ends both legs and writes one CDR', async () => {
  const s = start('+442071234567');
  (await s.srf.attempt(0)).reject(sipError(503));
  const second = await s.srf.attempt(1);
  s.clock.advance(300);
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  second.resolve({ uas, uac });
  await settle();
  assert.equal(s.stats.failovers, 1);
  assert.equal(s.stats.calls.connected, 1);
  assert.equal(cdrOf(s.lines), undefined, 'no CDR while the call is up');
  s.clock.advance(5_000);
  uac.connected = false;
  uac.emit('destroy');
  assert.equal(uas.destroyCalls, 1);
  await settle();
  const cdr = cdrOf(s.lines)!;
  assert.match(String(cdr.id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random UUID per record');
  const t0 = 1_700_000_000_000;
  assert.deepEqual({ ...cdr, id: undefined }, {
    id: undefined, callId: 'c1', callingNumber: null, calledNumber: '+442071234567',
    sourceAddress: null, sourcePort: null, transportIn: 'udp', listener: null, tenantIn: 'pbx', identities: [], identityOrigin: null,
    peerIdentity: null, tlsPeer: null, tlsVersion: null, tlsCipher: null, category: 'international',
    dialPeer: 'intl', tenantOut: 'carrier', transportOut: 'tls', destination: 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls',
    tlsVersionOut: null, tlsCipherOut: null, identitiesOut: [], attempts: 2,
    targets: [
      { dialPeer: 'intl', tenant: 'carrier', transport: 'tls', uri: 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls', outcome: 'rejected', status: 503, reason: null, startAt: t0, endAt: t0 },
      { dialPeer: 'intl', tenant: 'carrier', transport: 'tls', uri: 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls', outcome: 'answered', status: 200, reason: null, startAt: t0, endAt: t0 + 300 },
    ],
    setupAt: t0, answerAt: t0 + 300, endAt: t0 + 5_300, setupMs: 300, durationMs: 5_000, status: 200, cause: 'normal', releasedBy: 'callee',
    reason: null, reasonIn: null, reasonOut: null, byeFailed: 0,
  });
});

test('place-call: a final failure that is the called party\'s answer (486) goes back without failover', async () => {
  const s = start('+442071234567');
  (await s.srf.attempt(0)).reject(Object.assign(sipError(486), { reason: 'Busy Here' }));
  await settle();
  assert.equal(s.srf.attempts.length, 1);
  assert.equal(s.res.status, 486);
  assert.equal(s.res.sent[0]!.reason, 'Busy Here');
  assert.equal(s.stats.failovers, 0);
});

test('place-call: an offer keeping no allowed suite is refused with 488 and nothing is sent', async () => {
  const only32 = offer.replace(/a=crypto:2.*\r\n/, '').replace(/a=crypto:3.*\r\n/, '');
  const s = start('+442071234567', 'pbx', only32);
  await settle();
  assert.equal(s.srf.attempts.length, 0);
  assert.equal(s.res.status, 488);
  assert.match(s.res.reasonHeader ?? '', /^SIP;cause=488;text="No acceptable SRTP crypto suite for audio"/);
  assert.equal(s.stats.cryptoRejected, 1);
});

test('place-call: an answer with no suite the caller\'s tenant allows fails the call with 488', async () => {
  const s = start('+442071234567');
  const a = await s.srf.attempt(0);
  const localSdpA = a.opts.localSdpA as (sdp: string) => string;
  const answer32 = 'v=0\r\nm=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:ZZZZ\r\n';
  const good = 'v=0\r\nm=audio 5000 RTP/SAVP 0\r\na=crypto:3 AEAD_AES_256_GCM inline:ZZZZ\r\n';
  assert.equal(localSdpA(good), good);
  let thrown: unknown;
  try {
    localSdpA(answer32);
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown);
  a.reject(thrown);
  await settle();
  assert.equal(s.res.status, 488);
  assert.equal(s.srf.attempts.length, 1, 'no failover after an answer');
});

test('place-call: re-INVITE, INFO and UPDATE pass to the other leg, offers filtered for it', async () => {
  const s = start('+442071234567');
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  (await s.srf.attempt(0)).resolve({ uas, uac });
  await settle();
  const sent: Array<{ status: number; opts?: { body?: string; headers?: Record<string, string> } }> = [];
  const res = { send: (status: number, opts?: { body?: string; headers?: Record<string, string> }) => void sent.push({ status, ...(opts ? { opts } : {}) }) };
  const inDialog = (body?: string, headers: Record<string, string> = {}) => ({
    ...(body !== undefined ? { body } : {}), get: (n: string) => headers[n], has: (n: string) => n in headers,
  });
  uas.emit('modify', inDialog(offer), res);
  await settle();
  assert.equal(uac.modified.length, 1);
  assert.ok(!uac.modified[0]!.includes('HMAC_SHA1_32'), 'the offer to the carrier is filtered');
  assert.equal(sent[0]!.status, 200);
  assert.match(sent[0]!.opts!.body!, /AES_CM_128_HMAC_SHA1_80/);

  uac.emit('info', inDialog('Signal=5', { 'Content-Type': 'application/dtmf-relay' }), res);
  await settle();
  assert.deepEqual(uas.requests[0], { method: 'INFO', headers: { 'Content-Type': 'application/dtmf-relay' }, body: 'Signal=5' });
  assert.equal(sent[1]!.status, 200);

  const only32 = offer.replace(/a=crypto:[23].*\r\n/g, '');
  uas.emit('modify', inDialog(only32), res);
  await settle();
  assert.equal(sent[2]!.status, 488, 'a re-offer with no allowed suite is refused on the leg it came from');
  assert.equal(uac.modified.length, 1);

  uas.emit('update', inDialog(offer, { 'Content-Type': 'application/sdp' }), res);
  await settle();
  assert.equal(uac.requests[0]!.method, 'UPDATE');
  assert.ok(!uac.requests[0]!.body!.includes('HMAC_SHA1_32'));

  // A bodyless UPDATE is this leg's session refresh: answered here with its Session-Expires, not relayed.
  uas.emit('update', inDialog(undefined, { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }), res);
  await settle();
  assert.equal(uac.requests.length, 1);
  assert.deepEqual(sent.at(-1), { status: 200, opts: { headers: { 'Session-Expires': '1800;refresher=uac', Require: 'timer' } } });
});

test('place-call: a target the OPTIONS ping found down is not tried while another is up', async () => {
  const s = start('+442071234567', 'pbx', offer, { trunks: { isDown: (t, server) => t === 'carrier' && server === 'sbc1.carrier.example:5061' } });
  const a = await s.srf.attempt(0);
  assert.equal(a.uri, 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls');
  a.reject(sipError(503));
  assert.equal((await s.srf.attempt(1)).uri, 'sip:+442071234567@192.0.2.10:5060');
  assert.equal(s.stats.skippedDown, 1);
});

test('place-call: a dns: target is tried at each address RFC 3263 gives, with the name for the engine; a name that does not resolve moves on', async () => {
  const p: B2buaPolicy = {
    ...policy,
    tenants: {
      ...policy.tenants,
      itsp: { transport: 'tls', tlsProfile: 'itsp-tls', sipServer: ['dns:nowhere.example', 'dns:itsp.example'] },
    },
    dialPeers: [{ id: 'itsp', destinationPattern: '^\\+', tenant: 'itsp' }, { id: 'backup', destinationPattern: '^\\+', tenant: 'backup' }],
  };
  const asked: string[] = [];
  const resolve: SipServerResolver = async (name, port, transport) => {
    asked.push(`${name}:${port ?? '-'}:${transport}`);
    if (name === 'nowhere.example') return { ok: false, code: 'ERR_B2BUA_DNS', reason: 'nowhere.example: no NAPTR, SRV, A or AAAA record for tls' };
    return { ok: true, targets: [
      { address: '192.0.2.1', port: 5061, transport: 'tls', domain: 'itsp.example' },
      { address: '2001:db8::1', port: 5062, transport: 'tls', domain: 'itsp.example' },
    ] };
  };
  const s = start('+442071234567', 'pbx', offer, { resolve }, p);
  const first = await s.srf.attempt(0);
  assert.deepEqual(asked, ['nowhere.example:-:tls', 'itsp.example:-:tls']);
  assert.equal(first.uri, 'sip:+442071234567@192.0.2.1:5061;transport=tls');
  assert.equal((first.opts.headers as Record<string, string>)['X-Trunkgate-Route'], 'tenant=itsp;profile=itsp-tls;domain=itsp.example');
  first.reject(sipError(503));
  const second = await s.srf.attempt(1);
  assert.equal(second.uri, 'sip:+442071234567@[2001:db8::1]:5062;transport=tls');
  second.reject(sipError(503));
  assert.equal((await s.srf.attempt(2)).uri, 'sip:+442071234567@192.0.2.10:5060');
  assert.equal(s.stats.dnsFailures, 1);
});

test('place-call: a dial peer\'s no-answer timeout cancels the B leg and tries the next target at once; the caller never sees the abandoned attempt', async () => {
  const p: B2buaPolicy = { ...policy, dialPeers: policy.dialPeers.map((d) => (d.id === 'intl' ? { ...d, noAnswerTimeoutSeconds: 3 } : d)) };
  const s = start('+442071234567', 'pbx', offer, {}, p);
  const first = await s.srf.attempt(0);
  let cancelled = 0;
  first.cbRequest(null, { cancel: () => { cancelled++; } });
  s.clock.advance(2_999);
  await settle();
  assert.equal(s.srf.attempts.length, 1);
  s.clock.advance(1);
  const second = await s.srf.attempt(1);
  assert.equal(cancelled, 1, 'the unanswered INVITE was cancelled');
  assert.equal(second.uri, 'sips:+442071234567@sbc2.carrier.example:5061;transport=tls');
  first.res.send(487);
  assert.equal(s.res.sent.length, 0, 'nothing of the abandoned attempt reaches the caller');
  second.reject(sipError(503));
  const third = await s.srf.attempt(2);
  third.reject(Object.assign(sipError(486), { reason: 'Busy Here', res: { get: (n: string) => (n === 'Reason' ? 'Q.850;cause=17' : undefined) } }));
  await settle();
  assert.equal(s.stats.calls.noAnswerTimeouts, 1);
  assert.equal(s.res.status, 486);
  assert.equal(s.res.reasonHeader, 'Q.850;cause=17', 'the far end\'s own Reason passes through');
});

test('place-call: every target silent past its timeout → 408 with a Reason naming the dial peer, in the CDR too', async () => {
  const p: B2buaPolicy = {
    ...policy,
    dialPeers: [{ id: 'intl', destinationPattern: '^\\+', tenant: 'backup', noAnswerTimeoutSeconds: 2 }],
  };
  const s = start('+442071234567', 'pbx', offer, {}, p);
  await s.srf.attempt(0);
  s.clock.advance(2_000);
  await settle();
  assert.equal(s.res.status, 408);
  assert.equal(s.res.reasonHeader, 'SIP;cause=408;text="No answer from dial peer intl within 2 s"');
  const cdr = cdrOf(s.lines)!;
  assert.equal(cdr.cause, 'no-answer');
  assert.equal(cdr.reason, s.res.reasonHeader);
});

test('place-call: a B leg that failed on TLS: the engine\'s Reason (expected and presented identities) reaches the caller', async () => {
  const p: B2buaPolicy = { ...policy, dialPeers: [{ id: 'intl', destinationPattern: '^\\+', tenant: 'carrier' }] };
  const s = start('+442071234567', 'pbx', offer, {}, p);
  const tls = 'SIP;cause=503;text="TLS_HANDSHAKE_FAILED name-mismatch: Certificate identity does not match requested domain; '
    + 'ERR_TLS_CERT_ALTNAME_INVALID (expected sip:sbc1.carrier.example, presented dns:other.example)"';
  // The engine's own answer (X-Trunkgate-Peer origin=engine) is the gateway's: its Reason goes on as it is.
  const headers = (origin: string) => ({ reason: tls, 'x-trunkgate-peer': `verified=0;transport=tls${origin}` }) as Record<string, string>;
  const withReason = (status: number, origin = ';origin=engine') => Object.assign(sipError(status), { res: { get: (n: string) => headers(origin)[n.toLowerCase()] } });
  (await s.srf.attempt(0)).reject(withReason(503));
  (await s.srf.attempt(1)).reject(withReason(503));
  await settle();
  assert.equal(s.res.status, 503);
  assert.equal(s.res.reasonHeader, tls);
  assert.equal(cdrOf(s.lines)!.reason, tls);
  // The same text from the far end is its own: the caller gets the cause and our phrase (b-leg-answers.ts).
  const far = start('+442071234567', 'pbx', offer, {}, p);
  (await far.srf.attempt(0)).reject(withReason(503, ''));
  (await far.srf.attempt(1)).reject(withReason(503, ''));
  await settle();
  assert.equal(far.res.reasonHeader, 'SIP;cause=503;text="Service Unavailable"');
  assert.equal(cdrOf(far.lines)!.reasonOut, tls);
});

test('place-call: a BYE of ours answered 408 is a failed teardown: counted, logged with its code, in the CDR; the call still ends', async () => {
  const s = start('+442071234567');
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  (await s.srf.attempt(0)).resolve({ uas, uac });
  await settle();
  uas.byeStatus = 408;
  uac.connected = false;
  uac.emit('destroy');
  await settle();
  assert.equal(s.stats.calls.byeFailed, 1);
  assert.ok(s.lines.some((l) => l.code === 'ERR_B2BUA_BYE_FAILED' && l.leg === 'A'));
  const cdr = cdrOf(s.lines)!;
  assert.equal(cdr.byeFailed, 1);
  assert.equal(s.stats.calls.active, 0);
});

test('place-call: session timers: the B leg is asked for our interval; its 422 is retried once on the same target with its Min-SE; a caller below Min-SE gets 422', async () => {
  const p: B2buaPolicy = { ...policy, calls: { sessionTimer: { expiresSeconds: 120, minSeSeconds: 90 } } };
  const s = start('+442071234567', 'pbx', offer, {}, p);
  const first = await s.srf.attempt(0);
  assert.equal((first.opts.headers as Record<string, string>)['Session-Expires'], '120');
  first.reject(Object.assign(sipError(422), { res: { get: (n: string) => (n === 'Min-SE' ? '300' : undefined) } }));
  const again = await s.srf.attempt(1);
  assert.equal(again.uri, first.uri, 'the same target');
  assert.equal((again.opts.headers as Record<string, string>)['Session-Expires'], '300');
  assert.equal(s.stats.failovers, 0, 'a 422 retry is no failover');

  const short = start('+442071234567', 'pbx', offer, {}, p);
  // the fake INVITE carries what a timer-capable caller would
  const req = fakeInvite({ body: offer });
  const hdrs: Record<string, string> = { 'session-expires': '30', supported: 'timer' };
  const get = req.get.bind(req);
  req.get = (n: string) => hdrs[n.toLowerCase()] ?? get(n);
  req.locals = { ...short.req.locals! };
  const res = new FakeRes();
  placeCall({ ...short.deps, srf: short.srf })(req, res, () => assert.fail('last step'));
  await settle();
  assert.equal(res.status, 422);
  assert.equal(res.sent[0]!.opts?.headers?.['Min-SE'], '90');
});
