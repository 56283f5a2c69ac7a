import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMediaAddresses, type TenantMedia } from '../../../src/media/index.js';

const body = (c: string, extra = '') => `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n${c ? `c=IN ${c.includes(':') ? 'IP6' : 'IP4'} ${c}\r\n` : ''}t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n${extra}`;
const tenant = (allowedNetworks?: string[]): TenantMedia & { name: string } =>
  ({ mode: 'flow-through', srtp: 'off', name: 'pbx', ...(allowedNetworks ? { allowedNetworks } : {}) });
const verdict = (sdp: string, t = tenant()) => {
  const r = checkMediaAddresses(sdp, t, 'offer');
  return r.ok ? 'ok' : r.reason;
};

test('a unicast address anywhere passes when the tenant lists no networks; the unspecified address (hold) always passes', () => {
  for (const a of ['192.0.2.10', '10.1.2.3', '2001:db8::5', '0.0.0.0', '::']) assert.equal(verdict(body(a)), 'ok', a);
  assert.equal(verdict(body('0.0.0.0'), tenant(['192.0.2.0/24'])), 'ok', 'RFC 2543 hold with a list');
});

test('loopback, link-local, multicast, broadcast and the rest of 0.0.0.0/8 are refused, naming the address and its class', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['224.0.0.1', 'multicast'], ['239.1.1.1', 'multicast'], ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast or reserved'], ['240.0.0.1', 'broadcast or reserved'], ['0.1.2.3', 'unspecified'],
  ];
  for (const [a, kind] of cases) assert.equal(verdict(body(a)), `Media address ${a} of the offer from tenant pbx is ${kind}`, a);
});

test('loopback is taken only when an entry of media.allowedNetworks lies inside it; 0.0.0.0/0 does not name it', () => {
  assert.equal(verdict(body('127.0.0.2'), tenant(['127.0.0.0/8'])), 'ok');
  assert.equal(verdict(body('127.0.0.2'), tenant(['127.0.0.2'])), 'ok');
  assert.equal(verdict(body('::1'), tenant(['::1/128'])), 'ok');
  assert.equal(verdict(body('127.0.0.3'), tenant(['127.0.0.2/32'])), 'Media address 127.0.0.3 of the offer from tenant pbx is loopback');
  assert.equal(verdict(body('127.0.0.1'), tenant(['0.0.0.0/0'])), 'Media address 127.0.0.1 of the offer from tenant pbx is loopback');
  assert.equal(verdict(body('127.0.0.1'), tenant(['96.0.0.0/3'])), 'Media address 127.0.0.1 of the offer from tenant pbx is loopback');
  assert.equal(verdict(body('224.0.0.1'), tenant(['224.0.0.0/4'])), 'Media address 224.0.0.1 of the offer from tenant pbx is multicast');
});

test('with media.allowedNetworks, an address outside every entry is refused', () => {
  const t = tenant(['192.0.2.0/24', '2001:db8::/32']);
  assert.equal(verdict(body('192.0.2.77'), t), 'ok');
  assert.equal(verdict(body('2001:db8::9'), t), 'ok');
  assert.equal(verdict(body('198.51.100.7'), t), 'Media address 198.51.100.7 of the offer from tenant pbx is outside its media.allowedNetworks');
});

test('every active section counts, with its own c= line and its a=rtcp address; sections that carry no media do not', () => {
  const rtcp = body('192.0.2.10', 'a=rtcp:4001 IN IP4 127.0.0.1\r\n');
  assert.equal(verdict(rtcp), 'Media address 127.0.0.1 of the offer from tenant pbx is loopback');
  const second = body('192.0.2.10', 'm=video 5000 RTP/AVP 96\r\nc=IN IP4 198.51.100.9\r\n');
  assert.equal(verdict(second, tenant(['192.0.2.0/24'])), 'Media address 198.51.100.9 of the offer from tenant pbx is outside its media.allowedNetworks');
  // Rejected (port 0) and not relayed (disabled before rtpengine: sdp-scrub.ts) sections name no destination.
  const rejected = body('192.0.2.10', 'm=video 0 RTP/AVP 96\r\nc=IN IP4 127.0.0.1\r\nm=message 7000 TCP/MSRP *\r\nc=IN IP4 127.0.0.1\r\n');
  assert.equal(verdict(rejected), 'ok');
});

test('a section with no connection address, or one that is not an IP address, is refused', () => {
  assert.equal(verdict(body('')), 'Media address of the offer from tenant pbx is missing');
  assert.equal(verdict(body('pbx.example.com')), 'Media address of the offer from tenant pbx is not an IP address');
  assert.equal(verdict(body('192.0.2.1').replace('c=IN IP4 192.0.2.1', 'c=IN IP4')), 'Media address of the offer from tenant pbx is not an IP address');
});
