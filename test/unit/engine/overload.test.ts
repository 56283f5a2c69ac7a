import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../src/common/clock.js';
import { edgeGuard } from '../../../src/engine/edge-guard.js';
import { OverloadGuard, viaKey, type LoadWindow, type OverloadOptions } from '../../../src/engine/overload.js';
import { LoadSampler, queueMs } from '../../../src/engine/load-sampler.js';
import { parseMessage, type SipMessage } from '../../../src/sip/message/index.js';
import type { TransactionLayer } from '../../../src/sip/transaction/index.js';
import type { TransportLayer } from '../../../src/sip/transport/index.js';
import type { Flow, SendTarget } from '../../../src/sip/transport/types.js';

function rig(o: OverloadOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const q = { unanswered: 0 };
  const seen: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void seen.push(JSON.parse(l) as Record<string, unknown>) });
  const guard = new OverloadGuard(o, { log, clock, unansweredInvites: () => q.unanswered });
  const calm: LoadWindow = { utilization: 0.2, delayMs: 1 };
  return { clock, q, guard, lines: seen, calm };
}
const verdicts = (g: OverloadGuard, n: number) => Array.from({ length: n }, () => g.admitInvite());
const count = (v: string[], x: string) => v.filter((y) => y === x).length;

test('calm windows: every new INVITE is admitted, nothing counted or logged; utilization is not watched unless set', () => {
  const r = rig();
  for (let i = 0; i < 10; i++) r.guard.window({ utilization: 1, delayMs: 250, queuedBytes: 262_144, queueMs: 150 });
  assert.equal(count(verdicts(r.guard, 100), 'admit'), 100, 'the limits themselves are not overload');
  const s = r.guard.stats();
  assert.deepEqual([s.shedding, s.admitShare, s.episodes, s.rejected, s.dropped], [false, 1, 0, 0, 0]);
  assert.equal(r.lines.length, 0);
});

test('a saturated window cuts the admitted share by 15%, a kernel backlog by 40%, and calm windows give it back a tenth at a time', () => {
  const r = rig({ maxUtilization: 0.9 });
  r.guard.window({ utilization: 0.95, delayMs: 0 });
  assert.equal(r.guard.stats().admitShare, 0.85);
  const v = verdicts(r.guard, 100);
  assert.equal(count(v, 'admit'), 85, 'the admitted share is exact over a run, not a coin toss');
  assert.equal(count(v, 'reject'), 15);
  r.guard.window({ utilization: 0.1, delayMs: 0, queuedBytes: 300_000, queueMs: 151 });
  assert.ok(Math.abs(r.guard.stats().admitShare - 0.51) < 1e-9);
  r.guard.window({ utilization: 0.1, delayMs: 251 });
  assert.ok(Math.abs(r.guard.stats().admitShare - 0.4335) < 1e-9, 'event-loop delay counts too');
  for (let i = 0; i < 5; i++) r.guard.window(r.calm);
  assert.ok(Math.abs(r.guard.stats().admitShare - 0.9335) < 1e-9);
  assert.equal(r.guard.stats().shedding, true);
  r.guard.window(r.calm);
  assert.deepEqual([r.guard.stats().admitShare, r.guard.stats().shedding], [1, false]);
  const s = r.guard.stats();
  assert.equal(s.episodes, 1);
  assert.equal(s.byCause.utilization, 15);
  const warn = r.lines.filter((l) => l.level === 40);
  assert.equal(warn.length, 1, 'one warn line for the episode');
  assert.deepEqual([warn[0]!.code, warn[0]!.cause], ['ERR_ENGINE_OVERLOAD', 'utilization']);
  const ended = r.lines.filter((l) => l.level === 30);
  assert.deepEqual([ended.length, ended[0]!.shed], [1, 15], 'the end is logged once, with what was shed');
});

