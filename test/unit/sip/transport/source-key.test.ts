import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { sourceKey } from '../../../../src/sip/transport/address.js';

test('a per-source limit counts an IPv4 address alone and an IPv6 address by its /64, however it is written', () => {
  assert.equal(sourceKey('192.0.2.7'), '192.0.2.7');
  assert.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7', 'IPv4-mapped');
  assert.equal(sourceKey('[2001:db8:1:2::5]'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:DB8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:0db8:0001:0002:0:0:0:1'), '2001:db8:1:2::/64', 'leading zeros');
  assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('2001:db8::'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'a zone id');
  assert.equal(sourceKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64', 'a dotted tail');
  assert.notEqual(sourceKey('2001:db8:1:2::5'), sourceKey('2001:db8:1:3::5'), 'another /64');
  assert.equal(sourceKey('not-an-address'), 'not-an-address');
});
