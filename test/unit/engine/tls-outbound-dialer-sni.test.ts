import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundDialer } from '../../../src/engine/outbound-dialer.js';

// An app dialled over TLS gets its host name as SNI; an address is never sent as one (RFC 6066 §3).

test('a TLS route to a host name sends that name as SNI', () => {
  assert.deepEqual(OutboundDialer.parseUri('app.example:9022;transport=tls'), { host: 'app.example', port: 9022, tls: { servername: 'app.example' } });
});

test('a TLS route to an IPv4 or IPv6 address sends no SNI and still dials TLS', () => {
  for (const [uri, host] of [['192.0.2.5:9022;transport=tls', '192.0.2.5'], ['[2001:db8::5]:9022;transport=tls', '2001:db8::5']] as const) {
    const t = OutboundDialer.parseUri(uri);
    assert.ok(t?.tls, uri);
    assert.equal(t.host, host);
    assert.equal(t.tls.servername, undefined, uri);
  }
});

test('a TCP route has no TLS options', () => {
  assert.deepEqual(OutboundDialer.parseUri('192.0.2.5:9022'), { host: '192.0.2.5', port: 9022 });
});
