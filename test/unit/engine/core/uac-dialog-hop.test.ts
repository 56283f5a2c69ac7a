// The next hop of a dialog's requests against crafted answers: a carrier's Record-Route or Contact naming this
// host, loopback or link-local is not followed. The carrier at 198.51.100.7 is never contacted: these functions
// only compute targets, and the deps below record what would be sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineDialog } from '../../../../src/engine/core/engine-dialog.js';
import { DialogStore } from '../../../../src/engine/core/dialog-store.js';
import { dialogTarget, learnRemote, sendAck, type AckDeps } from '../../../../src/engine/core/uac-dialog.js';
import { parseAppText } from '../../../../src/sip/message/index.js';
import type { SipRequest, SipResponse } from '../../../../src/sip/message/types.js';
import type { Flow, SendTarget } from '../../../../src/sip/transport/types.js';
import type { CounterName } from '../../../../src/engine/core/limits.js';
import type { SipFrameMeta } from '../../../../src/engine/types.js';

const CARRIER = '198.51.100.7';
const own = { isLocal: (a: string, p: number): boolean => a === '127.0.0.1' && p === 5060 };
const names = { resolve: (h: string): Promise<string> => Promise.resolve(h === 'lo.example' ? '127.0.0.1' : '192.0.2.10') };

function udpFrom(address: string, port = 5060): Flow {
  return { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: address, remotePort: port, listenerId: 'udp-1' };
}

function uacDialog(): EngineDialog {
  return new EngineDialog({
    role: 'uac', callId: 'c1', localTag: 'a', localUri: '<sip:gw@127.0.0.1>;tag=a', remoteUri: '<sip:+44@carrier>', localSeq: 1,
    localContact: '<sip:127.0.0.1:5060>',
  }, 'app1', 'application');
}

/** The 2xx to the dialog's INVITE from `flow`, with `lines` (Contact, Record-Route). */
function answer(d: EngineDialog, flow: Flow, lines: string[], dialogs: Pick<DialogStore, 'rekey'> = { rekey() {} }): void {
  const text = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'From: <sip:gw@127.0.0.1>;tag=a', 'To: <sip:+44@carrier>;tag=b',
    'Call-ID: c1', 'CSeq: 1 INVITE', ...lines, 'Content-Length: 0', '', ''].join('\r\n');
  learnRemote(dialogs, d, parseAppText(text) as SipResponse, flow, false);
}

function recorder() {
  const counted: { name: CounterName; code: string; reason: string }[] = [];
  return { counted, hops: { addr: own, guard: { counted: (name: CounterName, code: string, reason: string) => void counted.push({ name, code, reason }) } } };
}

const where = (t: SendTarget) => `${t.address}:${t.port}`;

test('a carrier\'s 200 with Record-Route <sip:127.0.0.1:9022;lr>: requests go to the 200\'s source, counted and logged once', () => {
  const d = uacDialog();
  answer(d, udpFrom(CARRIER), [`Contact: <sip:+44@${CARRIER}:5060>`, 'Record-Route: <sip:127.0.0.1:9022;lr>']);
  const r = recorder();
  assert.equal(where(dialogTarget(d, names, r.hops) as SendTarget), `${CARRIER}:5060`);
  assert.equal(where(dialogTarget(d, names, r.hops) as SendTarget), `${CARRIER}:5060`);
  assert.deepEqual(r.counted, [{ name: 'dialogHopRefused', code: 'ERR_ENGINE_DIALOG_HOP_REFUSED', reason: 'next hop 127.0.0.1:9022 is loopback' }]);
  // Without the engine's counters (a caller that has none) the class is still refused.
  const e = uacDialog();
  answer(e, udpFrom(CARRIER), ['Record-Route: <sip:169.254.169.254;lr>']);
  assert.equal(where(dialogTarget(e, names) as SendTarget), `${CARRIER}:5060`);
});

