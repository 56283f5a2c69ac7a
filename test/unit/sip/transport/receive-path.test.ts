import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteInfo } from 'node:dgram';
import { ManualClock } from '../../../../src/common/index.js';
import { BadRequestRate } from '../../../../src/sip/transport/bad-request-rate.js';
import { RefusedInputLog } from '../../../../src/sip/transport/input-log.js';
import { ReceivePath, type ReceivePathOptions } from '../../../../src/sip/transport/receive-path.js';
import type { Flow } from '../../../../src/sip/transport/types.js';
import type { UdpTransport } from '../../../../src/sip/transport/udp-transport.js';
import { captureLog } from '../../../support/log-capture.js';

const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '192.0.2.9', remotePort: 5070, listenerId: 'u1' };
const rinfo = { address: '192.0.2.9', port: 5070, family: 'IPv4', size: 0 } as RemoteInfo;

function options(maxForwards = '70'): Buffer {
  return Buffer.from(`OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-1\r\nMax-Forwards: ${maxForwards}\r\n`
    + 'From: <sip:a@192.0.2.9>;tag=f1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: c1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
}

function rig(level = 'info', over: Partial<ReceivePathOptions> = {}) {
  const cap = captureLog(level);
  const clock = new ManualClock(0);
  const sent: Buffer[] = [];
  const udp = { flowFor: (r: RemoteInfo) => ({ ...flow, remoteAddress: r.address }), send: (d: Buffer) => (sent.push(d), Promise.resolve(flow)) } as unknown as UdpTransport;
  const rx = new ReceivePath({
    log: cap.log, refusedLog: new RefusedInputLog(cap.log, clock), parseLimits: undefined, stages: undefined, badRequests: new BadRequestRate(clock),
    udpListener: () => udp, emitBadRequest: () => undefined, emitDrop: () => undefined, wantsDrops: () => false, emitPing: () => undefined,
    ...over,
  });
  return { rx, cap, udp, sent, clock };
}

const linesOf = (records: Array<Record<string, unknown>>, code: string, minLevel = 30) =>
  records.filter((r) => r['code'] === code && (r['level'] as number) >= minLevel);

test('a transport user that throws on every message: each is counted and dropped, one warn line a minute, no stack above debug', () => {
  const { rx, cap, udp } = rig();
  rx.setUser({ onMessage: () => { throw new Error('boom'); } });
  for (let i = 0; i < 50; i++) rx.onDatagram(options(), rinfo, udp);
  assert.equal(rx.counters().userErrors, 50);
  assert.equal(rx.counters().dropped, 50);
  assert.equal(rx.drops()['ERR_SIP_TRANSPORT_USER'], 50);
  const lines = linesOf(cap.records, 'ERR_SIP_TRANSPORT_USER');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['level'], 40);
  assert.match(String(lines[0]!['reason']), /transport user threw: boom/);
  assert.equal(cap.records.some((r) => r['err'] !== undefined), false, 'no stack at info');
});

test('the receive path failing on every message: counted, one warn line a minute; the stack only at debug', () => {
  const stages = { received: () => { throw new Error('stage broke'); }, parsed: () => undefined };
  const { rx, cap, udp } = rig('info', { stages });
  for (let i = 0; i < 50; i++) rx.onDatagram(options(), rinfo, udp);
  assert.equal(rx.drops()['ERR_SIP_TRANSPORT_INTERNAL'], 50);
  assert.equal(linesOf(cap.records, 'ERR_SIP_TRANSPORT_INTERNAL').length, 1);
  assert.equal(cap.records.some((r) => (r['level'] as number) >= 50), false, 'no error lines');

  const dbg = rig('debug', { stages });
  dbg.rx.onDatagram(options(), rinfo, dbg.udp);
  const withStack = dbg.cap.records.filter((r) => r['code'] === 'ERR_SIP_TRANSPORT_INTERNAL' && r['level'] === 20 && r['err'] !== undefined);
  assert.equal(withStack.length, 1);
  assert.match(String((withStack[0]!['err'] as { stack?: string }).stack), /stage broke/);
});

test('400s to one source are bounded (5 a second, bursts of 10); past it bad requests are dropped, counted, one line a minute', () => {
  const { rx, cap, udp, sent, clock } = rig();
  for (let i = 0; i < 50; i++) rx.onDatagram(options('lots'), rinfo, udp);
  assert.equal(sent.length, 10, 'the burst');
  assert.equal(rx.counters().badRequestsSent, 10);
  assert.equal(rx.drops()['ERR_SIP_TRANSPORT_BAD_REQUEST_RATE'], 40);
  assert.equal(linesOf(cap.records, 'ERR_SIP_TRANSPORT_BAD_REQUEST_RATE').length, 1);
  clock.advance(1_000);
  for (let i = 0; i < 50; i++) rx.onDatagram(options('lots'), rinfo, udp);
  assert.equal(sent.length, 15, 'five more a second later');
  assert.equal(rx.drops()['ERR_SIP_TRANSPORT_BAD_REQUEST_RATE'], 85);
  rx.onDatagram(options('lots'), { ...rinfo, address: '192.0.2.10' }, udp);
  assert.equal(sent.length, 16, 'another source has its own');
  assert.match(sent[15]!.toString(), /^SIP\/2\.0 400 /);
});

test('the 400 bound keeps a bounded table of sources', () => {
  const clock = new ManualClock(0);
  const rate = new BadRequestRate(clock, 5, 1);
  for (let i = 0; i < 30_000; i++) assert.equal(rate.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), true);
  assert.ok(rate.sources <= 10_000, `${rate.sources} sources held`);
  assert.equal(rate.take('2001:db8::1'), true);
  assert.equal(rate.take('2001:db8::2'), false, 'one IPv6 /64 is one source');
});
