// The owner of the engine's refusal records: only new INVITEs refused with a final status become records; a token
// bucket bounds how many a second, the rest counted and named in one warn line; records go on a batch per turn (at
// most MAX_BATCH at once); a retransmission refused again is not a second call; closing hands on what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { MAX_BATCH, RecordBucket, RefusalRecords, type RefusalRecord } from '../../../src/engine/refusal-records.js';
import { parseMessage, type SipRequest } from '../../../src/sip/message/index.js';
import type { Flow } from '../../../src/sip/transport/types.js';

const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 5070 };
const REASON = 'SIP;cause=503;text="source over its request rate"';

let n = 0;
function request(method = 'INVITE', o: { toTag?: boolean; branch?: string; callId?: string } = {}): SipRequest {
  const i = ++n;
  const text = [`${method} sip:2000@gw.example SIP/2.0`, `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=${o.branch ?? `z9hG4bK-${i}`}`, 'Max-Forwards: 70',
    'From: <sip:1000@pbx.example>;tag=f', `To: <sip:2000@gw.example>${o.toTag ? ';tag=t' : ''}`, `Call-ID: ${o.callId ?? `c${i}@pbx`}`,
    `CSeq: 1 ${method}`, 'Content-Length: 0', '', ''].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok);
  return r.message as SipRequest;
}

