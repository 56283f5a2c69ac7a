// An OPTIONS ping goes where a call may: an address a `dns:` trunk resolves to that is loopback, link-local (the
// cloud metadata service), multicast, unspecified or the gateway's own is skipped unless gateway.outbound.allowResolved
// lists it, counted and logged once a window (ERR_B2BUA_TARGET_REFUSED). Nothing is sent: the fake records each send.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { TrunkMonitor, type B2buaPolicy, type OutboundPolicy, type PingSrf, type ResolvedTarget, type SipServerResolver } from '../../../src/b2bua/index.js';
import { captureLog, settle } from './fake-srf.js';

/** Records every OPTIONS; `answer` answers the last one. */
class RecordingSrf implements PingSrf {
  sent: string[] = [];
  #answer?: (status: number) => void;
  request(uri: string, opts: { method: string }, callback: (err: unknown, req?: { on(event: 'response', fn: (res: { status: number }) => void): unknown }) => void): unknown {
    assert.equal(opts.method, 'OPTIONS');
    this.sent.push(uri);
    const req = new EventEmitter();
    this.#answer = (status) => req.emit('response', { status });
    callback(null, req as never);
    return this;
  }

  answer(status: number): void {
    this.#answer?.(status);
  }
}

const answering = (...addresses: string[]): SipServerResolver => async () => ({
  ok: true, targets: addresses.map((address): ResolvedTarget => ({ address, port: 5060, transport: 'udp', domain: 'carrier.example' })),
});

function monitor(resolve: SipServerResolver, outbound?: OutboundPolicy) {
  const clock = new ManualClock(0);
  const srf = new RecordingSrf();
  const { log, lines } = captureLog();
  const policy: B2buaPolicy = {
    tenants: { itsp: { transport: 'udp', sipServer: 'dns:carrier.example', optionsPing: { intervalSeconds: 5, downAfter: 1 } } },
    categories: [], dialPeers: [], ...(outbound ? { outbound } : {}),
  };
  const m = new TrunkMonitor({ srf, policy, log, clock, resolve, timeoutMs: 1_000 });
  return { clock, srf, lines, m };
}

const refusedLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.code === 'ERR_B2BUA_TARGET_REFUSED');

test('ping: a dns: trunk answering the metadata address and loopback is not pinged there: refused, counted, the ping failed', async () => {
  const { clock, srf, lines, m } = monitor(answering('169.254.169.254', '127.0.0.1'));
  m.start();
  await settle();
  assert.deepEqual(srf.sent, [], 'no OPTIONS left the gateway');
  const snap = m.snapshot();
  assert.equal(snap.resolvedRefused, 2);
  assert.equal(snap.pingFailures, 1);
  assert.equal(snap.trunks[0]!.state, 'down');
  assert.deepEqual(refusedLines(lines).map((l) => [l.address, l.tenant, l.server]), [['169.254.169.254', 'itsp', 'dns:carrier.example']]);
  assert.match(String(lines.find((l) => l.code === 'EVT_TRUNK_DOWN')?.msg), /no address the gateway may ping/);

  clock.advance(5_000);
  await settle();
  assert.deepEqual(srf.sent, []);
  assert.equal(m.snapshot().resolvedRefused, 4, 'every ping counts what it refused');
  assert.equal(m.snapshot().pingFailures, 2);
  assert.equal(refusedLines(lines).length, 1, 'logged once a window per trunk');
  m.close();
});

test('ping: a refused address is skipped for the next one the name gives', async () => {
  const { srf, m } = monitor(answering('169.254.169.254', '127.0.0.3'), { allowResolved: ['127.0.0.0/8'] });
  m.start();
  await settle();
  assert.deepEqual(srf.sent, ['sip:127.0.0.3:5060']);
  srf.answer(200);
  assert.equal(m.snapshot().trunks[0]!.state, 'up');
  assert.equal(m.snapshot().resolvedRefused, 1);
  m.close();
});

test('ping: gateway.outbound.allowResolved lets an operator ping a loopback answer knowingly; nothing counted', async () => {
  const { srf, m } = monitor(answering('127.0.0.1'), { allowResolved: ['127.0.0.0/8'] });
  m.start();
  await settle();
  assert.deepEqual(srf.sent, ['sip:127.0.0.1:5060']);
  assert.equal(m.snapshot().resolvedRefused, undefined);
  m.close();
});
