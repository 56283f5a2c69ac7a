import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../../src/common/clock.js';
import { NameLookups } from '../../../../src/engine/core/name-lookups.js';

const flush = () => new Promise<void>((ok) => setImmediate(ok));

/** A resolver whose answers wait for the test: `answer(name, address)` or `fail(name)`. */
function heldResolver() {
  const waiting = new Map<string, { ok: (a: string) => void; no: (e: Error) => void }>();
  let asked = 0;
  return {
    lookup: (host: string) => new Promise<string>((ok, no) => { asked++; waiting.set(host, { ok, no }); }),
    answer: (host: string, address: string) => waiting.get(host)!.ok(address),
    fail: (host: string) => waiting.get(host)!.no(Object.assign(new Error('EAI_AGAIN'), { code: 'EAI_AGAIN' })),
    asked: () => asked,
  };
}

test('name lookups: names a peer supplied that never answer cannot keep a trunk\'s configured name from being looked up', async () => {
  const r = heldResolver();
  const refused: string[] = [];
  const names = new NameLookups({
    lookup: r.lookup, clock: new ManualClock(0), isConfigured: (n) => n === 'sbc.othercarrier.example',
    onRefused: (host, max, pool) => refused.push(`${host}/${max}/${pool}`),
  });
  void names.resolve('x1.slow.example').catch(() => undefined);
  await assert.rejects(names.resolve('x2.slow.example'), { code: 'ERR_ENGINE_DNS_LIMIT' });
  const trunk = names.resolve('SBC.othercarrier.example');
  r.answer('sbc.othercarrier.example', '192.0.2.1');
  assert.equal(await trunk, '192.0.2.1');
  assert.deepEqual(refused, ['x2.slow.example/1/peer']);
});

test('name lookups: an ask waits at most timeoutMs (ERR_ENGINE_DNS_TIMEOUT, counted); the slot stays taken until the lookup ends', async () => {
  const clock = new ManualClock(0);
  const r = heldResolver();
  const timedOut: string[] = [];
  const names = new NameLookups({ lookup: r.lookup, clock, onTimeout: (host, ms) => timedOut.push(`${host}/${ms}`) });
  const ask = names.resolve('mute.example');
  await flush();
  clock.advance(2_999);
  await flush();
  clock.advance(1);
  await assert.rejects(ask, { code: 'ERR_ENGINE_DNS_TIMEOUT' });
  assert.deepEqual(timedOut, ['mute.example/3000']);
  assert.equal(names.stats().nameLookupTimeouts, 1);
  // The thread is still busy with it: another peer's name waits its turn rather than take a second thread.
  await assert.rejects(names.resolve('other.example'), { code: 'ERR_ENGINE_DNS_LIMIT' });
  r.fail('mute.example');
  await flush();
  assert.equal(names.stats().nameLookupsInFlight, 0);
});

test('name lookups: past 10 s the last answer is served while the refresh runs, and in place of a refresh that fails or times out', async () => {
  const clock = new ManualClock(0);
  const r = heldResolver();
  const names = new NameLookups({ lookup: r.lookup, clock });
  const first = names.resolve('trunk.example');
  r.answer('trunk.example', '192.0.2.1');
  assert.equal(await first, '192.0.2.1');

  clock.advance(10_000);
  const refreshing = names.resolve('trunk.example');
  assert.equal(await names.resolve('trunk.example'), '192.0.2.1', 'served at once while the refresh runs');
  assert.equal(r.asked(), 2, 'one refresh');
  r.fail('trunk.example');
  assert.equal(await refreshing, '192.0.2.1', 'the refresh failed: the last answer stands in');

  const slow = names.resolve('trunk.example');
  await flush();
  clock.advance(3_000);
  assert.equal(await slow, '192.0.2.1', 'the refresh timed out: the last answer stands in');
  assert.equal(names.stats().nameLookupsStale, 3);

  r.answer('trunk.example', '192.0.2.2');
  await flush();
  assert.equal(await names.resolve('trunk.example'), '192.0.2.2', 'the late answer is kept');
});

test('name lookups: a full pool serves a name its last answer; one older than 5 minutes is not served', async () => {
  const clock = new ManualClock(0);
  const r = heldResolver();
  const names = new NameLookups({ lookup: r.lookup, clock });
  const known = names.resolve('known.example');
  r.answer('known.example', '192.0.2.5');
  await known;
  clock.advance(20_000);
  void names.resolve('busy.example').catch(() => undefined);
  assert.equal(await names.resolve('known.example'), '192.0.2.5', 'the pool is full: the last answer, at once');
  clock.advance(300_000);
  await assert.rejects(names.resolve('known.example'), { code: 'ERR_ENGINE_DNS_LIMIT' });
});

test('the engine core looks the configuration\'s names up in their own pool: an app\'s INVITE to a trunk name goes while peers\' names hang', async () => {
  const { EngineCore } = await import('../../../../src/engine/core/engine-core.js');
  const { TransactionLayer } = await import('../../../../src/sip/transaction/index.js');
  const { FakeHub, FakeTransport } = await import('./core-harness.js');
  const clock = new ManualClock(0);
  const hub = new FakeHub();
  const transport = new FakeTransport();
  const transactions = new TransactionLayer({ transport, clock, autoTrying: false });
  const lookup = (host: string) => (host === 'trunk.example' ? Promise.resolve('192.0.2.20') : new Promise<string>(() => undefined));
  const core = new EngineCore({ transactions, transport, hub, clock, lookup, isConfiguredName: (n) => n === 'trunk.example' });
  const send = (msgId: string, host: string) => core.onAppSip({
    connId: 'app1', msgId, transactionId: '', dialogId: '', sip: `INVITE sip:bob@${host}:5080 SIP/2.0\r\nFrom: <sip:1@localhost>\r\nContact: <sip:1@localhost>\r\n\r\n`,
  });
  send('m0', 'phone.peer.example');
  send('m1', 'pbx.peer.example');
  send('m2', 'trunk.example');
  await flush();
  assert.deepEqual(transport.sent.map((s) => `${s.target.address}:${s.target.port}`), ['192.0.2.20:5080']);
  assert.equal(hub.replies.find((r) => r.appMsgId === 'm2')?.fields[0], 'OK');
});
