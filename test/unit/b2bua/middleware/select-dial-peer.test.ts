import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectDialPeer } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const cases: Array<[number: string, tenant: string, ids: string[]]> = [
  ['+442071234567', 'pbx', ['intl', 'intl-backup']],
  ['5551234', 'carrier', ['local']],
  ['5551234', 'pbx', []],
  ['999', 'pbx', []],
];

for (const [number, tenant, ids] of cases) {
  test(`select-dial-peer: ${number} from ${tenant} → ${ids.join(', ') || '404'}`, () => {
    const d = deps();
    const req = fakeInvite();
    req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [], tenantIn: tenant, calledNumber: number };
    const res = new FakeRes();
    let nexts = 0;
    selectDialPeer(d.deps)(req, res, () => nexts++);
    if (ids.length === 0) {
      assert.equal(nexts, 0);
      assert.equal(res.status, 404);
      assert.match(res.reasonHeader ?? '', /^SIP;cause=404;text="/);
      assert.equal(d.stats.noRoute, 1);
      return;
    }
    assert.equal(nexts, 1);
    assert.deepEqual(req.locals.dialPeers?.map((c) => c.dialPeer.id), ids);
  });
}

test('select-dial-peer: a dial peer naming a tenant the policy lacks is no route', () => {
  const d = deps();
  const p = { ...d.deps.policy, dialPeers: [{ id: 'ghost', destinationPattern: '.', tenant: 'ghost' }] };
  const req = fakeInvite();
  req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '123' };
  const res = new FakeRes();
  selectDialPeer({ ...d.deps, policy: p })(req, res, () => assert.fail('no next'));
  assert.equal(res.status, 404);
});

test('select-dial-peer: a dial peer whose every target is down is skipped while another is up; all down keeps all', () => {
  const down = new Set<string>();
  const d = deps();
  const step = selectDialPeer({ ...d.deps, trunks: { isDown: (t, s) => down.has(`${t} ${s}`) } });
  const route = () => {
    const req = fakeInvite();
    req.locals = { callId: 'c', startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '+442071234567' };
    step(req, new FakeRes(), () => {});
    return req.locals.dialPeers?.map((c) => c.dialPeer.id);
  };
  assert.deepEqual(route(), ['intl', 'intl-backup']);
  down.add('carrier sbc1.carrier.example:5061');
  assert.deepEqual(route(), ['intl', 'intl-backup'], 'one of two carrier targets is still up');
  down.add('carrier sbc2.carrier.example:5061');
  assert.deepEqual(route(), ['intl-backup']);
  assert.equal(d.stats.skippedDown, 1);
  down.add('backup 192.0.2.10:5060');
  assert.deepEqual(route(), ['intl', 'intl-backup'], 'every trunk down: try them all rather than refuse');
});

test('select-dial-peer: a flood of unroutable calls from one source logs one coded line, every call still refused with a CDR', async () => {
  const { RateLimitedLog } = await import('../../../../src/log/index.js');
  const d = deps();
  const refusals = new RateLimitedLog(d.deps.log, d.clock, { intervalMs: 60_000 });
  const step = selectDialPeer({ ...d.deps, refusals });
  for (let i = 0; i < 50; i++) {
    const req = { ...fakeInvite(), source_address: '192.0.2.7' };
    req.locals = { callId: `c${i}`, startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '999' };
    const res = new FakeRes();
    step(req, res, () => assert.fail('no route'));
    assert.equal(res.status, 404);
  }
  const coded = d.lines.filter((l) => l.code === 'ERR_B2BUA_NO_ROUTE');
  assert.equal(coded.length, 1);
  assert.equal(coded[0]!.source, '192.0.2.7');
  assert.equal(d.lines.filter((l) => l.msg === 'cdr').length, 50);
  d.clock.advance(60_000);
  const req = { ...fakeInvite(), source_address: '192.0.2.7' };
  req.locals = { callId: 'late', startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '999' };
  step(req, new FakeRes(), () => undefined);
  assert.equal(d.lines.filter((l) => l.code === 'ERR_B2BUA_NO_ROUTE').at(-1)!.suppressed, 49);
});

test('select-dial-peer: while a trunk is down, every call that passes it over is counted and one coded line a window is written', async () => {
  const { RateLimitedLog } = await import('../../../../src/log/index.js');
  const d = deps();
  const refusals = new RateLimitedLog(d.deps.log, d.clock, { intervalMs: 60_000 });
  const down = new Set(['carrier sbc1.carrier.example:5061', 'carrier sbc2.carrier.example:5061']);
  const step = selectDialPeer({ ...d.deps, refusals, trunks: { isDown: (t, s) => down.has(`${t} ${s}`) } });
  for (let i = 0; i < 50; i++) {
    const req = fakeInvite();
    req.locals = { callId: `c${i}`, startedAt: 0, log: d.deps.log, identities: [], tenantIn: 'pbx', calledNumber: '+442071234567' };
    step(req, new FakeRes(), () => undefined);
    assert.deepEqual(req.locals.dialPeers?.map((c) => c.dialPeer.id), ['intl-backup']);
  }
  assert.equal(d.stats.skippedDown, 50);
  const skipped = d.lines.filter((l) => /dial peers skipped/.test(String(l.msg)));
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]!.code, 'ERR_B2BUA_DIAL_PEER_SKIPPED');
  assert.deepEqual(skipped[0]!.skipped, ['intl']);
});