test('a backlog or a late loop while new INVITEs are under 5% of the datagrams read is not blamed on calls: nothing is shed', () => {
  const r = rig();
  for (let i = 0; i < 4; i++) r.guard.admitInvite();
  r.guard.window({ utilization: 1, delayMs: 300, queueMs: 500, datagramsRead: 100 });
  assert.deepEqual([r.guard.stats().admitShare, r.guard.stats().notFromCalls], [1, 1], '4 INVITEs in 100 datagrams');
  for (let i = 0; i < 5; i++) r.guard.admitInvite();
  r.guard.window({ utilization: 1, delayMs: 0, queueMs: 500, datagramsRead: 100 });
  assert.equal(r.guard.stats().admitShare, 0.6, '5 in 100: the calls are the load');
});

test('while shedding, a source light in this second and the one before passes, within a tenth of the last second\'s INVITEs', () => {
  const r = rig({ lightSourceInvites: 3 });
  // The room for light sources a second: a tenth of the last second's INVITEs (100 here), at least 5 × 3.
  const second = (n: number) => {
    for (let w = 0; w < 10; w++) {
      for (let i = 0; i < n; i++) r.guard.admitInvite(undefined, '10.0.0.1');
      r.guard.window({ utilization: 1, delayMs: 0, queueMs: 500, datagramsRead: 10 * n });
    }
  };
  second(100);
  assert.equal(r.guard.stats().admitShare, 0.05, 'a second of backlog: the floor');
  const light0 = r.guard.stats().lightAdmitted;
  const pbx = Array.from({ length: 4 }, () => r.guard.admitInvite(undefined, '10.0.0.2'));
  assert.deepEqual(pbx.slice(0, 3), ['admit', 'admit', 'admit']);
  assert.equal(r.guard.stats().lightAdmitted - light0, 3, 'three light INVITEs, the fourth takes the share');
  const heavy = Array.from({ length: 100 }, () => r.guard.admitInvite(undefined, '10.0.0.1'));
  assert.ok(count(heavy, 'admit') <= 6, `the heavy source gets the share only: ${count(heavy, 'admit')} of 100`);
  for (let i = 0; i < 200; i++) r.guard.admitInvite(undefined, `10.0.1.${i}`);
  assert.equal(r.guard.stats().lightAdmitted - light0, 100, 'a tenth of the 1,000 INVITEs of the last second, no more');
  second(0);
  assert.equal(r.guard.admitInvite(undefined, '10.0.0.2') === 'admit' && r.guard.stats().lightAdmitted - light0 > 100, false,
    'the PBX sent four in the second before: not light now');
  assert.equal(r.guard.admitInvite(undefined, '10.0.2.1'), 'admit', 'a new source is');
});

test('the admitted share never falls below 5%', () => {
  const r = rig();
  for (let i = 0; i < 100; i++) r.guard.window({ utilization: 1, delayMs: 500, queueMs: 10_000 });
  assert.equal(r.guard.stats().admitShare, 0.05);
  assert.equal(count(verdicts(r.guard, 100), 'admit'), 5);
});

test('at the unanswered-INVITE limit every new INVITE is shed; below it they pass again', () => {
  const r = rig({ maxUnansweredInvites: 10 });
  r.q.unanswered = 9;
  assert.equal(r.guard.admitInvite(), 'admit');
  r.q.unanswered = 10;
  assert.deepEqual(verdicts(r.guard, 3), ['reject', 'reject', 'reject']);
  assert.equal(r.guard.stats().byCause['unanswered-invites'], 3);
  assert.equal(r.guard.stats().shedding, true);
  r.q.unanswered = 0;
  assert.equal(r.guard.admitInvite(), 'admit');
  assert.equal(r.guard.stats().shedding, true, 'the episode ends at the end of its window, not INVITE by INVITE');
  r.guard.window(r.calm);
  assert.equal(r.guard.stats().shedding, false);
  r.q.unanswered = 10;
  r.guard.admitInvite(undefined, '10.0.0.9');
  assert.equal(r.guard.stats().lightAdmitted, 1, 'a light source passes the unanswered limit too');
});

