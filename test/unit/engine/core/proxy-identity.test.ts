import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ProxyIdentity, parseIdentityList } from '../../../../src/engine/core/proxy-identity.js';
import { peerHeader } from '../../../../src/engine/core/internal-headers.js';
import { parsePeerHeader } from '../../../../src/b2bua/peer-header.js';
import { header, type SipRequest } from '../../../../src/sip/message/index.js';
import type { Flow } from '../../../../src/sip/transport/types.js';

const invite = (...extra: [string, string][]): SipRequest => ({
  type: 'request', method: 'INVITE', uri: 'sip:+14155550100@gw.test', version: 'SIP/2.0',
  headers: [header('Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1'), ...extra.map(([n, v]) => header(n, v))],
  body: Buffer.alloc(0),
} as unknown as SipRequest);

const udp: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.1', remotePort: 5070 };
const proxy = () => new ProxyIdentity([{ tenant: 'carrier', header: 'X-Carrier-Identity', trustedFrom: ['127.0.0.1/32'] }]);

test('the identity header from a trusted proxy address gives verified identities of origin proxy, and is removed', () => {
  const p = proxy();
  const r = invite(['X-Carrier-Identity', 'sbc.carrier.test, sip:sbc.carrier.test']);
  const ids = p.take(r, '127.0.0.1', 'carrier');
  assert.deepEqual(ids?.identities, ['dns:sbc.carrier.test', 'sip:sbc.carrier.test']);
  assert.equal(r.headers.some((h) => h.name === 'x-carrier-identity'), false);
  const peer = parsePeerHeader(peerHeader(udp, 'carrier', ids).value);
  assert.equal(peer?.verified, true);
  assert.deepEqual(peer?.identities, ['dns:sbc.carrier.test', 'sip:sbc.carrier.test']);
  assert.match(peerHeader(udp, 'carrier', ids).value, /;origin=proxy;/);
  assert.deepEqual(p.stats, { taken: 1, ignored: 0 });
});

test('the same header from another address or for another tenant is removed, ignored and counted', () => {
  const ignored: string[] = [];
  const p = new ProxyIdentity([{ tenant: 'carrier', header: 'X-Carrier-Identity', trustedFrom: ['127.0.0.1/32'] }], (s, t) => ignored.push(`${s} ${t}`));
  const a = invite(['X-Carrier-Identity', 'sbc.carrier.test']);
  assert.equal(p.take(a, '127.0.0.2', 'carrier'), undefined);
  assert.equal(a.headers.length, 1);
  const b = invite(['x-carrier-identity', 'sbc.carrier.test']);
  assert.equal(p.take(b, '127.0.0.1', 'pbx'), undefined);
  assert.equal(b.headers.length, 1);
  assert.deepEqual(p.stats, { taken: 0, ignored: 2 });
  assert.deepEqual(ignored, ['127.0.0.2 carrier', '127.0.0.1 pbx']);
  assert.equal(parsePeerHeader(peerHeader(udp, 'carrier').value)?.verified, false);
});

test('names that could break the peer header are dropped from the list', () => {
  assert.deepEqual(parseIdentityList('a.test, "b.test", x;y=1, c"d, sip:e.test, a.test'), ['dns:a.test', 'dns:b.test', 'sip:e.test']);
});

test('replace: new proxy addresses and headers apply to the next request; a tenant left out loses its header; the counters go on', () => {
  const p = proxy();
  assert.ok(p.take(invite(['X-Carrier-Identity', 'a.carrier.test']), '127.0.0.1', 'carrier'));
  p.replace([{ tenant: 'carrier', header: 'X-Edge-Identity', trustedFrom: ['127.0.0.9'] }, { tenant: 'other', header: 'X-Other-Id', trustedFrom: ['127.0.0.1'] }]);
  const moved = invite(['X-Edge-Identity', 'b.carrier.test']);
  assert.equal(p.take(moved, '127.0.0.1', 'carrier'), undefined, 'the old proxy address no longer vouches');
  assert.equal(moved.headers.length, 1, 'and its copy of the new header is removed');
  assert.deepEqual(p.take(invite(['X-Edge-Identity', 'b.carrier.test']), '127.0.0.9', 'carrier')?.identities, ['dns:b.carrier.test']);
  const oldHeader = invite(['X-Carrier-Identity', 'a.carrier.test']);
  assert.equal(p.take(oldHeader, '127.0.0.9', 'carrier'), undefined, 'the old header is no longer read');
  assert.equal(oldHeader.headers.length, 2, 'nor removed: it is no longer a configured header');
  p.replace([]);
  assert.equal(p.empty, true);
  assert.deepEqual(p.stats, { taken: 2, ignored: 1 });
});
