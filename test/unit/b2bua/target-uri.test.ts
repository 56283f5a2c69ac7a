import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget, startB2bua, targetUri, uriUser } from '../../../src/b2bua/index.js';

test('parses host:port with an optional transport', () => {
  assert.deepEqual(parseTarget('127.0.0.1:5090'), { host: '127.0.0.1', port: 5090, transport: 'udp' });
  assert.deepEqual(parseTarget('pbx.example.com:5070;transport=TCP'), { host: 'pbx.example.com', port: 5070, transport: 'tcp' });
  assert.deepEqual(parseTarget('[::1]:5060;transport=udp'), { host: '[::1]', port: 5060, transport: 'udp' });
});

test('rejects a target without a port, with a bad port or an unsupported transport', () => {
  for (const bad of ['127.0.0.1', 'h:5060;transport=sctp', '127.0.0.1:0', '127.0.0.1:70000', 'sip:h:5060', '']) {
    assert.throws(() => parseTarget(bad), { code: 'ERR_B2BUA_TARGET_INVALID' }, bad);
  }
});

test('the B-leg URI keeps the called user and names tcp explicitly', () => {
  assert.equal(targetUri(parseTarget('127.0.0.1:5090'), '100'), 'sip:100@127.0.0.1:5090');
  assert.equal(targetUri(parseTarget('127.0.0.1:5090;transport=tcp'), '100'), 'sip:100@127.0.0.1:5090;transport=tcp');
  assert.equal(targetUri(parseTarget('127.0.0.1:5090')), 'sip:127.0.0.1:5090');
});

test('uriUser takes the user part of sip and sips URIs only', () => {
  assert.equal(uriUser('sip:service@127.0.0.1:5060'), 'service');
  assert.equal(uriUser('sips:+15551234567@gw.example.com;user=phone'), '+15551234567');
  assert.equal(uriUser('sip:127.0.0.1:5060'), undefined);
  assert.equal(uriUser('tel:+15551234567'), undefined);
});

test('startB2bua refuses a bad target before it opens any connection', async () => {
  await assert.rejects(
    startB2bua({ engine: { host: '127.0.0.1', port: 9, secret: 's' }, target: 'nowhere' }),
    { code: 'ERR_B2BUA_TARGET_INVALID' },
  );
});

test('a TLS target gives a sips: B-leg URI that names its transport', () => {
  const t = parseTarget('carrier.example.com:5061;transport=tls');
  assert.deepEqual(t, { host: 'carrier.example.com', port: 5061, transport: 'tls' });
  assert.equal(targetUri(t, '+15551234567'), 'sips:+15551234567@carrier.example.com:5061;transport=tls');
});
