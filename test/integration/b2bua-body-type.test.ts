import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { answer, header, sdp, ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';

// An INVITE whose SDP comes in a multipart body (SDP and ISUP, as a SIP-T gateway sends them), over the real engine and
// drachtio-srf: createB2BUA would give the B leg the body without its type, so it is refused at once with 415 and
// Accept: application/sdp, which tells such a caller to offer plain SDP; no trunk is tried.

test('an INVITE with a multipart body gets 415 with Accept: application/sdp and a Reason; the trunk gets nothing; one CDR', async (t) => {
  const capture = await ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ')) self.send(answer(msg, '200 OK', self.port, sdp), from);
  });
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'body-type-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const policy: B2buaPolicy = {
    tenants: { pbx: { transport: 'udp' }, lab: { transport: 'udp', sipServer: `127.0.0.1:${capture.port}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^5\\d{6}$'] }],
    dialPeers: [{ id: 'lab', destinationPattern: '^5\\d{6}$', tenant: 'lab' }],
  };
  const { log, cdrs } = captureLog();
  const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 'body-type-secret' }, policy, log });
  t.after(() => app.close());

  const caller = await ua(t);
  const body = ['--b1', 'Content-Type: application/sdp', '', sdp, '--b1', 'Content-Type: application/isup;version=itu-t92+', '', 'ISUP', '--b1--', ''].join('\r\n');
  caller.send([`INVITE sip:5551234@127.0.0.1:${sipPort} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKbody1;rport`,
    'Max-Forwards: 70', 'From: <sip:1000@127.0.0.1>;tag=b1', `To: <sip:5551234@127.0.0.1:${sipPort}>`, `Call-ID: body-type-${process.pid}`,
    'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${caller.port}>`, 'Content-Type: multipart/mixed;boundary=b1',
    `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'), sipPort);
  const final = await caller.next(/^SIP\/2\.0 [2-6]\d\d /);
  assert.match(final, /^SIP\/2\.0 415 /, final);
  assert.equal(header(final, 'Accept'), 'application/sdp');
  assert.match(header(final, 'Reason'), /^SIP;cause=415;text="Only application\/sdp is relayed/);
  for (let i = 0; i < 50 && cdrs.length === 0; i++) await new Promise((ok) => setTimeout(ok, 20));
  assert.deepEqual([cdrs[0]?.status, cdrs[0]?.cause, cdrs[0]?.attempts], [415, 'unsupported-body', 0]);
  assert.deepEqual(capture.received.filter((m) => m.startsWith('INVITE ')), [], 'the trunk got no INVITE');
});
