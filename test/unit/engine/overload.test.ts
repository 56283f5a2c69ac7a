import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { edgeGuard } from '../../../src/engine/edge-guard.js';
import { EventLoopDelay, OverloadGuard, type OverloadOptions } from '../../../src/engine/overload.js';
import { parseMessage, type SipMessage } from '../../../src/sip/message/index.js';
import type { TransactionLayer } from '../../../src/sip/transaction/index.js';
import type { TransportLayer } from '../../../src/sip/transport/index.js';
import type { Flow, SendTarget } from '../../../src/sip/transport/types.js';
import { pino } from 'pino';

function rig(o: OverloadOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const signals = { delay: 0, unanswered: 0 };
  const seen: Array<Record<string, unknown>> = [];
  const cap = { logger: pino({ level: 'info' }, { write: (l: string) => void seen.push(JSON.parse(l) as Record<string, unknown>) }), lines: () => seen };
  const guard = new OverloadGuard(o, {
    log: cap.logger, clock,
    signals: { eventLoopDelayMs: () => signals.delay, unansweredInvites: () => signals.unanswered },
  });
  return { clock, signals, guard, cap };
}

test('below both limits every new INVITE is admitted and nothing is counted or logged', () => {
  const r = rig();
  r.signals.delay = 99;
  r.signals.unanswered = 399;
  for (let i = 0; i < 100; i++) assert.equal(r.guard.admitInvite(), 'admit');
  const s = r.guard.stats();
  assert.deepEqual([s.shedding, s.episodes, s.rejected, s.dropped], [false, 0, 0, 0]);
  assert.equal(r.cap.lines().length, 0);
});

test('event-loop delay past the limit sheds new INVITEs with 503, one warn line per episode, and holds for holdMs after the last sign', () => {
  const r = rig({ maxEventLoopDelayMs: 50, holdMs: 1_000 });
  r.signals.delay = 51;
  assert.equal(r.guard.admitInvite(), 'reject');
  assert.equal(r.guard.admitInvite(), 'reject');
  r.signals.delay = 0;
  r.clock.advance(999);
  assert.equal(r.guard.admitInvite(), 'reject', 'still inside the hold after the last sign');
  r.clock.advance(1);
  assert.equal(r.guard.admitInvite(), 'admit');
  const s = r.guard.stats();
  assert.deepEqual([s.shedding, s.episodes, s.rejected, s.dropped], [false, 1, 3, 0]);
  assert.deepEqual(s.byCause, { 'event-loop-delay': 3, 'unanswered-invites': 0 });
  const warn = r.cap.lines().filter((l) => l.level === 40);
  assert.equal(warn.length, 1);
  assert.equal(warn[0]!.code, 'ERR_ENGINE_OVERLOAD');
  assert.equal(warn[0]!.cause, 'event-loop-delay');
  const ended = r.cap.lines().filter((l) => l.level === 30 && l.code === 'ERR_ENGINE_OVERLOAD');
  assert.equal(ended.length, 1, 'the end of an episode is logged once');
  assert.equal(ended[0]!.shed, 3);
});

test('unanswered INVITEs at the limit shed; the delay exactly at its limit does not', () => {
  const r = rig({ maxEventLoopDelayMs: 50, maxUnansweredInvites: 10, holdMs: 0 });
  r.signals.delay = 50;
  r.signals.unanswered = 9;
  assert.equal(r.guard.admitInvite(), 'admit');
  r.signals.unanswered = 10;
  assert.equal(r.guard.admitInvite(), 'reject');
  assert.equal(r.guard.stats().byCause['unanswered-invites'], 1);
  assert.equal(r.guard.stats().unansweredInvites, 10);
  r.signals.unanswered = 0;
  r.clock.advance(1);
  assert.equal(r.guard.admitInvite(), 'admit');
});

test('a limit of 0 is not watched; both 0 turns overload control off', () => {
  const r = rig({ maxEventLoopDelayMs: 0, maxUnansweredInvites: 5 });
  r.signals.delay = 10_000;
  assert.equal(r.guard.admitInvite(), 'admit');
  assert.equal(r.guard.enabled, true);
  const off = rig({ maxEventLoopDelayMs: 0, maxUnansweredInvites: 0 });
  assert.equal(off.guard.enabled, false);
});

