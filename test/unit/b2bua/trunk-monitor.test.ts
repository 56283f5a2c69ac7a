import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/index.js';
import { TrunkMonitor, type B2buaPolicy, type PingSrf, type TrunkStatus } from '../../../src/b2bua/index.js';
import { captureLog, settle } from './fake-srf.js';

interface Sent {
  uri: string;
  headers: Record<string, string>;
  answer(status: number): void;
}

/** Records every OPTIONS and lets the test answer it, or fail to send it. */
class PingSrfFake implements PingSrf {
  sent: Sent[] = [];
  refuse = false;
  request(uri: string, opts: { method: string; headers?: Record<string, string> },
    callback: (err: unknown, req?: { on(event: 'response', fn: (res: { status: number }) => void): unknown }) => void): unknown {
    assert.equal(opts.method, 'OPTIONS');
    if (this.refuse) {
      callback(new Error('no connection'));
      return this;
    }
    const req = new EventEmitter();
    this.sent.push({ uri, headers: opts.headers ?? {}, answer: (status) => req.emit('response', { status }) });
    callback(null, req as never);
    return this;
  }
}

const policy: B2buaPolicy = {
  tenants: {
    pbx: { transport: 'udp', sipServer: '127.0.0.1:5080', optionsPing: { intervalSeconds: 10, downAfter: 2 } },
    carrier: { transport: 'tls', tlsProfile: 'c', sipServer: ['sbc1.example:5061', 'sbc2.example:5061'], optionsPing: { intervalSeconds: 5 } },
    quiet: { transport: 'udp', sipServer: '127.0.0.1:5090' },
  },
  categories: [],
  dialPeers: [
    { id: 'own', destinationPattern: '^1', tenant: 'pbx', sipServer: '127.0.0.1:5081' },
    { id: 'q', destinationPattern: '^2', tenant: 'quiet', sipServer: '127.0.0.1:5091' },
  ],
};

async function setup(timeoutMs?: number) {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  const { log, lines } = captureLog();
  const m = new TrunkMonitor({ srf, policy, log, clock, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const changes: Array<[TrunkStatus, string]> = [];
  m.on('change', (s, from) => changes.push([s, from]));
  m.start();
  await settle();
  return { clock, srf, m, lines, changes };
}

const last = (srf: PingSrfFake, uriPart: string) => [...srf.sent].reverse().find((s) => s.uri.includes(uriPart))!;

test('trunk-monitor: one target per tenant server and dial-peer override, only for tenants that ping; TLS carries the profile', async () => {
  const { srf, m } = await setup();
  assert.equal(m.size, 4);
  assert.deepEqual(srf.sent.map((s) => s.uri).sort(), [
    'sip:127.0.0.1:5080', 'sip:127.0.0.1:5081', 'sip:sbc1.example:5061;transport=tls', 'sip:sbc2.example:5061;transport=tls',
  ]);
  assert.equal(last(srf, 'sbc1').headers['X-Trunkgate-Route'], 'tenant=carrier;profile=c');
  assert.deepEqual(last(srf, '5080').headers, {});
  m.close();
});

test('trunk-monitor: answered → up; downAfter unanswered pings → down (logged, counted, skipped); an answer → up again', async () => {
  const { clock, srf, m, lines, changes } = await setup();
  last(srf, '5080').answer(200);
  assert.equal(changes.length, 1, JSON.stringify(changes));
  assert.deepEqual([changes[0]![0].state, changes[0]![1]], ['up', 'unknown']);
  // an OPTIONS answered 404 or 405 still proves the trunk is there
  clock.advance(10_000);
  await settle();
  last(srf, '5080').answer(405);
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), false);
  // first unanswered ping (timeout 5 s): still up, since downAfter is 2
  clock.advance(10_000);
  await settle();
  clock.advance(5_000);
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), false);
  // second: a 503 counts as unanswered → down
  clock.advance(5_000);
  await settle();
  last(srf, '5080').answer(503);
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), true);
  assert.ok(lines.some((l) => l.level === 40 && /trunk pbx 127\.0\.0\.1:5080 is down/.test(String(l.msg))));
  // a late answer to an old ping changes nothing
  srf.sent.find((s) => s.uri === 'sip:127.0.0.1:5080')!.answer(200);
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), true);
  clock.advance(10_000);
  await settle();
  last(srf, '5080').answer(200);
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), false);
  const s = m.snapshot();
  // 5080 once, plus the three targets nobody answered in this test (two carrier SBCs, 5081)
  assert.equal(s.wentDown, 4);
  assert.equal(s.cameUp, 1);
  assert.deepEqual(s.trunks.filter((t) => t.state === 'down').map((t) => t.server).sort(), ['127.0.0.1:5081', 'sbc1.example:5061', 'sbc2.example:5061']);
  assert.equal(s.trunks.find((t) => t.server === '127.0.0.1:5080')?.lastStatus, 200);
  assert.deepEqual(changes.filter((c) => c[0].server === '127.0.0.1:5080').map((c) => `${c[1]}>${c[0].state}`), ['unknown>up', 'up>down', 'down>up']);
  m.close();
});

