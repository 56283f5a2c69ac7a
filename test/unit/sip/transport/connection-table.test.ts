import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTable, outboundKey, type ConnectionEntry, type ConnectionInfo } from '../../../../src/sip/transport/connection-table.js';

function entry(id: string, over: Partial<ConnectionInfo> = {}, reuseKey?: string): ConnectionEntry {
  const info: ConnectionInfo = {
    id, protocol: 'tls', direction: 'outbound', state: 'open', localAddress: '127.0.0.1', localPort: 5061,
    remoteAddress: '127.0.0.2', remotePort: 5062, createdAt: 0, lastActivityAt: 0, bytesIn: 0, bytesOut: 0,
    messagesIn: 0, messagesOut: 0, ...over,
  };
  return { info, reuseKey };
}

test('outbound TLS keys differ by profile and by SNI; TCP keys ignore both', () => {
  assert.notEqual(outboundKey('tls', '1.2.3.4', 5061, 'a', 'x.example'), outboundKey('tls', '1.2.3.4', 5061, 'b', 'x.example'));
  assert.notEqual(outboundKey('tls', '1.2.3.4', 5061, 'a', 'x.example'), outboundKey('tls', '1.2.3.4', 5061, 'a', 'y.example'));
  assert.notEqual(outboundKey('tls', '1.2.3.4', 5061, 'a'), outboundKey('tls', '1.2.3.4', 5061, 'a', 'x.example'));
  assert.equal(outboundKey('tcp', '1.2.3.4', 5060, 'a', 'x'), outboundKey('tcp', '1.2.3.4', 5060));
});

test('byKey finds only open connections made for that key', () => {
  const t = new ConnectionTable();
  const k = outboundKey('tls', '127.0.0.2', 5062, 'p1', 'sbc.example');
  const e = entry(t.nextId('tls'), {}, k);
  t.add(e);
  assert.equal(t.byKey(k), e);
  assert.equal(t.byKey(outboundKey('tls', '127.0.0.2', 5062, 'p2', 'sbc.example')), undefined);
  e.info.state = 'closing';
  assert.equal(t.byKey(k), undefined);
  t.remove(e);
  assert.equal(t.size, 0);
  assert.equal(t.get(e.info.id), undefined);
});

test('inbound lists open inbound connections from one address and port, newest first', () => {
  const t = new ConnectionTable();
  const a = entry('tcp-1', { protocol: 'tcp', direction: 'inbound' });
  const b = entry('tcp-2', { protocol: 'tcp', direction: 'inbound' });
  const out = entry('tcp-3', { protocol: 'tcp', direction: 'outbound' }, outboundKey('tcp', '127.0.0.2', 5062));
  const other = entry('tcp-4', { protocol: 'tcp', direction: 'inbound', remotePort: 9 });
  for (const e of [a, b, out, other]) t.add(e);
  assert.deepEqual(t.inbound('tcp', '127.0.0.2', 5062).map((e) => e.info.id), ['tcp-2', 'tcp-1']);
  assert.deepEqual(t.inbound('tls', '127.0.0.2', 5062), []);
  b.info.state = 'closed';
  assert.deepEqual(t.inbound('tcp', '127.0.0.2', 5062).map((e) => e.info.id), ['tcp-1']);
});

test('list returns copies that callers cannot use to change the table', () => {
  const t = new ConnectionTable();
  const e = entry('tls-1', { tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, identities: ['dns:a'] } });
  t.add(e);
  const [row] = t.list();
  row!.bytesIn = 99;
  row!.tls!.identities.push('dns:b');
  assert.equal(e.info.bytesIn, 0);
  assert.deepEqual(e.info.tls!.identities, ['dns:a']);
});

test('removing a replaced entry does not drop its replacement', () => {
  const t = new ConnectionTable();
  const k = outboundKey('tcp', '127.0.0.2', 5062);
  const old = entry('tcp-1', { protocol: 'tcp' }, k);
  const neu = entry('tcp-2', { protocol: 'tcp' }, k);
  t.add(old);
  t.add(neu);
  t.remove(old);
  assert.equal(t.byKey(k), neu);
});
