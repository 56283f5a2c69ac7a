import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hopClass, hopRefusal } from '../../../../src/engine/core/hop-check.js';

const CARRIER = '198.51.100.7';
/** The gateway's listeners as addressing.ts would answer for them: 127.0.0.1:5060 and 203.0.113.5:5060. */
const own = { isLocal: (a: string, p: number): boolean => p === 5060 && (a === '127.0.0.1' || a === '203.0.113.5') };

test('each address class the engine does not send in-dialog requests to, IPv4, IPv6 and IPv4-mapped', () => {
  const cases: [string, ReturnType<typeof hopClass>][] = [
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['::', 'unspecified'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast or reserved'], ['240.0.0.1', 'broadcast or reserved'],
    [CARRIER, undefined], ['10.0.0.1', undefined], ['192.168.1.1', undefined], ['2001:db8::1', undefined], ['fc00::1', undefined],
    ['sbc.example', undefined],
  ];
  for (const [a, k] of cases) assert.equal(hopClass(a), k, a);
});

test('a carrier\'s hop on loopback, link-local, multicast, broadcast or unspecified is refused; an ordinary address is not', () => {
  for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '169.254.169.254', '224.0.0.1', '255.255.255.255', '0.0.0.0']) {
    assert.notEqual(hopRefusal(a, 9022, CARRIER, own), undefined, a);
    assert.notEqual(hopRefusal(a, 9022, undefined), undefined, `${a}, peer unknown`);
  }
  assert.equal(hopRefusal('198.51.100.8', 5060, CARRIER, own), undefined);
  assert.equal(hopRefusal('10.0.0.1', 5060, CARRIER, own), undefined);
});

test('a peer on loopback or link-local may name a hop of its own class, never of another', () => {
  assert.equal(hopRefusal('127.0.0.1', 9022, '127.0.0.2', own), undefined);
  assert.equal(hopRefusal('::1', 9022, '127.0.0.2', own), undefined);
  assert.equal(hopRefusal('fe80::2', 5060, 'fe80::1', own), undefined);
  assert.equal(hopRefusal('169.254.169.254', 80, '127.0.0.2', own), 'link-local');
  assert.equal(hopRefusal('127.0.0.1', 9022, '169.254.1.1', own), 'loopback');
});

test('the gateway\'s own listeners are refused whoever the peer is, IPv4-mapped too; another port of the host is not ours', () => {
  assert.equal(hopRefusal('127.0.0.1', 5060, '127.0.0.2', own), 'this gateway');
  assert.equal(hopRefusal('::ffff:127.0.0.1', 5060, '127.0.0.2', own), 'this gateway');
  assert.equal(hopRefusal('203.0.113.5', 5060, CARRIER, own), 'this gateway');
  assert.equal(hopRefusal('203.0.113.5', 5062, CARRIER, own), undefined);
  assert.equal(hopRefusal('127.0.0.1', 5070, '127.0.0.2', own), undefined);
});