test('a Record-Route naming a host that resolves to loopback is refused once resolved', async () => {
  const d = uacDialog();
  answer(d, udpFrom(CARRIER), ['Record-Route: <sip:lo.example:9022;lr>']);
  assert.equal(where(await dialogTarget(d, names, recorder().hops)), `${CARRIER}:5060`);
  const ok = uacDialog();
  answer(ok, udpFrom(CARRIER), ['Record-Route: <sip:edge.example;lr>']);
  assert.equal(where(await dialogTarget(ok, names, recorder().hops)), '192.0.2.10:5060');
});

test('a callee on loopback may route through loopback, never through the gateway\'s own listener', () => {
  const d = uacDialog();
  answer(d, udpFrom('127.0.0.2', 5070), ['Contact: <sip:b@127.0.0.2:5070>', 'Record-Route: <sip:127.0.0.1:9022;lr>']);
  assert.equal(where(dialogTarget(d, names, recorder().hops) as SendTarget), '127.0.0.1:9022');
  const e = uacDialog();
  answer(e, udpFrom('127.0.0.2', 5070), ['Contact: <sip:b@127.0.0.2:5070>', 'Record-Route: <sip:127.0.0.1:5060;lr>']);
  assert.equal(where(dialogTarget(e, names, recorder().hops) as SendTarget), '127.0.0.2:5070');
  assert.equal(e.unsafeHop?.why, 'this gateway');
});

test('without a route set the callee\'s Contact is held to the same rule (the NAT rule already covers another host)', () => {
  const d = uacDialog();
  answer(d, udpFrom('127.0.0.1', 5070), ['Contact: <sip:b@127.0.0.1:5060>']);
  assert.equal(where(dialogTarget(d, names, recorder().hops) as SendTarget), '127.0.0.1:5070', 'its Contact is our listener');
  const e = uacDialog();
  answer(e, udpFrom(CARRIER), ['Contact: <sip:b@169.254.169.254>']);
  assert.equal(where(dialogTarget(e, names, recorder().hops) as SendTarget), `${CARRIER}:5060`);
});

test('a UAS dialog: the caller\'s Record-Route, or its Contact without one, is held to the same rule', () => {
  const uas = (routeSet: string[], remoteTarget: string): EngineDialog => new EngineDialog({
    role: 'uas', callId: 'c2', localTag: 'b', remoteTag: 'a', localUri: '<sip:gw@127.0.0.1>;tag=b', remoteUri: '<sip:alice@carrier>;tag=a',
    localSeq: 1, remoteSeq: 1, routeSet, remoteTarget, flow: udpFrom(CARRIER, 5070), localContact: '<sip:127.0.0.1:5060>',
  }, 'app1', 'network');
  const r = recorder();
  assert.equal(where(dialogTarget(uas(['<sip:127.0.0.1:9022;lr>', '<sip:edge.example;lr>'], `sip:alice@${CARRIER}`), names, r.hops) as SendTarget), `${CARRIER}:5070`);
  assert.equal(where(dialogTarget(uas([], 'sip:alice@[::1]:9022'), names, r.hops) as SendTarget), `${CARRIER}:5070`);
  assert.equal(where(dialogTarget(uas([], `sip:alice@${CARRIER}:5080`), names, r.hops) as SendTarget), `${CARRIER}:5080`);
  assert.equal(r.counted.length, 2);
});

test('with no source to fall back on, the request is not sent (ERR_ENGINE_DIALOG_HOP_REFUSED)', () => {
  const d = new EngineDialog({
    role: 'uac', callId: 'c3', localTag: 'a', localUri: '<sip:gw@127.0.0.1>;tag=a', remoteUri: '<sip:x@carrier>', localSeq: 1,
    remoteTarget: 'sip:x@224.0.0.1', localContact: '<sip:127.0.0.1:5060>',
  }, 'app1', 'application');
  assert.throws(() => dialogTarget(d, names, recorder().hops), { code: 'ERR_ENGINE_DIALOG_HOP_REFUSED' });
});

