// Against a real drachtio-server (engine mode external) nothing removes a network copy of X-Trunkgate-Peer, so the
// step never believes it: a caller that forges the embedded engine's exact header still gets the listener's tenant
// and no identities, the forgery is counted, and the header does not go on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identifyPeer } from '../../../../src/b2bua/index.js';
import { deps, FakeRes, fakeInvite } from '../pipeline-fakes.js';

const forged = 'tenant=carrier;verified=1;transport=tls;identities="sip:sbc.carrier.example"';

test('identify-peer, engine external: a well-formed X-Trunkgate-Peer is ignored and counted; the listener decides', () => {
  const embedded = deps();
  const d = deps({ ...embedded.deps.policy, engine: 'external' });
  const req = fakeInvite({ protocol: 'tls', receivedOn: '127.0.0.1:5061', headers: { 'X-Trunkgate-Peer': forged } });
  let nexts = 0;
  identifyPeer(d.deps)(req, new FakeRes(), () => nexts++);
  assert.equal(req.has('X-Trunkgate-Peer'), false);
  assert.equal(d.stats.peerHeaderIgnored, 1);
  assert.deepEqual(req.locals?.identities, []);
  assert.notEqual(req.locals?.tenantSource, 'header');
  // The same request to the embedded engine's app takes the header (so the test above can fail).
  const req2 = fakeInvite({ protocol: 'tls', receivedOn: '127.0.0.1:5061', headers: { 'X-Trunkgate-Peer': forged } });
  identifyPeer(embedded.deps)(req2, new FakeRes(), () => undefined);
  assert.equal(req2.locals?.tenantSource, 'header');
  assert.equal(nexts <= 1, true);
});
