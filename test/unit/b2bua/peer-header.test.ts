import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPeerHeader, parsePeerHeader, type PeerHeader } from '../../../src/b2bua/index.js';

const good: Array<[string, PeerHeader]> = [
  ['tenant=acme;verified=1;transport=tls;identities="sip:pbx.example.com,dns:pbx.example.com"',
    { tenant: 'acme', verified: true, transport: 'tls', identities: ['sip:pbx.example.com', 'dns:pbx.example.com'] }],
  ['tenant=acme;verified=0;transport=udp', { tenant: 'acme', verified: false, transport: 'udp', identities: [] }],
  [' Tenant = acme ; VERIFIED=1 ; transport=TLS ; identities="" ; future=x', { tenant: 'acme', verified: true, transport: 'tls', identities: [] }],
  ['verified=1;transport=tcp;identities=dns:a.example', { verified: true, transport: 'tcp', identities: ['dns:a.example'] }],
  ['tenant=c;verified=0;transport=tls;tls=TLSv1.2;cipher=ECDHE-RSA-AES256-GCM-SHA384',
    { tenant: 'c', verified: false, transport: 'tls', identities: [], tlsVersion: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' }],
  ['verified=0;transport=udp;origin=engine', { verified: false, transport: 'udp', identities: [], origin: 'engine' }],
];

for (const [text, parsed] of good) {
  test(`parsePeerHeader reads ${text}`, () => assert.deepEqual(parsePeerHeader(text), parsed));
}

const bad = [
  '', ';;', 'tenant=acme;tenant=other', 'tenant=a b', 'verified=yes', 'transport=sctp', 'identities="sip:a',
  'identities="sip:<a>"', 'tls=TLSv9;transport=tls', 'tls="TLSv1.3 x"', 'cipher=AES,GCM', 'cipher="a b"', `cipher=${'A'.repeat(65)}`,
  'tls=TLSv1.3;tls=TLSv1.2', 'origin=app', 'origin=', `identities="${Array.from({ length: 65 }, (_, i) => `dns:h${i}`).join(',')}"`, 'x'.repeat(5000),
];
for (const text of bad) {
  test(`parsePeerHeader refuses ${text.slice(0, 40)}`, () => assert.equal(parsePeerHeader(text), undefined));
}

test('formatPeerHeader round-trips', () => {
  const p: PeerHeader = {
    tenant: 'acme', verified: true, transport: 'tls', identities: ['sip:a.example', 'dns:a.example'], tlsVersion: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256',
  };
  assert.deepEqual(parsePeerHeader(formatPeerHeader(p)), p);
});
