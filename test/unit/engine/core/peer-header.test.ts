import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { peerHeader } from '../../../../src/engine/core/internal-headers.js';
import { parsePeerHeader } from '../../../../src/b2bua/peer-header.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const flow = (identities: string[]): Flow => ({
  protocol: 'tls', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '127.0.0.2', remotePort: 40000,
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, identities, tenant: 'carrier' },
});

test('X-Trunkgate-Peer carries a verified peer\'s identities, which the b2bua reads back exactly', () => {
  const h = peerHeader(flow(['sip:sbc.carrier.test', 'dns:sbc.carrier.test']), undefined);
  assert.equal(h.value, 'tenant=carrier;verified=1;transport=tls;identities="sip:sbc.carrier.test,dns:sbc.carrier.test"');
  assert.deepEqual(parsePeerHeader(h.value)?.identities, ['sip:sbc.carrier.test', 'dns:sbc.carrier.test']);
});

test('an identity that could end the quoted list or add an entry is left out, so no identity is made up', () => {
  const h = peerHeader(flow(['dns:a.test,dns:spoof.example', 'dns:b.test";x="1', 'dns:ok.test', 'dns:c\\\\d', 'dns:e;f']), undefined);
  assert.deepEqual(parsePeerHeader(h.value)?.identities, ['dns:ok.test']);
});
