import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  PEER_HEADER, ROUTE_HEADER, isInternalHeader, parseRouteHeader, peerHeader, stripInternal, tlsFailureReason,
} from '../../../../src/engine/core/internal-headers.js';
import { parsePeerHeader } from '../../../../src/b2bua/peer-header.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const flow = (identities: string[]): Flow => ({
  protocol: 'tls', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '127.0.0.2', remotePort: 40000,
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, identities, tenant: 'carrier' },
});

test('X-Trunkgate-Peer carries a verified peer\'s identities, which the b2bua reads back exactly', () => {
  const h = peerHeader(flow(['sip:sbc.carrier.test', 'dns:sbc.carrier.test']), undefined);
  assert.equal(h.value, 'tenant=carrier;verified=1;transport=tls;tls=TLSv1.3;cipher=TLS_AES_256_GCM_SHA384;identities="sip:sbc.carrier.test,dns:sbc.carrier.test"');
  assert.deepEqual(parsePeerHeader(h.value)?.identities, ['sip:sbc.carrier.test', 'dns:sbc.carrier.test']);
});

test('X-Trunkgate-Peer names the negotiated TLS version and suite, which the b2bua reads for the CDR; a name that could break the header is left out', () => {
  const p = parsePeerHeader(peerHeader(flow([]), undefined).value);
  assert.equal(p?.tlsVersion, 'TLSv1.3');
  assert.equal(p?.cipher, 'TLS_AES_256_GCM_SHA384');
  const odd = flow([]);
  odd.tls!.cipher = 'AES;x=1';
  assert.equal(peerHeader(odd, undefined).value, 'tenant=carrier;verified=1;transport=tls');
  const unverified = flow(['dns:x.test']);
  unverified.tls!.authorized = false;
  assert.equal(parsePeerHeader(peerHeader(unverified, undefined).value)?.tlsVersion, 'TLSv1.3', 'version and suite also when the chain did not verify');
});

test('an identity that could end the quoted list or add an entry is left out, so no identity is made up', () => {
  const h = peerHeader(flow(['dns:a.test,dns:spoof.example', 'dns:b.test";x="1', 'dns:ok.test', 'dns:c\\\\d', 'dns:e;f']), undefined);
  assert.deepEqual(parsePeerHeader(h.value)?.identities, ['dns:ok.test']);
});

test('X-Trunkgate-Peer without a verified chain: tenant of the flow, else of the listener, verified=0, no identities', () => {
  const udp: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5060 };
  assert.equal(peerHeader(udp, 'lan').value, 'tenant=lan;verified=0;transport=udp');
  assert.equal(peerHeader({ ...udp, tenant: 'trusted' }, 'lan').value, 'tenant=trusted;verified=0;transport=udp');
  assert.equal(peerHeader(udp, undefined).value, 'verified=0;transport=udp');
  const unverified = flow(['dns:x.test']);
  unverified.tls!.authorized = false;
  assert.equal(peerHeader(unverified, 'lan').value, 'tenant=carrier;verified=0;transport=tls;tls=TLSv1.3;cipher=TLS_AES_256_GCM_SHA384');
  assert.equal(peerHeader(flow([]), undefined).value, 'tenant=carrier;verified=1;transport=tls;tls=TLSv1.3;cipher=TLS_AES_256_GCM_SHA384');
  assert.equal(peerHeader(udp, undefined).raw, 'X-Trunkgate-Peer');
});

test('X-Trunkgate-Route: tenant, profile and a domain made canonical; unknown, empty and bare parameters are ignored', () => {
  assert.deepEqual(parseRouteHeader('tenant=acme;profile=strict;domain=SBC.Carrier.Example.'), {
    tenant: 'acme', profile: 'strict', domain: 'sbc.carrier.example',
  });
  assert.deepEqual(parseRouteHeader(' Tenant = "acme" ; PROFILE=p1;x=1;bare;profile2=q;tenant='), { tenant: 'acme', profile: 'p1' });
  assert.deepEqual(parseRouteHeader('tenant=a=b'), { tenant: 'a=b' });
  assert.deepEqual(parseRouteHeader(''), {});
  assert.deepEqual(parseRouteHeader('=x;domain=""'), {});
});

test('internal headers are stripped in place, whatever their order, and nothing else is touched', () => {
  const h = (name: string) => ({ name, raw: name, value: name });
  const list = [h(PEER_HEADER), h('via'), h(ROUTE_HEADER), h(ROUTE_HEADER), h('to'), h(PEER_HEADER)];
  stripInternal(list);
  assert.deepEqual(list.map((x) => x.name), ['via', 'to']);
  const none = [h('via'), h('from')];
  stripInternal(none);
  assert.deepEqual(none.map((x) => x.name), ['via', 'from']);
  assert.equal(isInternalHeader('x-trunkgate-other'), false);
});

test('a failed TLS handshake becomes a Reason naming the code, the reason and both identities; other errors give none', () => {
  const tlsFailure = { reason: 'name-mismatch', code: 'ERR_TLS_NAME_MISMATCH', peerReported: false, detail: 'd', expected: ['dns:a.test'], presented: ['dns:b.test', 'sip:c"\r\nx'] };
  const err = { code: 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE', details: { tlsFailure, sipxText: 'sipX says no' } };
  assert.equal(tlsFailureReason(err),
    'SIP;cause=503;text="TLS_HANDSHAKE_FAILED name-mismatch: sipX says no; ERR_TLS_NAME_MISMATCH (expected dns:a.test, presented dns:b.test sip:c\\" x)"');
  // Found through a cause chain up to four deep; no names when neither side has any.
  const bare = { code: 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE', details: { tlsFailure: { ...tlsFailure, expected: undefined, presented: undefined } } };
  assert.equal(tlsFailureReason({ code: 'X', cause: { cause: { cause: bare } } }), 'SIP;cause=503;text="TLS_HANDSHAKE_FAILED name-mismatch: ERR_TLS_NAME_MISMATCH"');
  assert.equal(tlsFailureReason({ cause: { cause: { cause: { cause: bare } } } }), undefined);
  const oneSide = { code: 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE', details: { tlsFailure: { ...tlsFailure, presented: [] } } };
  assert.match(tlsFailureReason(oneSide)!, /\(expected dns:a\.test, presented -\)"$/);
  assert.equal(tlsFailureReason({ code: 'ERR_SIP_TRANSPORT_TLS_HANDSHAKE', details: {} }), undefined);
  assert.equal(tlsFailureReason(new Error('plain')), undefined);
  assert.equal(tlsFailureReason(undefined), undefined);
});
