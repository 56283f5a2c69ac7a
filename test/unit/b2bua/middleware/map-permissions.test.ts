import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapPermissions, type CallLocals } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

function withLocals(tenant: string, identities: string[], log: CallLocals['log']) {
  const req = fakeInvite();
  req.locals = { callId: 'c1', startedAt: 0, log, tenantIn: tenant, identities };
  return req;
}

const cases: Array<{
  name: string; tenant: string; identities: string[]; next: boolean; tlsPeer?: string;
  permissions?: Record<string, boolean>; warning?: boolean; status?: number;
}> = [
  {
    name: 'a matching TLS peer adds its permissions over the defaults', tenant: 'carrier',
    identities: ['dns:other.example', 'sip:sbc.carrier.example'], next: true, tlsPeer: 'sbc.carrier.example',
    permissions: { tollFree: true, international: true, local: true },
  },
  {
    name: 'no identities on an allow tenant: defaults, no warning', tenant: 'pbx', identities: [], next: true,
    permissions: { tollFree: true, international: false, local: true },
  },
  {
    name: 'unknown identities on an allow tenant: defaults and the warning', tenant: 'strict',
    identities: ['sip:stranger.example'], next: true, warning: true,
    permissions: { tollFree: true, international: false, local: false },
  },
  { name: 'unknown identities on a reject tenant: 403', tenant: 'carrier', identities: ['sip:stranger.example'], next: false, status: 403 },
  { name: 'no identities on a reject tenant: 403', tenant: 'carrier', identities: [], next: false, status: 403 },
];

for (const c of cases) {
  test(`map-permissions: ${c.name}`, () => {
    const d = deps();
    const req = withLocals(c.tenant, c.identities, d.deps.log);
    const res = new FakeRes();
    let nexts = 0;
    mapPermissions(d.deps)(req, res, () => nexts++);
    assert.equal(nexts, c.next ? 1 : 0);
    if (c.status) {
      assert.equal(res.status, c.status);
      assert.match(res.reasonHeader ?? '', /^SIP;cause=403;text="No matching TLS Peer found for /);
      assert.equal(d.stats.unknownPeerRejected, 1);
      return;
    }
    assert.equal(req.locals?.tlsPeer, c.tlsPeer);
    assert.deepEqual({ ...req.locals?.permissions }, c.permissions);
    const warn = d.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('No matching TLS Peer found for'));
    assert.equal(warn !== undefined, c.warning === true);
    if (c.warning) {
      assert.equal(warn!.msg, `No matching TLS Peer found for ${c.identities.join(', ')}`);
      assert.equal(d.stats.unknownPeerAllowed, 1);
    }
  });
}
