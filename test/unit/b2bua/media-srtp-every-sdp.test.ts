import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { B2buaPolicy } from '../../../src/b2bua/index.js';
import { answerRefused, prepareCallSdp, type CallSdp, type CallSdpInput } from '../../../src/b2bua/call-sdp.js';
import type { RtpenginePool, TenantMedia } from '../../../src/media/index.js';
import { settle } from './fake-srf.js';
import { cdrOf, start } from './middleware/place-call-rig.js';
import { inDialog, relay } from './pass-through-rig.js';
import { policy } from './pipeline-fakes.js';

// srtp: required holds for every offer and every answer of a call, not only the first offer.

const line = (proto: string, crypto = proto.includes('SAVP')) => `m=audio 4000 ${proto} 0\r\n${crypto ? 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n' : ''}`;
const sdp = (proto: string) => `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n${line(proto)}`;
const plain = sdp('RTP/AVP');
const sdes = sdp('RTP/SAVP');

const pbx: TenantMedia = { mode: 'flow-around', srtp: 'optional' };
const carrier: TenantMedia = { mode: 'flow-around', srtp: 'required' };
const input = (o: Partial<CallSdpInput> = {}): CallSdpInput => ({
  body: sdes, callId: 'c1', from: '<sip:1001@pbx>;tag=ft',
  tenantIn: { name: 'pbx', policy: { media: pbx } }, tenantOut: { name: 'carrier', policy: { media: carrier } }, ...o,
});
const ready = async (o: Partial<CallSdpInput> = {}): Promise<CallSdp> => {
  const r = await prepareCallSdp(input(o));
  assert.ok(r.ok);
  return r as CallSdp;
};
/** Lets a relayed request's whole promise chain run. */
const flush = () => new Promise((ok) => setImmediate(ok));
const refusedWith = (cause: string, text: RegExp) => (e: unknown) =>
  answerRefused(e) && e.status === 488 && e.cause === cause && text.test(e.reasonHeader) && e.code === 'ERR_B2BUA_SRTP_REFUSED';

