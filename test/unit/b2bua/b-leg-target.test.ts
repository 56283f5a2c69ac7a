import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bLegTargets, bLegUri, parseServer, type TenantPolicy } from '../../../src/b2bua/index.js';

const uris: Array<[string, string, TenantPolicy['transport'] & string, 'sip' | 'sips' | 'tel', string]> = [
  ['2125551234', '10.0.0.1:5060', 'udp', 'sip', 'sip:2125551234@10.0.0.1:5060'],
  ['2125551234', '10.0.0.1:5060', 'tcp', 'sip', 'sip:2125551234@10.0.0.1:5060;transport=tcp'],
  ['2125551234', 'sbc.example:5061', 'tls', 'sip', 'sip:2125551234@sbc.example:5061;transport=tls'],
  ['+442071234567', 'sbc.example:5061', 'tls', 'sips', 'sips:+442071234567@sbc.example:5061;transport=tls'],
  ['+442071234567', '[2001:db8::1]:5060', 'udp', 'tel', 'sip:+442071234567@[2001:db8::1]:5060;user=phone'],
  ['*72#', 'dns:trunk.example', 'udp', 'sip', 'sip:*72%23@trunk.example'],
  ['', '10.0.0.1:5060', 'udp', 'sip', 'sip:10.0.0.1:5060'],
];

for (const [number, server, transport, scheme, uri] of uris) {
  test(`bLegUri: ${number || '(no number)'} ${scheme} over ${transport} at ${server}`, () => {
    assert.equal(bLegUri(number, parseServer(server)!, transport, scheme), uri);
  });
}

test('parseServer refuses what is no target', () => {
  for (const s of ['10.0.0.1', 'a b:5060', '10.0.0.1:0', '10.0.0.1:70000', 'dns:']) assert.equal(parseServer(s), undefined, s);
  assert.deepEqual(parseServer('dns:sip.example.:5061'), { host: 'sip.example', port: 5061 });
});

test('bLegTargets: dial peers in order, each tenant target in order, a dial peer\'s own server first, sips forces TLS', () => {
  const tenants: Record<string, TenantPolicy> = {
    a: { transport: 'udp', url: 'sips', tlsProfile: 'pa', sipServer: ['a1.example:5061', 'a2.example:5061'] },
    b: { transport: 'tcp', sipServer: '10.0.0.2:5060' },
    c: { transport: 'udp' },
  };
  const t = bLegTargets('5551234', [
    { id: '1', destinationPattern: '.', tenant: 'a' },
    { id: '2', destinationPattern: '.', tenant: 'b', sipServer: '10.0.0.9:5070' },
    { id: '3', destinationPattern: '.', tenant: 'c' },
    { id: '4', destinationPattern: '.', tenant: 'missing' },
  ], tenants);
  assert.deepEqual(t.map((x) => [x.dialPeer, x.uri, x.headers]), [
    ['1', 'sips:5551234@a1.example:5061;transport=tls', { 'X-Trunkgate-Route': 'tenant=a;profile=pa' }],
    ['1', 'sips:5551234@a2.example:5061;transport=tls', { 'X-Trunkgate-Route': 'tenant=a;profile=pa' }],
    ['2', 'sip:5551234@10.0.0.9:5070;transport=tcp', {}],
  ]);
});

test('bLegUri: a number with characters past U+00FF decodes at the far end to the number the policy classified', () => {
  // Escaped one UTF-16 unit as one byte, U+2D19 went out as %2D19, which the carrier read as "-19…", a 900 number.
  for (const number of ['ⴙ005551234', '’005551234', '１9005551234', '+44 20;x?y#', '\uD800005551234']) {
    const uri = bLegUri(number, { host: 'trunk.example', port: 5060 }, 'udp', 'sip');
    const user = /^sip:([^@]*)@trunk\.example:5060$/.exec(uri)?.[1];
    assert.ok(user !== undefined, uri);
    assert.match(user, /^[A-Za-z0-9\-_.!~*'()&=+$,/%]*$/, 'only RFC 3261 user characters, the rest escaped');
    assert.equal(decodeURIComponent(user), number.replace(/[\uD800-\uDFFF]/g, '\uFFFD'), uri);
  }
});
