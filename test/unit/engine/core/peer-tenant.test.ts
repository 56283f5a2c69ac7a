// Which tenant a request belongs to when it came over TLS: the connection's own tenant (its SNI or listener) only
// when the client's certificate verified; otherwise the tenant source trust admitted it for, by its address.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { peerHeader } from '../../../../src/engine/core/internal-headers.js';
import { RequestForApp } from '../../../../src/engine/core/request-for-app.js';
import { ProxyIdentity } from '../../../../src/engine/core/proxy-identity.js';
import { parsePeerHeader } from '../../../../src/b2bua/peer-header.js';
import { header, type SipRequest } from '../../../../src/sip/message/index.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

/**
 * A client of tenant `pbx` (trusted by its address) on a shared TLS listener, naming `partner.example` as SNI with no
 * certificate: the SNI gave the connection partner's tenant, source trust admitted the request for pbx (edge-guard
 * writes it on a copy of the flow).
 */
const sniOnly = (authorized: boolean, admittedFor?: string): Flow => ({
  protocol: 'tls', localAddress: '127.0.0.1', localPort: 5061, remoteAddress: '127.0.0.2', remotePort: 40000, listenerId: 'shared-tls',
  tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized, identities: authorized ? ['dns:sbc.partner.example'] : [], tenant: 'partner' },
  ...(admittedFor !== undefined ? { tenant: admittedFor } : {}),
});

test('a TLS caller without a verified certificate gets the tenant it was admitted for by address, not the one its SNI names', () => {
  const flow = sniOnly(false, 'pbx');
  const peer = parsePeerHeader(peerHeader(flow, undefined).value);
  assert.equal(peer?.tenant, 'pbx');
  assert.equal(peer?.verified, false);
});

test('a verified certificate keeps its connection\'s tenant; a flow nothing else names keeps the SNI\'s; UDP keeps the flow\'s, then the listener\'s', () => {
  const tenant = (flow: Flow, listenerTenant?: string) => parsePeerHeader(peerHeader(flow, listenerTenant).value)?.tenant;
  assert.equal(tenant(sniOnly(true, 'pbx')), 'partner');
  assert.equal(tenant(sniOnly(false), 'lan'), 'partner');
  const udp: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5060 };
  assert.equal(tenant(udp, 'lan'), 'lan');
  assert.equal(tenant({ ...udp, tenant: 'pbx' }, 'lan'), 'pbx');
});

const invite = (...extra: [string, string][]): SipRequest => ({
  type: 'request', method: 'INVITE', uri: 'sip:+14155550100@gw.test', version: 'SIP/2.0',
  headers: [header('Via', 'SIP/2.0/TLS 127.0.0.2:40000;branch=z9hG4bK1'), ...extra.map(([n, v]) => header(n, v))],
  body: Buffer.alloc(0),
} as unknown as SipRequest);

test('the app reads the admitted tenant, and a proxy identity header is judged for that tenant, not for the SNI\'s', () => {
  // partner trusts proxy identities from 127.0.0.2; the pbx client must not borrow that by naming partner's SNI.
  const proxyIds = new ProxyIdentity([{ tenant: 'partner', header: 'X-Partner-Identity', trustedFrom: ['127.0.0.2/32'] }]);
  let taken = 0;
  const forApp = new RequestForApp({ listeners: () => [{ id: 'shared-tls', protocol: 'tls', address: '127.0.0.1', port: 5061 }], proxyIds, onProxyIdentityTaken: () => taken++ });
  const text = forApp.text(invite(['X-Partner-Identity', 'sbc.partner.example']), sniOnly(false, 'pbx'));
  const line = /^X-Trunkgate-Peer: (.*)$/m.exec(text)?.[1];
  const peer = parsePeerHeader(line ?? '');
  assert.equal(peer?.tenant, 'pbx');
  assert.equal(peer?.verified, false, 'no proxy identity taken for a tenant the caller does not belong to');
  assert.equal(taken, 0);
  assert.doesNotMatch(text, /X-Partner-Identity/i, 'the header is removed all the same');
});
