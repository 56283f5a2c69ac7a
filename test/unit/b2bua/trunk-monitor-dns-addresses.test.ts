// A `dns:` trunk is pinged at every address its name resolves to: one dead address (the first SRV target) does not
// mark the name down while another answers, so calls still reach the healthy one; the name is down only when none
// answers. Nothing is sent: the fake records each OPTIONS and the test answers it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { TrunkMonitor, type B2buaPolicy, type PingSrf, type ResolvedTarget, type SipServerResolver } from '../../../src/b2bua/index.js';
import { captureLog, settle } from './fake-srf.js';

class PingSrfFake implements PingSrf {
  sent: Array<{ uri: string; answer(status: number): void }> = [];
  request(uri: string, opts: { method: string }, callback: (err: unknown, req?: { on(event: 'response', fn: (res: { status: number }) => void): unknown }) => void): unknown {
    assert.equal(opts.method, 'OPTIONS');
    const req = new EventEmitter();
    this.sent.push({ uri, answer: (status) => req.emit('response', { status }) });
    callback(null, req as never);
    return this;
  }
}

const answering = (...addresses: string[]): SipServerResolver => async () => ({
  ok: true, targets: addresses.map((address): ResolvedTarget => ({ address, port: 5060, transport: 'udp', domain: 'carrier.example' })),
});

function monitor(resolve: SipServerResolver, downAfter = 1) {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  const { log, lines } = captureLog();
  const policy: B2buaPolicy = {
    tenants: { itsp: { transport: 'udp', sipServer: 'dns:carrier.example', optionsPing: { intervalSeconds: 5, downAfter } } },
    categories: [], dialPeers: [],
  };
  const m = new TrunkMonitor({ srf, policy, log, clock, resolve, timeoutMs: 1_000 });
  return { clock, srf, lines, m };
}

test('ping: a dns: name whose first address is dead and second alive stays up; the healthy address is pinged', async () => {
  const { clock, srf, lines, m } = monitor(answering('192.0.2.10', '192.0.2.20'));
  m.start();
  await settle();
  assert.deepEqual(srf.sent.map((s) => s.uri), ['sip:192.0.2.10:5060', 'sip:192.0.2.20:5060'], 'every address is pinged');
  srf.sent[1]!.answer(200);
  assert.equal(m.isDown('itsp', 'dns:carrier.example'), false);
  assert.equal(m.snapshot().trunks[0]!.state, 'up');
  // The dead address never answers: its ping's time runs out, the name stays up.
  clock.advance(1_000);
  await settle();
  assert.equal(m.isDown('itsp', 'dns:carrier.example'), false);
  assert.equal(m.snapshot().pingFailures, 0);
  // Next round: the first address answers 503, the second 200: still up, whichever comes first.
  clock.advance(4_000);
  await settle();
  assert.equal(srf.sent.length, 4);
  srf.sent[2]!.answer(503);
  assert.equal(m.snapshot().trunks[0]!.state, 'up', 'one address failing is not the name failing');
  srf.sent[3]!.answer(200);
  assert.equal(m.isDown('itsp', 'dns:carrier.example'), false);
  assert.equal(lines.filter((l) => l.code === 'EVT_TRUNK_DOWN').length, 0);
  m.close();
});

test('ping: a dns: name is down only when every address failed; then up again as soon as one answers', async () => {
  const { clock, srf, lines, m } = monitor(answering('192.0.2.10', '192.0.2.20'));
  m.start();
  await settle();
  srf.sent[0]!.answer(503);
  assert.equal(m.snapshot().trunks[0]!.state, 'unknown', 'the other address has not answered yet');
  srf.sent[1]!.answer(408);
  assert.equal(m.isDown('itsp', 'dns:carrier.example'), true);
  assert.equal(m.snapshot().pingFailures, 1);
  assert.match(String(lines.find((l) => l.code === 'EVT_TRUNK_DOWN')?.msg), /none of its 2 addresses answered/);
  clock.advance(5_000);
  await settle();
  srf.sent[3]!.answer(200);
  assert.equal(m.isDown('itsp', 'dns:carrier.example'), false);
  assert.equal(m.snapshot().cameUp, 1);
  m.close();
});

test('ping: the addresses pinged stay within gateway.outbound.maxTargetsPerCall', async () => {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  const { log } = captureLog();
  const policy: B2buaPolicy = {
    tenants: { itsp: { transport: 'udp', sipServer: 'dns:carrier.example', optionsPing: { intervalSeconds: 5 } } },
    categories: [], dialPeers: [], outbound: { maxTargetsPerCall: 2 },
  };
  const m = new TrunkMonitor({ srf, policy, log, clock, resolve: answering('192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'), timeoutMs: 1_000 });
  m.start();
  await settle();
  assert.deepEqual(srf.sent.map((s) => s.uri), ['sip:192.0.2.1:5060', 'sip:192.0.2.2:5060']);
  m.close();
});