/** AckDeps that record what the engine would send and tell the app. */
function ackDeps(dialogs: DialogStore) {
  const sent: { method: string; target: SendTarget; request: SipRequest }[] = [];
  const sips: { meta: SipFrameMeta; sip: string }[] = [];
  const cdrs: string[][] = [];
  const r = recorder();
  const c: AckDeps = {
    ...r.hops,
    addr: { isLocal: own.isLocal, viaFor: (p) => `SIP/2.0/${p.toUpperCase()} 127.0.0.1:5060;rport;branch=z9hG4bKx` },
    send: {
      sendStateless: (m, target) => {
        sent.push({ method: (m as SipRequest).method, target, request: m as SipRequest });
        return Promise.resolve({} as Flow);
      },
      sendRequest: (m, o) => {
        sent.push({ method: m.method, target: o.target, request: m });
        return undefined as never;
      },
    },
    names,
    hub: { isConnected: () => true, sendSip: (_c, meta, sip) => void sips.push({ meta, sip }) },
    notify: { cdr: (_k, fields) => void cdrs.push(fields as string[]), now: () => 't' },
    dialogs,
  };
  return { c, sent, sips, cdrs, counted: r.counted };
}

function confirmedCall(dialogs: DialogStore, rr: string): EngineDialog {
  const d = uacDialog();
  dialogs.add(d);
  answer(d, udpFrom(CARRIER), [`Contact: <sip:+44@${CARRIER}:5060>`, `Record-Route: ${rr}`], dialogs);
  d.confirm()!.ackSeq = 1;
  return d;
}

test('the ACK of such a 200 goes to its source, then a BYE with a Reason ends the call there and the app is told', async () => {
  const dialogs = new DialogStore();
  const d = confirmedCall(dialogs, '<sip:127.0.0.1:9022;lr>');
  const x = ackDeps(dialogs);
  await sendAck(x.c, d, [], Buffer.alloc(0));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(x.sent.map((s) => `${s.method} ${where(s.target)}`), [`ACK ${CARRIER}:5060`, `BYE ${CARRIER}:5060`]);
  const bye = x.sent[1]!.request;
  assert.match(bye.headers.find((h) => h.name === 'reason')!.value, /^SIP;cause=403;text="/);
  assert.equal(bye.headers.find((h) => h.name === 'route')!.value, '<sip:127.0.0.1:9022;lr>', 'the route set is the dialog\'s; only the hop changed');
  assert.deepEqual(x.sips.map((s) => [s.sip.slice(0, 4), s.meta.transactionId]), [['BYE ', 'unsolicited']]);
  assert.deepEqual(x.cdrs.map((f) => f[2]), ['unsafe-next-hop']);
  assert.equal(dialogs.get(d.id), undefined);
  assert.equal(x.counted.length, 1);
});

test('no second BYE when the dialog already ended (CANCEL race) or the app sent a request after its ACK; an ordinary 200 is left alone', async () => {
  const dialogs = new DialogStore();
  const raced = confirmedCall(dialogs, '<sip:127.0.0.1:9022;lr>');
  const x = ackDeps(dialogs);
  const acked = sendAck(x.c, raced, [], Buffer.alloc(0));
  dialogs.end(raced);
  await acked;
  const d = confirmedCall(dialogs, '<sip:127.0.0.1:9022;lr>');
  const acked2 = sendAck(x.c, d, [], Buffer.alloc(0));
  d.nextSeq();
  await acked2;
  const fine = confirmedCall(dialogs, `<sip:${CARRIER}:5062;lr>`);
  await sendAck(x.c, fine, [], Buffer.alloc(0));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(x.sent.map((s) => `${s.method} ${where(s.target)}`), [`ACK ${CARRIER}:5060`, `ACK ${CARRIER}:5060`, `ACK ${CARRIER}:5062`]);
  assert.equal(dialogs.get(fine.id), fine);
});