test('a limit of 0 is not watched; all 0 turns overload control off', () => {
  const r = rig({ maxUtilization: 0, maxEventLoopDelayMs: 0, maxReceiveQueueMs: 0, maxUnansweredInvites: 5 });
  r.guard.window({ utilization: 1, delayMs: 10_000, queueMs: 10_000 });
  assert.equal(r.guard.stats().admitShare, 1);
  assert.equal(r.guard.enabled, true);
  assert.equal(rig({ maxUtilization: 0, maxEventLoopDelayMs: 0, maxReceiveQueueMs: 0, maxUnansweredInvites: 0 }).guard.enabled, false);
});

test('503s are bounded per second (past it a shed INVITE is dropped); action drop never answers', () => {
  const r = rig({ maxUnansweredInvites: 1, rejectsPerSecond: 3 });
  r.q.unanswered = 1;
  assert.deepEqual(verdicts(r.guard, 5), ['reject', 'reject', 'reject', 'drop', 'drop']);
  r.clock.advance(1_000);
  assert.equal(r.guard.admitInvite(), 'reject', 'a new second, new 503s');
  assert.deepEqual([r.guard.stats().rejected, r.guard.stats().dropped], [4, 2]);
  const d = rig({ maxUnansweredInvites: 1, action: 'drop' });
  d.q.unanswered = 2;
  assert.equal(d.guard.admitInvite(), 'drop');
  assert.deepEqual([d.guard.stats().rejected, d.guard.stats().dropped], [0, 1]);
});

test('a shed INVITE\'s retransmissions are shed too for 32 s, even once the overload passed; its ACK is absorbed', () => {
  const r = rig({ maxUnansweredInvites: 1 });
  r.q.unanswered = 1;
  assert.equal(r.guard.admitInvite('via-a'), 'reject');
  r.q.unanswered = 0;
  assert.equal(r.guard.admitInvite('via-b'), 'admit');
  assert.equal(r.guard.admitInvite('via-a'), 'reject', 'the retransmission of a shed INVITE');
  assert.equal(r.guard.stats().retransmissions, 1);
  assert.equal(r.guard.absorbAck('via-a'), true);
  assert.equal(r.guard.absorbAck('via-b'), false, 'an admitted INVITE\'s ACK goes on');
  assert.equal(r.guard.absorbAck(undefined), false);
  r.clock.advance(32_000);
  assert.equal(r.guard.admitInvite('via-a'), 'admit', 'forgotten after Timer B');
  assert.equal(r.guard.absorbAck('via-a'), false);
  assert.equal(r.guard.stats().acksAbsorbed, 1);
});

test('the remembered INVITEs are bounded: past the bound the oldest is forgotten', () => {
  const r = rig({ maxUnansweredInvites: 1, maxRemembered: 3 });
  r.q.unanswered = 1;
  for (const v of ['v1', 'v2', 'v3', 'v4']) r.guard.admitInvite(v);
  assert.equal(r.guard.stats().remembered, 3);
  r.q.unanswered = 0;
  assert.equal(r.guard.admitInvite('v1'), 'admit', 'the oldest went');
  assert.equal(r.guard.admitInvite('v4'), 'reject');
});

test('queueMs: the datagrams waiting, at the rate the engine read them; a short queue is none, a stuck engine 10 s', () => {
  assert.equal(queueMs(63 * 1_280, 1, 100), 0);
  assert.equal(queueMs(800 * 1_280, 400, 100), 200, '800 waiting, 400 read in 100 ms: 200 ms');
  assert.equal(queueMs(800 * 1_280, 0, 100), 10_000);
  assert.equal(queueMs(1e12, 1, 100), 10_000);
});

test('viaKey: sent-by and branch, whatever the transport added or the order of parameters', () => {
  const k = viaKey('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport');
  assert.equal(k, 'sip/2.0/udp10.0.0.1:5060 z9hG4bKabc');
  assert.equal(viaKey('SIP/2.0/UDP 10.0.0.1:5060;rport=5060;received=10.0.0.1;Branch=z9hG4bKabc'), k);
  assert.equal(viaKey('SIP/2.0/UDP  10.0.0.1:5060 ; branch = z9hG4bKabc'), k);
  assert.notEqual(viaKey('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKabc'), k, 'another sender');
  assert.equal(viaKey('SIP/2.0/UDP 10.0.0.1:5060'), undefined);
  assert.equal(viaKey(undefined), undefined);
});