test('a plain RTP/AVP answer from an srtp: required carrier to an SDES offer: the attempt ends with 488, a Reason, the CDR cause srtp', async () => {
  const p: B2buaPolicy = { ...policy, tenants: { ...policy.tenants, carrier: { ...policy.tenants.carrier!, srtpCrypto: undefined, media: carrier } } };
  const c = start('+442071234567', 'pbx', undefined, {}, p);
  const a = await c.srf.attempt(0);
  let thrown: unknown;
  try {
    await (a.opts.localSdpA as (s: string) => unknown)(plain);
  } catch (err) {
    thrown = err;
  }
  assert.ok(refusedWith('srtp', /^SIP;cause=488;text="SRTP \(SDES\) required on tenant carrier: the answer has audio RTP\/AVP"$/)(thrown));
  a.reject(thrown); // createB2BUA: the B leg gets ACK and BYE, the caller the failure
  await settle();
  assert.equal(c.res.status, 488);
  assert.match(c.res.reasonHeader ?? '', /^SIP;cause=488;text="SRTP \(SDES\) required on tenant carrier/);
  assert.equal(cdrOf(c.lines)?.cause, 'srtp');
  assert.equal(c.stats.cryptoRejected, 1);
});

test('an anchored call: the carrier\'s plain answer is refused before rtpengine sees it', async () => {
  const asked: string[] = [];
  const offer = async () => ({ sdp: sdes, session: { answer: async () => (asked.push('answer'), sdes), delete: async () => undefined } });
  // Neither tenant srtp: off: the call is anchored as two sessions on one instance (split-key-session.ts).
  const pool = { offer, anchor: (open: (on: unknown) => unknown) => open({ offer }) } as unknown as RtpenginePool;
  const r = await ready({ pool, body: plain, tenantOut: { name: 'carrier', policy: { media: { mode: 'flow-through', srtp: 'required' } } } });
  await assert.rejects(Promise.resolve(r.opts.localSdpA(plain, { get: () => '<sip:x@y>;tag=bt' })), refusedWith('srtp', /the answer has audio RTP\/AVP/));
  assert.deepEqual(asked, []);
});

test('a late offer: the carrier\'s plain offer in its 200 is refused, and so is a plain answer in the ACK from an srtp: required caller', async () => {
  const fromCarrier = await ready({ body: '' });
  assert.throws(() => fromCarrier.opts.localSdpA(plain), refusedWith('srtp', /required on tenant carrier: the offer has audio RTP\/AVP/));
  assert.equal(fromCarrier.opts.localSdpA(sdes), sdes);

  const strictCaller = await ready({ body: '', tenantIn: { name: 'pbx', policy: { media: carrier } }, tenantOut: { name: 'carrier', policy: { media: pbx } } });
  assert.equal(typeof strictCaller.opts.localSdpB, 'function');
  const ack = strictCaller.opts.localSdpB as (s: string) => Promise<string>;
  await assert.rejects(ack(plain), refusedWith('srtp', /required on tenant pbx: the answer has audio RTP\/AVP/));
  assert.equal(await ack(sdes), sdes);
});

test('in the call: a PBX re-INVITE or UPDATE offering RTP/AVP towards an srtp: required carrier is refused 488 and never reaches it', async () => {
  const r = relay({ media: (await ready()).inDialog! });
  const sent: Array<{ status: number; reason?: string | undefined }> = [];
  const res = { send: (status: number, o?: { headers?: Record<string, string> }) => void sent.push({ status, reason: o?.headers?.Reason }) };
  r.uas.emit('modify', inDialog(plain, { 'Content-Type': 'application/sdp' }), res);
  r.uas.emit('update', inDialog(plain, { 'Content-Type': 'application/sdp' }), res);
  await flush();
  assert.deepEqual(sent.map((s) => s.status), [488, 488]);
  assert.ok(sent.every((s) => /^SIP;cause=488;text="SRTP \(SDES\) required towards tenant carrier/.test(s.reason ?? '')));
  assert.deepEqual([r.uac.modified, r.uac.requests], [[], []], 'the carrier saw nothing');
  assert.deepEqual(r.stats.snapshot().inDialogRefused, { 488: 2 });
  assert.deepEqual(r.coded().map((l) => [l.method, l.policy]), [['INVITE', 'srtp']], 'one line for the PBX a window');
  // An SDES re-offer still goes through.
  r.uas.emit('modify', inDialog(sdes, { 'Content-Type': 'application/sdp' }), res);
  await flush();
  assert.deepEqual([sent.at(-1)?.status, r.uac.modified.length], [200, 1]);
});

test('in the call: a plain re-offer from the srtp: required carrier, and its plain answer to the PBX\'s re-INVITE or UPDATE, are refused 488', async () => {
  const r = relay({ media: (await ready()).inDialog! });
  const sent: number[] = [];
  const res = { send: (status: number) => void sent.push(status) };
  r.uac.emit('modify', inDialog(plain, { 'Content-Type': 'application/sdp' }), res);
  await flush();
  assert.deepEqual([sent, r.uas.modified], [[488], []]);

  r.uac.modifyAnswer = plain;
  r.uac.others = async () => ({ status: 200, body: plain, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined) });
  r.uas.emit('modify', inDialog(sdes, { 'Content-Type': 'application/sdp' }), res);
  r.uas.emit('update', inDialog(sdes, { 'Content-Type': 'application/sdp' }), res);
  await flush();
  assert.deepEqual(sent, [488, 488, 488], 'the PBX\'s re-INVITE and UPDATE fail; the call stays up');
  assert.deepEqual(r.lost, []);
  assert.ok(r.coded().some((l) => l.leg === 'A' && l.policy === 'srtp' && /leg A refused: SRTP \(SDES\) required on tenant carrier: the answer/.test(String(l.msg))));
});

test('an anchored call in the dialog: a plain re-offer from the srtp: required carrier is refused before rtpengine is asked', async () => {
  const asked: string[] = [];
  const session = {
    answer: async () => sdes, reoffer: async () => (asked.push('reoffer'), sdes), reanswer: async () => sdes, delete: async () => undefined,
  };
  const pool = { offer: async () => ({ sdp: sdes, session }) } as unknown as RtpenginePool;
  const call = await ready({ pool, body: plain, tenantIn: { name: 'pbx', policy: { media: { mode: 'flow-through', srtp: 'off' } } } });
  await assert.rejects(call.inDialog!.offer('B', plain), refusedWith('srtp', /required on tenant carrier: the offer has audio RTP\/AVP/));
  assert.deepEqual(asked, []);
  assert.match(await call.inDialog!.offer('A', plain), /RTP\/SAVP/, 'rtpengine secures what the PBX offers');
});
