// A phone registered through the gateway is not one of its tenant's trunks: the tenant's digest credentials never go to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeCall, type B2buaPolicy } from '../../../../src/b2bua/index.js';
import { RELAYED_FLOW } from '../../../../src/b2bua/register-relay.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';
import { offer } from './place-call-rig.js';

test('place-call: a call to a phone registered through the gateway never carries the tenant\'s digest credentials', async () => {
  const p: B2buaPolicy = { ...policy, tenants: { ...policy.tenants, phones: { transport: 'udp', digest: { username: 'itsp-user', password: 'secret', realm: 'carrier.example' } } } };
  const place = async (relayed: boolean) => {
    const d = deps(p);
    const srf = new ScriptedSrf();
    const req = fakeInvite({ body: offer });
    if (relayed) Object.assign(req, { [RELAYED_FLOW]: { transport: 'udp', address: '203.0.113.7', port: 5062, tenant: 'phones', until: 2_000_000_000 } });
    req.locals = {
      callId: 'c1', startedAt: d.clock.now(), log: d.deps.log, identities: [], tenantIn: 'pbx', transportIn: 'udp', calledNumber: 'alice',
      dialPeers: [{ dialPeer: relayed ? { id: 'registered:phones', destinationPattern: '', tenant: 'phones', sipServer: '203.0.113.7:5062' }
        : { id: 'phones-trunk', destinationPattern: '.', tenant: 'phones', sipServer: '203.0.113.7:5062' }, prefixLength: 0 }],
    };
    placeCall({ ...d.deps, srf })(req, new FakeRes(), () => assert.fail('last step'));
    return (await srf.attempt(0)).opts;
  };
  assert.equal(typeof (await place(false)).auth, 'function', 'a trunk of the tenant answers challenges');
  assert.equal((await place(true)).auth, undefined, 'the relayed phone gets no credentials');
});
