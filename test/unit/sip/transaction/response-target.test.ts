import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseMessage } from '../../../../src/sip/message/index.js';
import type { SipRequest } from '../../../../src/sip/message/types.js';
import { responseTarget } from '../../../../src/sip/transaction/index.js';

const parsed = parseMessage(Buffer.from([
  'OPTIONS sip:gw@127.0.0.1:5070 SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.9:5099;branch=z9hG4bKrt1;rport;maddr=198.51.100.1',
  'Max-Forwards: 70', 'From: <sip:a@192.0.2.9>;tag=1', 'To: <sip:gw@127.0.0.1>', 'Call-ID: rt1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
].join('\r\n')));
if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('the test request does not parse');
const request: SipRequest = parsed.message;

test('a UDP response goes to the packet\'s source from the listener the request came in on (RFC 3581 §4), never to a maddr', () => {
  const flow = { protocol: 'udp' as const, localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.7', remotePort: 40001, listenerId: 'tenant-udp' };
  assert.deepEqual(responseTarget(request, flow), { protocol: 'udp', address: '127.0.0.7', port: 40001, listenerId: 'tenant-udp' });
  const { listenerId: _, ...anyListener } = flow;
  assert.deepEqual(responseTarget(request, anyListener), { protocol: 'udp', address: '127.0.0.7', port: 40001 });
});

const over = (transport: string, sentBy: string): SipRequest => {
  const via = `SIP/2.0/${transport} ${sentBy};branch=z9hG4bKrt2`;
  return { ...request, headers: request.headers.map((h) => (h.name === 'via' ? { ...h, value: via } : h)) };
};

test('a TCP response goes back over the connection the request came on; once it is closed, to the Via sent-by port (RFC 3261 §18.2.2)', () => {
  const flow = { protocol: 'tcp' as const, localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.7', remotePort: 40002, connectionId: 'c9', listenerId: 'tcp-1' };
  // The connection's id comes first (src/sip/transport/stream-connector.ts); the port is where a new connection goes.
  assert.deepEqual(responseTarget(over('TCP', '192.0.2.9:5099'), flow), { protocol: 'tcp', address: '127.0.0.7', port: 5099, connectionId: 'c9' });
});

test('a stream response with no port in its Via sent-by goes to the transport\'s default port, never the client\'s ephemeral one', () => {
  const tcp = { protocol: 'tcp' as const, localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.7', remotePort: 40003, connectionId: 'c10' };
  assert.deepEqual(responseTarget(over('TCP', 'client.example'), tcp), { protocol: 'tcp', address: '127.0.0.7', port: 5060, connectionId: 'c10' });
  const tls = { ...tcp, protocol: 'tls' as const, connectionId: 'c11' };
  assert.deepEqual(responseTarget(over('TLS', 'client.example'), tls), { protocol: 'tls', address: '127.0.0.7', port: 5061, connectionId: 'c11' });
});
