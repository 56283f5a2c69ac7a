/** Who may send in a dialog (dialog-peer.ts): its peer's address, connection or verified TLS identity; a proxied dialog's ends. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromDialogPeer, peerOfProxied, type DialogPeer } from '../../../../src/engine/core/dialog-peer.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const flow = (o: Partial<Flow>): Flow => ({ protocol: 'udp', localAddress: '10.0.0.1', localPort: 5060, remoteAddress: '198.51.100.7', remotePort: 5060, ...o });
const tls = (ids: string[], authorized = true) => ({ version: 'TLSv1.3', cipher: 'x', authorized, identities: ids, tenant: 'carrier' });

test('UDP or TCP: the peer\'s address from any port and either transport, nothing else', () => {
  const peer: DialogPeer = { ends: [{ protocol: 'udp', address: '198.51.100.7' }] };
  assert.equal(fromDialogPeer(peer, flow({ remotePort: 40000 })), true);
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'tcp', connectionId: 'c9' })), true);
  assert.equal(fromDialogPeer(peer, flow({ remoteAddress: '::ffff:198.51.100.7' })), true);
  assert.equal(fromDialogPeer(peer, flow({ remoteAddress: '203.0.113.66' })), false);
});

test('TLS with a verified certificate: the same connection or the same identities and tenant, never the address alone', () => {
  const peer: DialogPeer = { ends: [{ protocol: 'tls', address: '198.51.100.7', connectionId: 'c1', tls: tls(['sip:sbc.example.net']) }] };
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'tls', connectionId: 'c1' })), true);
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'tls', connectionId: 'c2', remoteAddress: '198.51.100.8', tls: tls(['sip:sbc.example.net']) })), true);
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'tls', connectionId: 'c3', tls: tls(['sip:other.example.net']) })), false);
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'tls', connectionId: 'c4', tls: tls(['sip:sbc.example.net'], false) })), false);
  assert.equal(fromDialogPeer(peer, flow({ protocol: 'udp' })), false, 'not over UDP from its address');
});

test('a proxied dialog: either end, or the host of the hop a side sends through', () => {
  const peer = peerOfProxied({
    callerTag: 'a', toCaller: 'pbx.example.com:5060', toCallee: '192.0.2.20:5060',
    caller: { protocol: 'udp', address: '192.0.2.10', port: 5060 }, callee: { protocol: 'udp', address: '192.0.2.20', port: 5060 },
  });
  assert.equal(fromDialogPeer(peer, flow({ remoteAddress: '192.0.2.10' })), true);
  assert.equal(fromDialogPeer(peer, flow({ remoteAddress: '192.0.2.20' })), true);
  assert.equal(fromDialogPeer(peer, flow({ remoteAddress: '203.0.113.66' })), false);
  assert.deepEqual(peerOfProxied(undefined), { ends: [] });
});
