// One reading of the address classes the gateway never sends to on a peer's word alone (src/common/address-class.ts),
// used by the dialog hop check, the media address check and the DNS answer check alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressClass, plainAddress } from '../../../src/common/address-class.js';

test('addressClass: each class with its block, IPv4-mapped and bracketed forms read as the address they are', () => {
  const cases: [string, string | undefined, number | undefined][] = [
    ['127.0.0.1', 'loopback', 8], ['::1', 'loopback', 128], ['[::1]', 'loopback', 128], ['::ffff:127.0.0.5', 'loopback', 8],
    ['0.0.0.0', 'unspecified', 8], ['::', 'unspecified', 128], ['169.254.169.254', 'link-local', 16], ['FE80::1', 'link-local', 10],
    ['224.0.0.1', 'multicast', 4], ['ff02::1', 'multicast', 8], ['255.255.255.255', 'broadcast or reserved', 4],
    ['10.0.0.1', undefined, undefined], ['198.51.100.7', undefined, undefined], ['2001:db8::1', undefined, undefined], ['sbc.example', undefined, undefined],
  ];
  for (const [a, kind, bits] of cases) assert.deepEqual([addressClass(a)?.kind, addressClass(a)?.bits], [kind, bits], a);
});

test('plainAddress: brackets off, IPv4-mapped as IPv4, IPv6 in lower case', () => {
  assert.equal(plainAddress('[FE80::1]'), 'fe80::1');
  assert.equal(plainAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(plainAddress('192.0.2.1'), '192.0.2.1');
});