test('503s are bounded per second (past it a shed INVITE is dropped); action drop never answers', () => {
  const r = rig({ maxUnansweredInvites: 1, rejectsPerSecond: 3 });
  r.signals.unanswered = 1;
  const verdicts = Array.from({ length: 5 }, () => r.guard.admitInvite());
  assert.deepEqual(verdicts, ['reject', 'reject', 'reject', 'drop', 'drop']);
  r.clock.advance(1_000);
  assert.equal(r.guard.admitInvite(), 'reject', 'a new second, new 503s');
  assert.deepEqual([r.guard.stats().rejected, r.guard.stats().dropped], [4, 2]);
  const d = rig({ maxUnansweredInvites: 1, action: 'drop' });
  d.signals.unanswered = 2;
  assert.equal(d.guard.admitInvite(), 'drop');
  assert.deepEqual([d.guard.stats().rejected, d.guard.stats().dropped], [0, 1]);
});

test('a second episode after a quiet spell is a new episode with its own warn line (rate-limited per 10 s)', () => {
  const r = rig({ maxUnansweredInvites: 1, holdMs: 100 });
  r.signals.unanswered = 1;
  r.guard.admitInvite();
  r.signals.unanswered = 0;
  r.clock.advance(200);
  assert.equal(r.guard.admitInvite(), 'admit');
  r.clock.advance(20_000);
  r.signals.unanswered = 1;
  r.guard.admitInvite();
  assert.equal(r.guard.stats().episodes, 2);
  assert.equal(r.cap.lines().filter((l) => l.level === 40).length, 2);
});

const invite = (toTag = '', method = 'INVITE'): SipMessage => {
  const text = `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK-1\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.9>;tag=f1\r\nTo: <sip:bob@127.0.0.1>${toTag}\r\nCall-ID: c1@x\r\n` +
    `CSeq: 1 ${method}\r\nContact: <sip:a@127.0.0.9>\r\nContent-Length: 0\r\n\r\n`;
  const p = parseMessage(Buffer.from(text));
  assert.ok(p.ok);
  return p.message;
};

test('edge: a shed INVITE gets a stateless 503 with Retry-After and Reason overloaded; in-dialog requests, BYE and ACK pass', () => {
  const r = rig({ maxUnansweredInvites: 1 });
  r.signals.unanswered = 5;
  const flow: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.9', remotePort: 5070 };
  const sent: { text: string; target: SendTarget }[] = [];
  const passed: string[] = [];
  const edge = edgeGuard({ onMessage: (m) => passed.push(m.kind === 'request' ? `${m.method}${/tag=/.test(m.headers.find((h) => h.name.toLowerCase() === 'to')?.value ?? '') ? '+tag' : ''}` : 'response') }, {
    transport: { send: (b: Buffer, target: SendTarget) => (sent.push({ text: b.toString(), target }), Promise.resolve(flow)) } as unknown as TransportLayer,
    transactions: { hasServerTransaction: () => false } as unknown as TransactionLayer,
    trust: undefined, rate: undefined, overload: r.guard, listenerTenant: () => undefined, retryAfterSeconds: 9,
  });
  edge.onMessage(invite(), Buffer.alloc(0), flow);
  assert.equal(passed.length, 0);
  assert.equal(sent.length, 1);
  assert.match(sent[0]!.text, /^SIP\/2\.0 503 Service Unavailable\r\n/);
  assert.match(sent[0]!.text, /\r\nRetry-After: 9\r\n/);
  assert.match(sent[0]!.text, /\r\nReason: SIP;cause=503;text="overloaded"\r\n/);
  assert.equal(sent[0]!.target.port, 5070);
  edge.onMessage(invite(';tag=t1'), Buffer.alloc(0), flow);
  edge.onMessage(invite(';tag=t1', 'BYE'), Buffer.alloc(0), flow);
  edge.onMessage(invite('', 'ACK'), Buffer.alloc(0), flow);
  edge.onMessage(invite('', 'OPTIONS'), Buffer.alloc(0), flow);
  assert.deepEqual(passed, ['INVITE+tag', 'BYE+tag', 'ACK', 'OPTIONS'], 'only new INVITEs are shed');
  assert.equal(sent.length, 1);
});

test('EventLoopDelay sees a blocked loop while it is blocked and through the window after', async () => {
  const eld = new EventLoopDelay(100, 10);
  try {
    await new Promise((res) => setTimeout(res, 30));
    const t = Date.now();
    while (Date.now() - t < 150) { /* block the loop */ }
    assert.ok(eld.ms() >= 100, `a loop blocked for 150 ms reads ${eld.ms()} ms while still blocked`);
    await new Promise((res) => setTimeout(res, 30));
    assert.ok(eld.ms() >= 100, `and after: ${eld.ms()} ms`);
  } finally {
    eld.close();
  }
});
