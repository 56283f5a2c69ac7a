import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeGuard } from '../../../src/engine/edge-guard.js';
import type { OverloadGuard } from '../../../src/engine/overload.js';
import type { SourceRate } from '../../../src/engine/source-rate.js';
import type { SourceTrust, TrustVerdict } from '../../../src/engine/source-trust.js';
import { parseMessage, type SipMessage } from '../../../src/sip/message/index.js';
import type { TransactionLayer } from '../../../src/sip/transaction/index.js';
import type { Flow, SendTarget } from '../../../src/sip/transport/types.js';
import type { TransportLayer } from '../../../src/sip/transport/index.js';

const msg = (method: string, extra = '', toTag = ''): SipMessage => {
  const text = `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-${method}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.9>;tag=f1\r\nTo: <sip:bob@127.0.0.1>${toTag}\r\nCall-ID: c1@x\r\n` +
    `CSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok, text);
  return r.message;
};
const response = (): SipMessage => {
  const r = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n' +
    'To: <sip:b@c>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'));
  assert.ok(r.ok);
  return r.message;
};

const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.9', remotePort: 5070, listenerId: 'L1' };

function rig(o: {
  trust?: (m: SipMessage, f: Flow, t: string | undefined, stray?: boolean) => TrustVerdict; rate?: 'admit' | 'reject' | 'drop'; rateOff?: boolean; known?: boolean;
  /** Whether a CANCEL matches an INVITE server transaction. */
  invite?: boolean;
  /** Whether the core knows the dialog of an in-dialog request; absent: the guard is built without the core's dialogs. */
  dialog?: boolean;
  overload?: 'admit' | 'reject' | 'drop';
}) {
  const sent: { text: string; target: SendTarget }[] = [];
  const passed: { m: SipMessage; flow: Flow }[] = [];
  const judged: (string | undefined)[] = [];
  const charged: Flow[] = [];
  const strays: string[] = [];
  const told: { method: string; flow: Flow; status: number; reason: string; code: string; tenant: string | undefined }[] = [];
  const trust = o.trust && ({ judge: (m: SipMessage, f: Flow, t: string | undefined, stray?: boolean) => (judged.push(t), o.trust!(m, f, t, stray)) } as unknown as SourceTrust);
  const rate = o.rate && ({ enabled: !o.rateOff, take: (f: Flow) => (charged.push(f), o.rate) } as unknown as SourceRate);
  const guard = edgeGuard({ onMessage: (m, _raw, f) => passed.push({ m, flow: f }) }, {
    transport: { send: (b: Buffer, target: SendTarget) => (sent.push({ text: b.toString(), target }), Promise.resolve(flow)) } as unknown as TransportLayer,
    transactions: { hasServerTransaction: () => o.known === true, findInviteServerTransaction: () => (o.invite === true ? {} : undefined) } as unknown as TransactionLayer,
    trust, rate, listenerTenant: (id) => (id === 'L1' ? 'lan' : undefined), retryAfterSeconds: 7,
    records: { refused: (m, f, status, reason, code, tenant) => void told.push({ method: m.method, flow: f, status, reason, code, tenant }) },
    ...(o.overload ? { overload: { enabled: true, watching: false, admitInvite: () => o.overload, absorbAck: () => false } as unknown as OverloadGuard } : {}),
    ...(o.dialog === undefined ? {} : { dialogs: { dialogPeer: () => (o.dialog! ? { ends: [] } : undefined), strayInDialog: (m: SipMessage) => strays.push((m as { method: string }).method) } }),
  });
  return { guard, sent, passed, judged, charged, strays, told };
}

test('an untrusted new request gets a stateless 403 with a Reason, to its Via, and goes no further', () => {
  const r = rig({ trust: () => ({ admit: false, action: 'reject', cause: 'untrusted-source' }), rate: 'admit' });
  r.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.equal(r.passed.length, 0);
  assert.equal(r.charged.length, 0, 'a refused source is not charged');
  assert.equal(r.sent.length, 1);
  assert.match(r.sent[0]!.text, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.match(r.sent[0]!.text, /\r\nReason: SIP;cause=403;text="untrusted source"\r\n/);
  assert.match(r.sent[0]!.text, /\r\nTo: <sip:bob@127\.0\.0\.1>;tag=\S+\r\n/);
  assert.equal(r.sent[0]!.target.address, '127.0.0.9');
  assert.equal(r.sent[0]!.target.port, 5070);
  assert.deepEqual(r.judged, ['lan']);
});

test('with action drop an untrusted request gets nothing at all', () => {
  const r = rig({ trust: () => ({ admit: false, action: 'drop', cause: 'untrusted-source' }) });
  r.guard.onMessage(msg('OPTIONS'), Buffer.alloc(0), flow);
  assert.deepEqual([r.sent.length, r.passed.length], [0, 0]);
});

test('an admitted request carries the trusting tenant on a copy of its flow; the shared flow is left alone', () => {
  const r = rig({ trust: () => ({ admit: true, tenant: 'carrier' }) });
  r.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.equal(r.passed[0]!.flow.tenant, 'carrier');
  assert.notEqual(r.passed[0]!.flow, flow);
  assert.equal(flow.tenant, undefined);
  const same = rig({ trust: () => ({ admit: true, tenant: 'carrier' }) });
  const own = { ...flow, tenant: 'carrier' };
  same.guard.onMessage(msg('INVITE'), Buffer.alloc(0), own);
  assert.equal(same.passed[0]!.flow, own, 'no copy when the tenant is already there');
  const noTenant = rig({ trust: () => ({ admit: true }) });
  noTenant.guard.onMessage(msg('INVITE'), Buffer.alloc(0), { ...flow, listenerId: undefined });
  assert.equal(noTenant.passed[0]!.flow.tenant, undefined);
  assert.deepEqual(noTenant.judged, [undefined]);
});

test('a source over its rate gets 503 with Retry-After and a Reason; with drop, nothing; under it, the request passes', () => {
  const over = rig({ rate: 'reject' });
  over.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.equal(over.passed.length, 0);
  assert.match(over.sent[0]!.text, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.match(over.sent[0]!.text, /\r\nRetry-After: 7\r\n/);
  assert.match(over.sent[0]!.text, /\r\nReason: SIP;cause=503;text="source over its request rate"\r\n/);
  const dropped = rig({ rate: 'drop' });
  dropped.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual([dropped.sent.length, dropped.passed.length], [0, 0]);
  const under = rig({ rate: 'admit' });
  under.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual([under.sent.length, under.passed.length, under.charged.length], [0, 1, 1]);
});

test('only requests that start something are charged: not responses, ACK, CANCEL, in-dialog requests or retransmissions', () => {
  const r = rig({ rate: 'drop' });
  for (const m of [response(), msg('ACK'), msg('CANCEL'), msg('BYE', '', ';tag=t2')]) r.guard.onMessage(m, Buffer.alloc(0), flow);
  assert.equal(r.charged.length, 0);
  assert.equal(r.passed.length, 4);
  const retrans = rig({ rate: 'drop', known: true });
  retrans.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual([retrans.charged.length, retrans.passed.length], [0, 1]);
  const off = rig({ rate: 'drop', rateOff: true });
  off.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual([off.charged.length, off.passed.length], [0, 1]);
});

test('an in-dialog request matching no dialog is judged and charged as a new one, then answered 481 statelessly', () => {
  const r = rig({ trust: (_m, _f, _t, stray) => (stray === true ? { admit: true } : { admit: false, action: 'drop', cause: 'untrusted-source' }), rate: 'admit', dialog: false });
  r.guard.onMessage(msg('BYE', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.equal(r.passed.length, 0, 'no transaction is made for it: the core never sees it');
  assert.deepEqual(r.strays, ['BYE']);
  assert.equal(r.charged.length, 1, 'charged to its source like a new request');
  assert.equal(r.sent.length, 1);
  assert.match(r.sent[0]!.text, /^SIP\/2\.0 481 Call\/Transaction Does Not Exist\r\n/);
  assert.match(r.sent[0]!.text, /\r\nReason: SIP;cause=481;text="no such dialog"\r\n/);
  assert.match(r.sent[0]!.text, /\r\nTo: <sip:bob@127\.0\.0\.1>;tag=t2\r\n/, 'its own To tag stays');
  // An untrusted source's stray gets what any of its new requests gets; over its rate, the 503.
  const untrusted = rig({ trust: (_m, _f, _t, stray) => (stray ? { admit: false, action: 'reject', cause: 'untrusted-source' } : { admit: true }), dialog: false });
  untrusted.guard.onMessage(msg('INVITE', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.match(untrusted.sent[0]!.text, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.deepEqual([untrusted.sent.length, untrusted.passed.length, untrusted.strays.length], [1, 0, 0]);
  const over = rig({ rate: 'drop', dialog: false });
  over.guard.onMessage(msg('INFO', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.deepEqual([over.sent.length, over.passed.length, over.charged.length], [0, 0, 1]);
});

test('an in-dialog request of a known dialog, a retransmission, an ACK or a CANCEL for an INVITE is no stray: it passes uncharged', () => {
  const known = rig({ rate: 'drop', dialog: true });
  known.guard.onMessage(msg('BYE', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.deepEqual([known.passed.length, known.charged.length, known.strays.length, known.sent.length], [1, 0, 0, 0]);
  const retrans = rig({ rate: 'drop', dialog: false, known: true });
  retrans.guard.onMessage(msg('BYE', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.deepEqual([retrans.passed.length, retrans.charged.length, retrans.strays.length], [1, 0, 0]);
  const other = rig({ rate: 'drop', dialog: false, invite: true });
  for (const m of [msg('ACK', '', ';tag=t2'), msg('CANCEL', '', ';tag=t2'), msg('CANCEL'), response()]) other.guard.onMessage(m, Buffer.alloc(0), flow);
  assert.deepEqual([other.passed.length, other.charged.length, other.strays.length], [4, 0, 0]);
  const resent = rig({ rate: 'drop', dialog: false, known: true });
  resent.guard.onMessage(msg('CANCEL', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.deepEqual([resent.passed.length, resent.charged.length, resent.strays.length], [1, 0, 0], 'a CANCEL that has its own transaction');
});

test('a CANCEL for no INVITE, with a To tag or without, is judged and charged as a new request, then answered 481 statelessly', () => {
  const r = rig({ trust: (_m, _f, _t, stray) => (stray === true ? { admit: true } : { admit: false, action: 'drop', cause: 'untrusted-source' }), rate: 'admit', dialog: true });
  r.guard.onMessage(msg('CANCEL', '', ';tag=t2'), Buffer.alloc(0), flow);
  r.guard.onMessage(msg('CANCEL'), Buffer.alloc(0), flow);
  assert.equal(r.passed.length, 0, 'no transaction is made for it: the core never sees it');
  assert.deepEqual(r.strays, ['CANCEL', 'CANCEL'], 'counted by the core');
  assert.equal(r.charged.length, 2, 'charged to its source like a new request');
  assert.equal(r.sent.length, 2);
  for (const s of r.sent) {
    assert.match(s.text, /^SIP\/2\.0 481 Call\/Transaction Does Not Exist\r\n/);
    assert.match(s.text, /\r\nReason: SIP;cause=481;text="no such transaction"\r\n/);
    assert.match(s.text, /\r\nCSeq: 1 CANCEL\r\n/);
  }
  // From a source no tenant trusts: the 403 its new requests get, To tag or not; over its rate, the 503.
  const untrusted = rig({ trust: () => ({ admit: false, action: 'reject', cause: 'untrusted-source' }), rate: 'admit', dialog: false });
  untrusted.guard.onMessage(msg('CANCEL', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.match(untrusted.sent[0]!.text, /^SIP\/2\.0 403 Forbidden\r\n/);
  assert.deepEqual([untrusted.sent.length, untrusted.passed.length, untrusted.strays.length, untrusted.charged.length], [1, 0, 0, 0]);
  const over = rig({ rate: 'reject', dialog: false });
  over.guard.onMessage(msg('CANCEL', '', ';tag=t2'), Buffer.alloc(0), flow);
  assert.match(over.sent[0]!.text, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.deepEqual([over.sent.length, over.passed.length, over.strays.length, over.charged.length], [1, 0, 0, 1]);
});

test('a TCP/TLS connection is marked used by a request the trust check admitted or a dialog matched; not by a refused one, an ACK or a response', () => {
  const tcp: Flow = { ...flow, protocol: 'tcp', connectionId: 'tcp-1' };
  const run = (verdict: TrustVerdict | undefined, m: SipMessage, dialog?: boolean): number => {
    let used = 0;
    const guard = edgeGuard({ onMessage: () => undefined }, {
      transport: { send: () => Promise.resolve(tcp), markUsed: (f: Flow) => { assert.equal(f.connectionId, 'tcp-1'); used++; } } as unknown as TransportLayer,
      transactions: { hasServerTransaction: () => false, findInviteServerTransaction: () => ({}) } as unknown as TransactionLayer,
      trust: verdict && ({ judge: () => verdict } as unknown as SourceTrust), rate: undefined,
      listenerTenant: () => undefined, retryAfterSeconds: 7,
      ...(dialog === undefined ? {} : { dialogs: { dialogPeer: () => (dialog ? { ends: [] } : undefined) } }),
    });
    guard.onMessage(m, Buffer.alloc(0), tcp);
    return used;
  };
  const admitted: TrustVerdict = { admit: true, tenant: 'carrier' };
  const unjudged: TrustVerdict = { admit: true };
  assert.equal(run(admitted, msg('INVITE')), 1);
  assert.equal(run({ admit: false, action: 'reject', cause: 'untrusted-source' }, msg('INVITE')), 0, 'answered 403');
  assert.equal(run({ admit: false, action: 'drop', cause: 'reject-rate' }, msg('INVITE')), 0);
  assert.equal(run(unjudged, msg('ACK')), 0);
  assert.equal(run(unjudged, response()), 0);
  assert.equal(run(unjudged, msg('BYE', '', ';tag=t1'), true), 1, 'an in-dialog request of a known dialog');
  assert.equal(run(unjudged, msg('CANCEL', '', ';tag=t1'), true), 0, 'a CANCEL with a To tag for an INVITE passes unjudged');
  assert.equal(run(admitted, msg('BYE', '', ';tag=t1'), false), 1, 'a stray one from a trusted source (answered 481)');
  assert.equal(run(undefined, msg('OPTIONS')), 1, 'no trust check: every request');
  assert.equal(run(undefined, msg('ACK')), 0);
});

test('each refusal the guard answers is told for the CDRs, with its status, the Reason sent, its code and tenant; a drop is not', () => {
  const untrusted = rig({ trust: () => ({ admit: false, action: 'reject', cause: 'untrusted-source', tenant: 'lan' }) });
  untrusted.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual(untrusted.told.map((x) => [x.method, x.status, x.reason, x.code, x.tenant]),
    [['INVITE', 403, 'SIP;cause=403;text="untrusted source"', 'ERR_ENGINE_UNTRUSTED_SOURCE', 'lan']]);
  const rate = rig({ trust: () => ({ admit: true, tenant: 'carrier' }), rate: 'reject' });
  rate.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual(rate.told.map((x) => [x.status, x.reason, x.code, x.flow.tenant]),
    [[503, 'SIP;cause=503;text="source over its request rate"', 'ERR_ENGINE_SOURCE_RATE', 'carrier']], 'on the admitted flow, with its tenant');
  const shed = rig({ rate: 'admit', overload: 'reject' });
  shed.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual(shed.told.map((x) => [x.status, x.reason, x.code]), [[503, 'SIP;cause=503;text="overloaded"', 'ERR_ENGINE_OVERLOAD']]);
  assert.match(shed.sent[0]!.text, /^SIP\/2\.0 503 /);
  const dropped = [
    rig({ trust: () => ({ admit: false, action: 'drop', cause: 'untrusted-source' }) }), rig({ rate: 'drop' }), rig({ rate: 'admit', overload: 'drop' }),
  ];
  for (const d of dropped) d.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual(dropped.map((d) => [d.sent.length, d.told.length]), [[0, 0], [0, 0], [0, 0]], 'no answer, nothing to record');
  const passed = rig({ trust: () => ({ admit: true, tenant: 'carrier' }), rate: 'admit', overload: 'admit' });
  passed.guard.onMessage(msg('INVITE'), Buffer.alloc(0), flow);
  assert.deepEqual([passed.passed.length, passed.told.length], [1, 0]);
});
