// A request the transport answered 400 itself, as the engine's refusal records take it: a new INVITE is a refused
// call (status 400, the parse error's code, the Reason the 400 carried), read from the request as far as it was
// parsed; garbage or missing fields give capped or null fields, never a throw. The records' bucket and their memory
// of retransmissions apply as to any refusal; other methods, an ACK and an in-dialog INVITE get no record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { MAX_FIELD_CHARS, type RefusalRecord } from '../../../src/engine/refusal-record.js';
import { RefusalRecords } from '../../../src/engine/refusal-records.js';
import { parseMessage, type SipHeader, type SipRequest } from '../../../src/sip/message/index.js';
import type { BadRequestReport, Flow } from '../../../src/sip/transport/types.js';

const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.7', remotePort: 40123, listenerId: 'L1' };

function harness(perSecond = 50): { records: RefusalRecords; out: RefusalRecord[] } {
  const out: RefusalRecord[] = [];
  const records = new RefusalRecords({
    perSecond, clock: new ManualClock(1_000_000), log: pino({ level: 'silent' }),
    deliver: (batch) => out.push(...batch), later: (fn) => fn(),
  });
  return { records, out };
}

/** The parser's verdict on a request, with the partial request it still could address. */
function refusedByParser(lines: string[]): BadRequestReport {
  const r = parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n')));
  assert.ok(!r.ok && r.partial, 'the parser refuses it but can address a 400');
  return { code: r.code, reason: r.reason, flow, request: r.partial };
}

function request(o: { method?: string; branch?: string; callId?: string; to?: string; extra?: string } = {}): string[] {
  const method = o.method ?? 'INVITE';
  return [`${method} sip:4000@gw.example SIP/2.0`, `Via: SIP/2.0/UDP 192.0.2.7:40123;branch=${o.branch ?? 'z9hG4bK-b1'}`, 'Max-Forwards: 70',
    'From: "Alice" <sip:1000@pbx.example>;tag=a1', `To: ${o.to ?? '<sip:4000@gw.example>'}`, `Call-ID: ${o.callId ?? 'call-1@pbx'}`,
    `CSeq: 1 ${method}`, o.extra ?? '%58-Trunkgate-Peer: x'];
}

test('a new INVITE refused 400 by the parser is recorded: status 400, the code, the Reason sent, Call-ID, numbers and source', () => {
  const { records, out } = harness();
  const report = refusedByParser(request());
  records.badRequest(report);
  assert.equal(out.length, 1);
  assert.deepEqual({ ...out[0], time: 0 }, {
    time: 0, callId: 'call-1@pbx', callingNumber: '1000', calledNumber: '4000', sourceAddress: '192.0.2.7', sourcePort: 40123,
    transport: 'udp', listener: '127.0.0.1:5060', tenant: null, status: 400,
    reason: `SIP;cause=400;text="${report.reason}"`, code: 'ERR_SIP_PARSE_HEADER',
  });
  assert.match(out[0]!.reason, /%58-Trunkgate-Peer/);
  assert.deepEqual(records.stats(), { perSecond: 50, written: 1, dropped: 0, retransmissions: 0, outsiders: { perSecond: 10, written: 1, dropped: 0 } });
});

test('the partial requests the parser hands on: two From tags, a bad Request-URI, a bad Call-ID each make one record', () => {
  const { records, out } = harness();
  const twoTags = request({ callId: 'c-from', extra: 'X-A: 1' }).map((l) => (l.startsWith('From:') ? `${l};tag=a2` : l));
  const badUri = request({ callId: 'c-uri', extra: 'X-A: 1' }).map((l, i) => (i === 0 ? 'INVITE sip:4000@gw example SIP/2.0' : l));
  const badCallId = request({ callId: 'a b c', extra: 'X-A: 1' });
  for (const lines of [twoTags, badUri, badCallId]) assert.doesNotThrow(() => records.badRequest(refusedByParser(lines)));
  assert.deepEqual(out.map((r) => [r.status, r.code, r.callId]),
    [[400, 'ERR_SIP_PARSE_FROM', 'c-from'], [400, 'ERR_SIP_PARSE_URI', 'c-uri'], [400, 'ERR_SIP_PARSE_CALL_ID', 'a b c']]);
  assert.equal(out[1]!.calledNumber, '4000', 'the number a refused Request-URI still holds, as the policy would read it');
});

test('garbage in every field of a partial request: no throw, every string capped, control characters replaced', () => {
  const { records, out } = harness();
  const h = (name: string, value: string): SipHeader => ({ name, raw: name, value });
  const huge = 'x'.repeat(100_000);
  const garbage: SipRequest = {
    kind: 'request', method: 'INVITE', uri: `sip:${huge}@gw`, version: 'SIP/2.0', body: Buffer.alloc(0),
    headers: [h('via', `SIP/2.0/UDP 192.0.2.7;branch=${huge}`), h('from', `<sip:\u0000${'9'.repeat(1_000)}@x`), h('to', '<<<;tag'),
      h('call-id', `\r\n${huge}`), h('cseq', 'nonsense')],
  };
  const noCallId: SipRequest = { ...garbage, uri: '', headers: [h('via', 'SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-2'), h('from', ''), h('to', '')] };
  assert.doesNotThrow(() => records.badRequest({ code: 'ERR_SIP_PARSE_HEADER', reason: `\u0000${huge}`, flow, request: garbage }));
  assert.doesNotThrow(() => records.badRequest({ code: 'ERR_SIP_PARSE_HEADER', reason: '', flow, request: noCallId }));
  assert.equal(out.length, 2);
  const [a, b] = out as [RefusalRecord, RefusalRecord];
  for (const v of [a.callId, a.callingNumber, a.calledNumber, a.reason]) {
    assert.ok(v === null || (v.length <= MAX_FIELD_CHARS && !/[\u0000-\u001f]/.test(v)), `bounded and clean: ${String(v).slice(0, 40)}`);
  }
  assert.deepEqual([b.callId, b.callingNumber, b.calledNumber, b.status], [null, null, null, 400]);
});

test('a retransmission (same Call-ID and branch) is no second record; the records\' bucket bounds a flood of them', () => {
  const { records, out } = harness(1); // burst 2, and the manual clock never refills it
  const first = refusedByParser(request());
  records.badRequest(first);
  records.badRequest(refusedByParser(request()));
  assert.equal(out.length, 1);
  for (let i = 2; i <= 4; i++) records.badRequest(refusedByParser(request({ branch: `z9hG4bK-b${i}`, callId: `call-${i}@pbx` })));
  assert.deepEqual(out.map((r) => r.callId), ['call-1@pbx', 'call-2@pbx']);
  assert.deepEqual(records.stats(), { perSecond: 1, written: 2, dropped: 2, retransmissions: 1, outsiders: { perSecond: 1, written: 2, dropped: 2 } });
});

test('an OPTIONS, an ACK and an INVITE with a To tag refused 400 by the parser are no calls: no record', () => {
  const { records, out } = harness();
  records.badRequest(refusedByParser(request({ method: 'OPTIONS' })));
  records.badRequest(refusedByParser(request({ method: 'ACK' })));
  records.badRequest(refusedByParser(request({ to: '<sip:4000@gw.example>;tag=t1' })));
  assert.equal(out.length, 0);
  assert.deepEqual(records.stats(), { perSecond: 50, written: 0, dropped: 0, retransmissions: 0, outsiders: { perSecond: 10, written: 0, dropped: 0 } });
});
