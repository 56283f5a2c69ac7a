import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localContactValue } from '../../../../src/engine/core/core-util.js';

test('an app\'s localhost Contact gets our address, and over TCP or TLS the transport, so in-dialog requests come back the same way', () => {
  const hp = '192.0.2.5:5061';
  assert.equal(localContactValue('<sip:alice@localhost>', hp, 'tls'), '<sip:alice@192.0.2.5:5061;transport=tls>');
  assert.equal(localContactValue('"sipp" <sip:sipp@localhost:5060>;expires=60', hp, 'tcp'), '"sipp" <sip:sipp@192.0.2.5:5061;transport=tcp>;expires=60');
  assert.equal(localContactValue('sip:alice@localhost;ob', hp, 'tls'), '<sip:alice@192.0.2.5:5061;transport=tls>;ob');
  assert.equal(localContactValue('<sip:alice@localhost;transport=TCP>', hp, 'tls'), '<sip:alice@192.0.2.5:5061;transport=TCP>', 'a transport the app named stays');
  assert.equal(localContactValue('<sip:alice@localhost>', hp, 'udp'), '<sip:alice@192.0.2.5:5061>', 'UDP is the default: nothing added');
  assert.equal(localContactValue('<sip:alice@198.51.100.7:5080>', hp, 'tls'), '<sip:alice@198.51.100.7:5080>', 'an address of the app\'s own is left as written');
});