function rig(o: { perSecond?: number; deliver?: boolean } = {}) {
  const clock = new ManualClock(1_000_000);
  const batches: RefusalRecord[][] = [];
  const turns: (() => void)[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const records = new RefusalRecords({
    clock, log, later: (fn) => turns.push(fn), ...(o.perSecond !== undefined ? { perSecond: o.perSecond } : {}),
    ...(o.deliver === false ? {} : { deliver: (b) => batches.push(b) }),
  });
  const endTurn = (): void => {
    for (const fn of turns.splice(0)) fn();
  };
  const refuse = (r = request()): void => records.refused(r, flow, 503, REASON, 'ERR_ENGINE_SOURCE_RATE');
  return { clock, batches, lines, records, endTurn, refuse, all: () => batches.flat() };
}

test('the bucket: full at the start (the burst), then its rate a second, never more than the burst however long it waits', () => {
  const b = new RecordBucket(2, 4, 0);
  const takes = (now: number, k: number) => Array.from({ length: k }, () => b.take(now)).filter(Boolean).length;
  assert.equal(takes(0, 10), 4, 'the burst');
  assert.equal(takes(499, 10), 0, 'not a whole token in 499 ms at 2 a second');
  assert.equal(takes(500, 10), 1);
  assert.equal(takes(1_500, 10), 2, 'a second more: its rate');
  assert.equal(takes(3_600_000, 100), 4, 'an hour idle fills it to the burst, no more');
  assert.equal(b.take(1_000), false, 'a clock that goes back gives nothing');
});

test('a refused new INVITE becomes a record, handed on at the end of the turn in one batch with the others', () => {
  const r = rig();
  r.refuse();
  r.refuse();
  assert.equal(r.batches.length, 0, 'nothing before the turn ends');
  r.endTurn();
  assert.equal(r.batches.length, 1);
  assert.deepEqual(r.batches[0]!.map((x) => [x.status, x.reason, x.code, x.time]), [[503, REASON, 'ERR_ENGINE_SOURCE_RATE', 1_000_000], [503, REASON, 'ERR_ENGINE_SOURCE_RATE', 1_000_000]]);
  assert.deepEqual(r.records.stats(), { perSecond: 50, written: 2, dropped: 0, retransmissions: 0, outsiders: { perSecond: 10, written: 0, dropped: 0 } });
});

test('only new INVITEs answered with a final failure are calls: other methods, in-dialog requests and a 1xx/2xx are not', () => {
  const r = rig();
  for (const m of ['OPTIONS', 'REGISTER', 'SUBSCRIBE', 'MESSAGE']) r.refuse(request(m));
  r.refuse(request('INVITE', { toTag: true }));
  r.records.refused(request(), flow, 200, REASON, 'ERR_ENGINE_SOURCE_RATE');
  r.endTurn();
  assert.equal(r.all().length, 0);
  assert.deepEqual(r.records.stats(), { perSecond: 50, written: 0, dropped: 0, retransmissions: 0, outsiders: { perSecond: 10, written: 0, dropped: 0 } });
});

test('past the bucket a refusal gets no record but is counted, with one warn line a minute naming the count', () => {
  const r = rig({ perSecond: 3 });
  for (let i = 0; i < 20; i++) r.refuse();
  r.endTurn();
  assert.equal(r.all().length, 6, 'the burst, twice the rate');
  assert.deepEqual(r.records.stats(), { perSecond: 3, written: 6, dropped: 14, retransmissions: 0, outsiders: { perSecond: 1, written: 0, dropped: 0 } });
  const warned = () => r.lines.filter((l) => l['code'] === 'ERR_ENGINE_REFUSAL_CDR_RATE');
  assert.equal(warned().length, 1);
  assert.equal(warned()[0]!['refusalRecordsDropped'], 1);
  r.clock.advance(1_000);
  for (let i = 0; i < 10; i++) r.refuse();
  r.endTurn();
  assert.equal(r.all().length, 9, 'a second later: its rate, no more');
  assert.equal(warned().length, 1, 'still one line within the minute');
  r.clock.advance(60_000);
  for (let i = 0; i < 200; i++) r.refuse();
  assert.equal(warned().length, 2);
  assert.equal(warned()[1]!['refusalRecordsDropped'], 22, 'the count so far at the first refusal past the refilled bucket');
  assert.equal(r.records.stats().dropped, 21 + 200 - 6);
});

test('a batch is bounded: a turn with more records than MAX_BATCH hands them on in batches of at most that', () => {
  const r = rig({ perSecond: 1_000 });
  for (let i = 0; i < MAX_BATCH * 2 + 10; i++) r.refuse();
  assert.deepEqual(r.batches.map((b) => b.length), [MAX_BATCH, MAX_BATCH], 'the full ones go at once');
  r.endTurn();
  assert.deepEqual(r.batches.map((b) => b.length), [MAX_BATCH, MAX_BATCH, 10]);
});

test('a retransmission of an INVITE already recorded, refused again, is not a second record and costs no token', () => {
  const r = rig({ perSecond: 1 });
  const first = request('INVITE', { branch: 'z9hG4bK-same', callId: 'same@pbx' });
  r.refuse(first);
  r.refuse(request('INVITE', { branch: 'z9hG4bK-same', callId: 'same@pbx' }));
  r.refuse(request('INVITE', { branch: 'z9hG4bK-other', callId: 'same@pbx' }));
  r.endTurn();
  assert.deepEqual(r.all().map((x) => x.callId), ['same@pbx', 'same@pbx'], 'a new branch is a new INVITE');
  assert.deepEqual(r.records.stats(), { perSecond: 1, written: 2, dropped: 0, retransmissions: 1, outsiders: { perSecond: 1, written: 0, dropped: 0 } });
  r.clock.advance(32_000);
  r.refuse(request('INVITE', { branch: 'z9hG4bK-same', callId: 'same@pbx' }));
  r.endTurn();
  assert.equal(r.all().length, 3, 'after Timer B (32 s) it is no longer a retransmission');
});

test('off: with a rate of 0 or nobody to hand records to, refusals make no records and no count', () => {
  for (const o of [{ perSecond: 0 }, { deliver: false }]) {
    const r = rig(o);
    for (let i = 0; i < 5; i++) r.refuse();
    r.endTurn();
    assert.equal(r.all().length, 0);
    assert.equal(r.records.enabled, false);
    assert.deepEqual(r.records.stats(), { perSecond: 0, written: 0, dropped: 0, retransmissions: 0, outsiders: { perSecond: 0, written: 0, dropped: 0 } });
  }
});

test('close hands on the records of this turn at once, and nothing after', () => {
  const r = rig();
  r.refuse();
  r.records.close();
  assert.equal(r.batches.length, 1);
  r.refuse();
  r.endTurn();
  assert.equal(r.all().length, 1);
});

test('the INVITEs remembered against retransmissions are bounded: past 4,096 within 32 s the oldest is forgotten', () => {
  // A flood of distinct refused INVITEs inside Timer B: the first is remembered until 4,096 newer ones push it out.
  const r = rig({ perSecond: 100_000 });
  const first = (): SipRequest => request('INVITE', { branch: 'z9hG4bK-first', callId: 'first@pbx' });
  r.refuse(first());
  for (let i = 0; i < 4_095; i++) r.refuse();
  r.refuse(first());
  assert.equal(r.records.stats().retransmissions, 1, 'with 4,096 remembered the first is still known');
  r.refuse();
  r.refuse(first());
  assert.equal(r.records.stats().retransmissions, 1, 'one more pushed it out: the table holds no more than 4,096');
  assert.equal(r.records.stats().written, 4_098);
});

test('outsiders have their own bucket and memory: a flood of untrusted sources leaves the tenants\' refused calls their records', () => {
  const r = rig({ perSecond: 50 });
  const untrusted = (req = request()): void => r.records.refused(req, flow, 403, 'SIP;cause=403;text="untrusted"', 'ERR_ENGINE_UNTRUSTED_SOURCE');
  for (let i = 0; i < 300; i++) untrusted();
  r.endTurn();
  assert.equal(r.all().length, 20, 'the outsiders\' burst: twice a fifth of 50');
  // A tenant's INVITE refused for overload still gets its record, and so do its next 99 (the tenants' burst).
  const tenantInvite = request();
  r.records.refused(tenantInvite, flow, 503, REASON, 'ERR_ENGINE_OVERLOAD', 'pbx');
  for (let i = 0; i < 99; i++) r.refuse();
  r.endTurn();
  const stats = r.records.stats();
  assert.equal(r.all().filter((x) => x.code === 'ERR_ENGINE_OVERLOAD').length, 1);
  assert.equal(stats.written, 120);
  assert.deepEqual(stats.outsiders, { perSecond: 10, written: 20, dropped: 280 });
  // The outsiders' 300 INVITEs did not push the tenant's out of the memory: its retransmission is no second record.
  for (let i = 0; i < 5_000; i++) untrusted();
  r.records.refused(tenantInvite, flow, 503, REASON, 'ERR_ENGINE_OVERLOAD', 'pbx');
  assert.equal(r.records.stats().retransmissions, 1);
});