test('trunk-monitor: a ping that cannot be sent counts as unanswered; untracked targets are never down', async () => {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  srf.refuse = true;
  const m = new TrunkMonitor({ srf, policy, log: captureLog().log, clock });
  m.start();
  await settle();
  assert.equal(m.isDown('carrier', 'sbc1.example:5061'), true, 'downAfter 1');
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), false, 'downAfter 2');
  assert.equal(m.isDown('quiet', '127.0.0.1:5090'), false);
  assert.equal(m.isDown('nobody', 'x:1'), false);
  clock.advance(10_000);
  await settle();
  assert.equal(m.isDown('pbx', '127.0.0.1:5080'), true);
  assert.equal(m.snapshot().wentDown, 4);
  m.close();
  const before = clock.pending;
  clock.advance(60_000);
  assert.equal(clock.pending, 0, `close cancels every timer (had ${before})`);
});

test('trunk-monitor: the next ping waits the rest of the interval after a slow answer', async () => {
  const { clock, srf, m } = await setup(8_000);
  const count = () => srf.sent.filter((s) => s.uri === 'sip:127.0.0.1:5080').length;
  clock.advance(3_000);
  last(srf, '5080').answer(200);
  clock.advance(6_999);
  await settle();
  assert.equal(count(), 1);
  clock.advance(1);
  await settle();
  assert.equal(count(), 2);
  m.close();
});

test('trunk-monitor: a dns: target is pinged at each resolved address, and over TLS the engine is told the name to check and send as SNI', async () => {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  const { log } = captureLog();
  const asked: string[] = [];
  const dnsPolicy: B2buaPolicy = {
    tenants: {
      carrier: { transport: 'tls', tlsProfile: 'c', sipServer: 'dns:carrier.example', optionsPing: { intervalSeconds: 5 } },
      lan: { transport: 'udp', sipServer: 'dns:pbx.lan', optionsPing: { intervalSeconds: 5 } },
    },
    categories: [],
    dialPeers: [],
    // The test's peers answer on loopback, which a DNS answer may name only when allowed (resolved-address.ts).
    outbound: { allowResolved: ['127.0.0.0/8', '::1'] },
  };
  const m = new TrunkMonitor({
    srf, policy: dnsPolicy, log, clock,
    resolve: async (name, _port, transport) => {
      asked.push(`${name}/${transport}`);
      return name === 'carrier.example'
        ? { ok: true, targets: [{ address: '127.0.0.9', port: 5061, transport: 'tls', domain: 'sbc.carrier.example' }, { address: '127.0.0.10', port: 5061, transport: 'tls', domain: 'sbc.carrier.example' }] }
        : { ok: true, targets: [{ address: '::1', port: 5070, transport: 'udp', domain: 'pbx.lan' }] };
    },
  });
  m.start();
  await settle();
  assert.deepEqual(asked.sort(), ['carrier.example/tls', 'pbx.lan/udp']);
  const tls = last(srf, '127.0.0.9');
  assert.equal(tls.uri, 'sip:127.0.0.9:5061;transport=tls');
  assert.equal(tls.headers['X-Trunkgate-Route'], 'tenant=carrier;profile=c;domain=sbc.carrier.example');
  const udp = last(srf, '[::1]');
  assert.equal(udp.uri, 'sip:[::1]:5070');
  assert.deepEqual(udp.headers, {});
  const second = last(srf, '127.0.0.10');
  assert.equal(second.uri, 'sip:127.0.0.10:5061;transport=tls', 'every address the name gives is pinged');
  assert.equal(second.headers['X-Trunkgate-Route'], 'tenant=carrier;profile=c;domain=sbc.carrier.example');
  m.close();
});

test('trunk-monitor: a dns: target that resolves to nothing counts as unanswered, without a ping', async () => {
  const clock = new ManualClock(0);
  const srf = new PingSrfFake();
  const { log } = captureLog();
  const m = new TrunkMonitor({
    srf, log, clock, timeoutMs: 1000,
    policy: { tenants: { t: { transport: 'udp', sipServer: 'dns:gone.example', optionsPing: { intervalSeconds: 5, downAfter: 1 } } }, categories: [], dialPeers: [] },
    resolve: async () => ({ ok: false, code: 'ERR_B2BUA_DNS', reason: 'gone.example: no A or AAAA record' }),
  });
  const changes: string[] = [];
  m.on('change', (s) => changes.push(s.state));
  m.start();
  await settle();
  assert.equal(srf.sent.length, 0);
  assert.deepEqual(changes, ['down']);
  m.close();
});