const request = (toTag = '', method = 'INVITE', branch = 'z9hG4bK-1'): SipMessage => {
  const text = `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5070;branch=${branch}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.9>;tag=f1\r\nTo: <sip:bob@127.0.0.1>${toTag}\r\nCall-ID: c1@x\r\n` +
    `CSeq: 1 ${method}\r\nContact: <sip:a@127.0.0.9>\r\nContent-Length: 0\r\n\r\n`;
  const p = parseMessage(Buffer.from(text));
  assert.ok(p.ok);
  return p.message;
};

test('edge: a shed INVITE gets a stateless 503 with Retry-After and Reason overloaded; its ACK ends at the edge; other requests pass', () => {
  const r = rig({ maxUnansweredInvites: 1, lightSourceInvites: 0 });
  r.q.unanswered = 5;
  const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.9', remotePort: 5070 };
  const sent: { text: string; target: SendTarget }[] = [];
  const passed: string[] = [];
  const edge = edgeGuard({ onMessage: (m) => passed.push(m.kind === 'request' ? `${m.method}${/tag=/.test(m.headers.find((h) => h.name.toLowerCase() === 'to')?.value ?? '') ? '+tag' : ''}` : 'response') }, {
    transport: { send: (b: Buffer, target: SendTarget) => (sent.push({ text: b.toString(), target }), Promise.resolve(flow)) } as unknown as TransportLayer,
    transactions: { hasServerTransaction: () => false } as unknown as TransactionLayer,
    trust: undefined, rate: undefined, overload: r.guard, listenerTenant: () => undefined, retryAfterSeconds: 9,
  });
  edge.onMessage(request(), Buffer.alloc(0), flow);
  assert.equal(passed.length, 0);
  assert.equal(sent.length, 1);
  assert.match(sent[0]!.text, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.match(sent[0]!.text, /\r\nRetry-After: 9\r\n/);
  assert.match(sent[0]!.text, /\r\nReason: SIP;cause=503;text="overloaded"\r\n/);
  assert.equal(sent[0]!.target.port, 5070);
  edge.onMessage(request(';tag=t1', 'ACK'), Buffer.alloc(0), flow);
  assert.equal(r.guard.stats().acksAbsorbed, 1, 'the ACK of the 503 ends at the edge');
  edge.onMessage(request(';tag=t1'), Buffer.alloc(0), flow);
  edge.onMessage(request(';tag=t1', 'BYE', 'z9hG4bK-2'), Buffer.alloc(0), flow);
  edge.onMessage(request('', 'ACK', 'z9hG4bK-3'), Buffer.alloc(0), flow);
  edge.onMessage(request('', 'OPTIONS', 'z9hG4bK-4'), Buffer.alloc(0), flow);
  assert.deepEqual(passed, ['INVITE+tag', 'BYE+tag', 'ACK', 'OPTIONS'], 'only new INVITEs are shed');
  assert.equal(sent.length, 1);
});

test('LoadSampler: a loop blocked for 150 ms shows as a busy window with a late timer', async () => {
  const windows: LoadWindow[] = [];
  const s = new LoadSampler((w) => windows.push(w), { windowMs: 50, tickMs: 10, queue: () => ({ queuedBytes: 7, drops: 2 }) });
  try {
    await new Promise((res) => setTimeout(res, 30));
    const t = Date.now();
    while (Date.now() - t < 150) { /* block the loop */ }
    for (let i = 0; i < 100 && !windows.some((w) => w.delayMs >= 100); i++) await new Promise((res) => setTimeout(res, 10));
    const blocked = windows.find((w) => w.delayMs >= 100);
    assert.ok(blocked, `a window saw the block: ${JSON.stringify(windows)}`);
    assert.ok(blocked.utilization > 0.5, `and was mostly busy: ${blocked.utilization}`);
    assert.deepEqual([blocked.queuedBytes, blocked.queueMs, blocked.udpDrops], [7, 0, 2]);
  } finally {
    s.close();
  }
});

test('LoadSampler: an idle thread is sampled once a window, every window still reported; a block brings the fine ticks back', async () => {
  // Each window with the period the sampler chose after it.
  const windows: Array<LoadWindow & { next: number }> = [];
  const s: LoadSampler = new LoadSampler((w) => windows.push({ ...w, next: s.period }), { windowMs: 40, tickMs: 10 });
  try {
    const period = (): number => s.period;
    assert.equal(period(), 10, 'fine ticks from the start');
    for (let i = 0; i < 500 && period() !== 40; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(period(), 40, 'an idle window: one tick a window');
    const before = windows.length;
    for (let i = 0; i < 500 && windows.length - before < 2; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(windows.length - before >= 2, 'windows go on being reported while idle');
    const t = Date.now();
    while (Date.now() - t < 120) { /* block the loop */ }
    // The window the block fell in: late and busy (a loaded machine may also make an idle window late).
    const busy = (w: LoadWindow): boolean => w.delayMs >= 60 && w.utilization > 0.5;
    for (let i = 0; i < 1000 && !windows.some(busy); i++) await new Promise((res) => setTimeout(res, 5));
    const blocked = windows.find(busy);
    assert.ok(blocked && blocked.utilization > 0.5, `the idle cadence saw the block: ${JSON.stringify(windows.slice(-3))}`);
    assert.equal(blocked.next, 10, 'fine ticks again after a busy window');
  } finally {
    s.close();
  }
});

test('past maxRemembered the oldest shed INVITE is forgotten early: counted, one warn line; past 10,000 sources in a window none more is light', () => {
  const r = rig({ maxUnansweredInvites: 1, maxRemembered: 3, lightSourceInvites: 0 });
  r.q.unanswered = 1;
  for (let i = 0; i < 5; i++) assert.equal(r.guard.admitInvite(`v${i}`), 'reject');
  const s = r.guard.stats();
  assert.deepEqual([s.remembered, s.rememberedEvicted], [3, 2]);
  const lines = r.lines.filter((l) => l['code'] === 'ERR_ENGINE_OVERLOAD' && l['rememberedEvicted'] !== undefined);
  assert.equal(lines.length, 1, 'one line for the two, rate-limited');
  const light = rig({ maxUtilization: 0.5, lightSourceInvites: 5 });
  light.guard.window({ utilization: 1, delayMs: 0 });
  for (let i = 0; i < 10_005; i++) light.guard.admitInvite(undefined, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  assert.equal(light.guard.stats().sourcesUncounted, 5);
  assert.equal(light.lines.filter((l) => l['code'] === 'ERR_ENGINE_OVERLOAD' && l['sourcesUncounted'] !== undefined).length, 1);
});

test('LoadSampler: an idle thread that reads no datagram stops reading the socket table; its last drops count stands, and a datagram read brings the reading back', async () => {
  const windows: LoadWindow[] = [];
  let tableReads = 0;
  let datagrams = 0;
  const s: LoadSampler = new LoadSampler((w) => windows.push(w), {
    windowMs: 40, tickMs: 10, datagramsRead: () => datagrams,
    queue: () => {
      tableReads++;
      return { queuedBytes: 5_000, drops: 9 };
    },
  });
  try {
    // Windows either read the table (5,000 bytes waiting) or, idle at the idle cadence, do not (0 bytes, drops kept).
    const quiet = (): LoadWindow[] => windows.filter((w) => w.queuedBytes === 0);
    for (let i = 0; i < 1000 && quiet().length < 3; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(quiet().length >= 3, `quiet windows: ${JSON.stringify(windows.slice(-5))}`);
    assert.equal(tableReads + quiet().length, windows.length, 'each window read the table once, or not at all when quiet');
    assert.deepEqual(quiet().map((w) => w.udpDrops).filter((d) => d !== 9), [], 'a quiet window reports the last drops count');
    datagrams = 3;
    const from = windows.length;
    for (let i = 0; i < 500 && windows.length === from; i++) await new Promise((res) => setTimeout(res, 5));
    assert.deepEqual([windows[from]!.queuedBytes, windows[from]!.udpDrops], [5_000, 9], 'a window that read datagrams reads the table');
  } finally {
    s.close();
  }
});
